/**
 * The run's isolation flags against real repositories: the default rule and the reason printed,
 * the dirty check (exit 2 naming the files, nothing changed), the untracked warning, --branch,
 * and command lines split by shell quoting without a shell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolationFromFlags, parseDuration, splitCommand, type IsolationFlags } from '../../src/cli/isolation-flags.ts';
import { UserError } from '../../src/errors.ts';
import { execFile } from 'node:child_process';
import { repoRoot } from '../features/run-cli.ts';
import { makeRepo, run, write } from './repo.ts';

const flags = (extra: Partial<IsolationFlags> = {}): IsolationFlags => ({
  allowDirty: false,
  worktreeCopy: [],
  verifyTimeout: '10m',
  keepBranches: false,
  review: false,
  ...extra,
});

test('splitCommand: shell quoting rules, no shell: operators, globs and substitutions are refused', () => {
  assert.deepEqual(splitCommand('--verify-cmd', 'npm test'), ['npm', 'test']);
  assert.deepEqual(splitCommand('--verify-cmd', `node -e "console.log('a b')" 'x y' $HOME`), [
    'node',
    '-e',
    "console.log('a b')",
    'x y',
    '$HOME',
  ]);
  for (const bad of ['npm test && rm -rf /', 'make | tee log', 'ls *.ts', 'a; b', 'echo > out', '']) {
    assert.throws(() => splitCommand('--verify-cmd', bad), UserError, bad);
  }
  assert.throws(() => splitCommand('--verify-cmd', 'npm test && rm -rf /'), /without a shell.*"&&"/);
});

test('parseDuration: units, bare seconds, and the range', () => {
  assert.equal(parseDuration('--verify-timeout', '10m'), 600_000);
  assert.equal(parseDuration('--verify-timeout', '90'), 90_000);
  assert.equal(parseDuration('--verify-timeout', '1500ms'), 1500);
  for (const bad of ['0', '10x', '25h', 'soon']) assert.throws(() => parseDuration('--verify-timeout', bad), UserError);
});

test('the default is worktree in a git repository with a commit, shared elsewhere, and run says why', async () => {
  const repo = makeRepo();
  const chosen = await isolationFromFlags(flags({ verifyCmd: 'npm test' }), repo);
  assert.equal(chosen.isolation?.mode, 'worktree');
  assert.equal(chosen.isolation?.branch, 'main');
  assert.deepEqual(chosen.isolation?.verifyCmd, ['npm', 'test']);
  assert.equal(chosen.isolation?.verifyTimeoutMs, 600_000);
  assert.match(chosen.notes[0] ?? '', /isolation: worktree.*--isolation shared/);

  const plain = mkdtempSync(join(tmpdir(), 'ac-plain-'));
  const shared = await isolationFromFlags(flags(), plain);
  assert.equal(shared.isolation, undefined);
  assert.match(shared.notes[0] ?? '', /isolation: shared.*not in a git work tree/);
  await assert.rejects(isolationFromFlags(flags({ isolation: 'worktree' }), plain), /needs a git repository/);
  await assert.rejects(isolationFromFlags(flags({ isolation: 'sideways' }), repo), /--isolation must be one of/);
  assert.equal((await isolationFromFlags(flags({ isolation: 'shared' }), repo)).isolation, undefined);
});

test('--branch names the integration branch; an unknown one or a detached HEAD is refused', async () => {
  const repo = makeRepo();
  run(repo, 'branch', 'integration');
  assert.equal((await isolationFromFlags(flags({ branch: 'integration' }), repo)).isolation?.branch, 'integration');
  await assert.rejects(isolationFromFlags(flags({ branch: 'nope' }), repo), /--branch "nope" is not a branch/);
  run(repo, 'checkout', '--quiet', '--detach');
  await assert.rejects(isolationFromFlags(flags(), repo), /detached HEAD/);
});

test('uncommitted tracked changes are refused unless --allow-dirty; untracked files get a warning', async () => {
  const repo = makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
  write(repo, 'a.txt', 'changed\n');
  await assert.rejects(isolationFromFlags(flags(), repo), /uncommitted changes to tracked files: a\.txt/);
  assert.equal((await isolationFromFlags(flags({ allowDirty: true }), repo)).isolation?.mode, 'worktree');
  run(repo, 'checkout', '--', 'a.txt');
  write(repo, '.env', 'SECRET=1');
  const warned = await isolationFromFlags(flags({ worktreeCopy: ['.env'] }), repo);
  assert.match(warned.notes[1] ?? '', /warning: 1 untracked file\(s\) will not be in the worktrees: \.env/);
  await assert.rejects(isolationFromFlags(flags({ worktreeCopy: ['../x'] }), repo), /inside the project dir/);
});

test('autocoder run in a dirty project dir: exit 2 naming the files, nothing changed', async () => {
  const repo = makeRepo({ 'a.txt': 'a\n' });
  write(repo, 'a.txt', 'changed\n');
  const home = mkdtempSync(join(tmpdir(), 'ac-dirty-home-'));
  const features = join(home, 'features.json');
  writeFileSync(features, JSON.stringify([{ id: 1, name: 'one' }]));
  const before = run(repo, 'status', '--porcelain=v1');
  const runCli = (args: string[]) =>
    new Promise<{ exitCode: number; stderr: string }>((resolve) =>
      execFile(
        join(repoRoot, 'bin/autocoder'),
        args,
        { env: { ...process.env, AUTOCODER_HOME: home } },
        (error, _out, stderr) =>
          resolve({ exitCode: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stderr }),
      ),
    );
  const result = await runCli(['run', repo, '--features', features, '--agent', 'simulate']);
  assert.equal(result.exitCode, 2, result.stderr);
  assert.match(result.stderr, /uncommitted changes to tracked files: a\.txt/);
  assert.match(result.stderr, /--allow-dirty/);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(run(repo, 'status', '--porcelain=v1'), before);
  assert.deepEqual(readdirSync(home).sort(), ['features.json'], 'no state written');
  const bad = await runCli(['run', repo, '--allow-dirty', '--verify-cmd', 'npm test && echo ok']);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /--verify-cmd is run as one command without a shell/);
});

test("--repo must reach the project dir's repository; it is made absolute, and shared isolation refuses it", async () => {
  const repo = makeRepo();
  const clone = join(mkdtempSync(join(tmpdir(), 'ac-bare-')), 'project.git');
  run(repo, 'clone', '--quiet', '--bare', repo, clone);
  const chosen = await isolationFromFlags(flags({ repo: clone }), repo);
  assert.equal(chosen.isolation?.repo, clone);
  assert.match(chosen.notes.join('\n'), new RegExp(`other hosts fetch from and push feature branches to ${clone}`));
  // Behind the project dir: not the same repository state, so another host would work from old code.
  write(repo, 'later.txt', 'x\n');
  run(repo, 'add', '--all');
  run(repo, 'commit', '--quiet', '-m', 'later');
  await assert.rejects(isolationFromFlags(flags({ repo: clone }), repo), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.match(
      err.message,
      /--repo ".*project\.git" is not the project dir's repository: its main is at \w{12}, the project dir's at \w{12}/,
    );
    return true;
  });
  await assert.rejects(
    isolationFromFlags(flags({ repo: join(tmpdir(), 'no-such-repo-here') }), repo),
    /git cannot reach it/,
  );
  await assert.rejects(
    isolationFromFlags(flags({ repo: '--upload-pack=touch /tmp/x' }), repo),
    /must be a git URL or path/,
  );
  await assert.rejects(
    isolationFromFlags(flags({ isolation: 'shared', repo: clone }), repo),
    /--repo .* needs worktree isolation/,
  );
});
