/** The git steps of worktree isolation against real repositories, each repeated to prove it idempotent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  abortRebase,
  branchExists,
  commitLeftovers,
  dirtyTrackedFiles,
  ensureDetachedWorktree,
  ensureFeatureWorktree,
  fastForward,
  headOf,
  isMerged,
  listWorktrees,
  rebaseInProgress,
  rebaseOnto,
  removeWorktree,
  repoInfo,
  untrackedFiles,
} from '../../src/git/worktrees.ts';
import { featureBranch, featureOfBranch } from '../../src/git/names.ts';
import { commitAll, makeRepo, run, write } from './repo.ts';

test('repoInfo: usable only at the top level of a work tree with a commit; says why otherwise', async () => {
  const repo = makeRepo();
  assert.deepEqual(await repoInfo(repo), { usable: true, reason: null, branch: 'main' });
  write(repo, 'sub/x.txt', 'x');
  const sub = await repoInfo(join(repo, 'sub'));
  assert.equal(sub.usable, false);
  assert.match(sub.reason ?? '', /not the top level/);
  const plain = mkdtempSync(join(tmpdir(), 'ac-plain-'));
  assert.match((await repoInfo(plain)).reason ?? '', /not in a git work tree/);
  run(plain, 'init', '--quiet');
  assert.match((await repoInfo(plain)).reason ?? '', /no commit yet/);
});

test('dirty tracked files and untracked files are told apart; ignored files are neither', async () => {
  const repo = makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n', '.gitignore': '*.log\n' });
  assert.deepEqual(await dirtyTrackedFiles(repo), []);
  write(repo, 'a.txt', 'changed\n');
  run(repo, 'mv', 'b.txt', 'c.txt');
  write(repo, 'new file.txt', 'n');
  write(repo, 'debug.log', 'ignored');
  assert.deepEqual((await dirtyTrackedFiles(repo)).sort(), ['a.txt', 'c.txt']);
  assert.deepEqual(await untrackedFiles(repo), ['new file.txt']);
});

test('a feature worktree is made from the base once, reused, re-attached, and removed with its branch', async () => {
  const repo = makeRepo();
  const path = join(repo, '..', 'wt', '7');
  const branch = featureBranch('p', 7);
  const base = await headOf(repo, 'main');
  const first = await ensureFeatureWorktree({ repo, path, branch, base });
  assert.equal(first.created, true);
  assert.equal(first.head, base);
  write(path, 'work.txt', 'in progress');
  const again = await ensureFeatureWorktree({ repo, path, branch, base });
  assert.equal(again.created, false, 'a second call (an activity retry) reuses it');
  assert.ok(existsSync(join(path, 'work.txt')), 'and keeps the earlier attempt’s files');
  // A person deleted the directory: the branch is attached again, with its commits.
  await commitLeftovers(path, 'feature #7: work');
  rmSync(path, { recursive: true, force: true });
  const reattached = await ensureFeatureWorktree({ repo, path, branch, base });
  assert.equal(reattached.created, true);
  assert.equal(readFileSync(join(path, 'work.txt'), 'utf8'), 'in progress');
  await removeWorktree({ repo, path, branch, keepBranch: false });
  await removeWorktree({ repo, path, branch, keepBranch: false });
  assert.equal(existsSync(path), false);
  assert.equal(await branchExists(repo, branch), false);
  assert.equal((await listWorktrees(repo)).length, 1);
});

test('commitLeftovers: argv and stdin only (a message full of shell), untracked included, nothing is fine', async () => {
  const repo = makeRepo();
  const path = join(repo, '..', 'wt', '1');
  await ensureFeatureWorktree({ repo, path, branch: 'autocoder/p/1', base: 'main' });
  assert.deepEqual(await commitLeftovers(path, 'feature #1: nothing'), { committed: false });
  write(path, 'src/new.ts', 'export {};\n');
  const message = 'feature #1: $(touch pwned) `rm -rf /` "quotes" \'and\' ; echo';
  assert.deepEqual(await commitLeftovers(path, message), { committed: true });
  assert.equal(run(path, 'log', '-1', '--format=%B').trim(), message);
  assert.equal(existsSync(join(path, 'pwned')), false);
  assert.deepEqual(await commitLeftovers(path, message), { committed: false });
});

test('rebaseOnto: nothing to do when based, a clean rebase, a conflict kept in progress and reported again', async () => {
  const repo = makeRepo({ 'shared.txt': 'one\ntwo\nthree\n' });
  const a = join(repo, '..', 'wt', 'a');
  const b = join(repo, '..', 'wt', 'b');
  await ensureFeatureWorktree({ repo, path: a, branch: 'autocoder/p/1', base: 'main' });
  await ensureFeatureWorktree({ repo, path: b, branch: 'autocoder/p/2', base: 'main' });
  assert.equal((await rebaseOnto(a, 'main')).state, 'rebased');
  write(a, 'shared.txt', 'one\nTWO from a\nthree\n');
  await commitLeftovers(a, 'feature #1');
  write(b, 'shared.txt', 'one\nTWO from b\nthree\n');
  await commitLeftovers(b, 'feature #2');
  const aHead = await headOf(a, 'HEAD');
  assert.equal(await fastForward({ repo, branch: 'main', commit: aHead }), 'moved');
  assert.equal(await fastForward({ repo, branch: 'main', commit: aHead }), 'already');
  assert.equal(readFileSync(join(repo, 'shared.txt'), 'utf8'), 'one\nTWO from a\nthree\n', 'the checkout moved too');
  const conflict = await rebaseOnto(b, 'main');
  assert.equal(conflict.state, 'conflict');
  assert.deepEqual(conflict.state === 'conflict' && conflict.files, ['shared.txt']);
  assert.equal(await rebaseInProgress(b), true);
  const repeated = await rebaseOnto(b, 'main');
  assert.equal(repeated.state, 'conflict', 'a retry sees the rebase in progress, it does not start another');
  // What a resolver does: resolve and continue.
  write(b, 'shared.txt', 'one\nTWO from a and b\nthree\n');
  run(b, 'add', 'shared.txt');
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'rebase', '--continue'], {
    cwd: b,
    env: { ...process.env, GIT_EDITOR: 'true' },
  });
  const done = await rebaseOnto(b, 'main');
  assert.equal(done.state, 'rebased');
  assert.equal(await isMerged(repo, aHead, 'main'), true);
  assert.equal(await fastForward({ repo, branch: 'main', commit: await headOf(b, 'HEAD') }), 'moved');
  assert.equal(run(repo, 'rev-list', '--merges', '--count', 'main').trim(), '0', 'linear history');
});

test('fastForward refuses a commit that is not a descendant; abortRebase is idempotent', async () => {
  const repo = makeRepo({ 'f.txt': '1\n' });
  const path = join(repo, '..', 'wt', 'x');
  await ensureFeatureWorktree({ repo, path, branch: 'autocoder/p/3', base: 'main' });
  write(path, 'f.txt', 'x\n');
  await commitLeftovers(path, 'feature #3');
  write(repo, 'f.txt', 'main moved\n');
  commitAll(repo, 'main moved');
  await assert.rejects(fastForward({ repo, branch: 'main', commit: await headOf(path, 'HEAD') }), /not a fast-forward/);
  assert.equal((await rebaseOnto(path, 'main')).state, 'conflict');
  await abortRebase(path);
  await abortRebase(path);
  assert.equal(await rebaseInProgress(path), false);
});

test('fastForward moves only the ref when the project dir has another branch checked out', async () => {
  const repo = makeRepo();
  run(repo, 'branch', 'integration');
  const path = join(repo, '..', 'wt', '4');
  await ensureFeatureWorktree({ repo, path, branch: 'autocoder/p/4', base: 'integration' });
  write(path, 'four.txt', '4');
  await commitLeftovers(path, 'feature #4');
  const head = await headOf(path, 'HEAD');
  assert.equal(await fastForward({ repo, branch: 'integration', commit: head }), 'moved');
  assert.equal(await headOf(repo, 'integration'), head);
  assert.equal(existsSync(join(repo, 'four.txt')), false, 'main’s checkout is untouched');
});

test('a detached testing worktree of the integration head, made once and removed', async () => {
  const repo = makeRepo();
  const path = join(repo, '..', 'wt', 'testing-1-1');
  const head = await headOf(repo, 'main');
  await ensureDetachedWorktree({ repo, path, commit: head });
  await ensureDetachedWorktree({ repo, path, commit: head });
  const entry = (await listWorktrees(repo)).find((w) => w.path.endsWith('testing-1-1'));
  assert.equal(entry?.detached, true);
  await removeWorktree({ repo, path, branch: null, keepBranch: false });
  assert.equal(existsSync(path), false);
  writeFileSync(join(repo, 'x'), '');
});

test('branch names come from ids and parse back', () => {
  assert.equal(featureBranch('my-app', 12), 'autocoder/my-app/12');
  assert.equal(featureOfBranch('my-app', 'autocoder/my-app/12'), 12);
  assert.equal(featureOfBranch('my-app', 'autocoder/other/12'), null);
  assert.equal(featureOfBranch('my-app', 'autocoder/my-app/12x'), null);
});
