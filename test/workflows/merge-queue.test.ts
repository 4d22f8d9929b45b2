/**
 * Worktree isolation end to end, against real git, real processes, Postgres and Temporal: twelve
 * features at concurrency 4, pairs of them editing the same line (certain conflicts, resolved by
 * the resolver agent), landed by the merge queue in dependency order; a verify command that
 * fails one feature, which then never lands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureEntry } from '../../src/db/import.ts';
import { listFeatures } from '../../src/db/features.ts';
import { execFile } from 'node:child_process';
import { agentRunsOf, repoRoot, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';
import { approveFeatureUpdate, mergeStatusQuery } from '../../src/workflows/merge-messages.ts';
import { mergeQueueId } from '../../src/workflows/run-ids.ts';
import { commitAll, run, worktreeIsolation } from '../git/repo.ts';

const t = withTemporal({ name: 'merge-queue' });
const agentScript = join(repoRoot, 'test/fixtures/agents/git-agent.ts');

/** The project dir as a git repository on main, with the files the features edit. */
function initRepo(dir: string, files: Record<string, string>): void {
  run(dir, 'init', '--quiet', '--initial-branch=main');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  commitAll(dir, 'initial');
}

const subjects = (dir: string): string[] => run(dir, 'log', '--reverse', '--format=%s', 'main').trim().split('\n');

test('12 features at concurrency 4: conflicts resolved, dependency order, linear history, nothing left behind', async () => {
  const features: FeatureEntry[] = [
    { id: 1, name: 'pair a left' },
    { id: 2, name: 'pair a right' },
    { id: 3, name: 'pair b left' },
    { id: 4, name: 'pair b right' },
    { id: 5, name: 'five', dependencies: [1] },
    { id: 6, name: 'six', dependencies: [2, 3] },
    { id: 7, name: 'seven', dependencies: [5] },
    { id: 8, name: 'eight', dependencies: [6] },
    { id: 9, name: 'nine', dependencies: [4] },
    { id: 10, name: 'ten', dependencies: [7, 8] },
    { id: 11, name: 'eleven' },
    { id: 12, name: 'twelve', dependencies: [9, 10] },
  ];
  const projectId = await t.seedProject(features, { base: 'wt' });
  const dir = t.projectDir(projectId);
  initRepo(dir, { 'pair-a.txt': 'top\nMIDDLE\nbottom\n', 'pair-b.txt': 'top\nMIDDLE\nbottom\n' });
  const plan: Record<string, { file: string; text: string; commit?: boolean; sleepMs?: number }> = {
    '1': { file: 'pair-a.txt', text: 'top\nfrom feature 1\nbottom\n', sleepMs: 300 },
    '2': { file: 'pair-a.txt', text: 'top\nfrom feature 2\nbottom\n', sleepMs: 300 },
    '3': { file: 'pair-b.txt', text: 'top\nfrom feature 3\nbottom\n', sleepMs: 300 },
    '4': { file: 'pair-b.txt', text: 'top\nfrom feature 4\nbottom\n', sleepMs: 300, commit: false },
  };
  const planPath = join(t.stateDir, `${projectId}-plan.json`);
  writeFileSync(planPath, JSON.stringify(plan));

  const result = await t.runToEnd(
    projectId,
    {
      agent: 'command',
      agentCmd: [process.execPath, agentScript, planPath],
      concurrency: 4,
      isolation: worktreeIsolation({ verifyCmd: ['git', 'diff', '--quiet', 'HEAD'] }),
    },
    180_000,
  );
  assert.equal(result.outcome, 'complete', result.message);
  const listed = await listFeatures(t.db, projectId);
  assert.deepEqual(
    listed.filter((f) => f.state !== 'passing').map((f) => [f.id, f.state, f.lastError]),
    [],
  );

  assert.equal(run(dir, 'rev-list', '--merges', '--count', 'main').trim(), '0', 'linear history');
  const log = subjects(dir);
  const position = (id: number) => log.findIndex((s) => s.startsWith(`feature #${id}:`));
  for (const f of features) {
    assert.ok(position(f.id) > 0, `feature #${f.id} has a commit on main: ${log.join(' | ')}`);
    for (const dep of f.dependencies ?? []) assert.ok(position(dep) < position(f.id), `#${dep} lands before #${f.id}`);
  }
  const pairA = readFileSync(join(dir, 'pair-a.txt'), 'utf8');
  const pairB = readFileSync(join(dir, 'pair-b.txt'), 'utf8');
  for (const id of [1, 2]) assert.match(pairA, new RegExp(`from feature ${id}`));
  for (const id of [3, 4]) assert.match(pairB, new RegExp(`from feature ${id}`));
  for (const id of [5, 6, 7, 8, 9, 10, 11, 12]) assert.ok(existsSync(join(dir, `feature-${id}.txt`)), `#${id}'s file`);
  assert.match(log.join('\n'), /feature #4: pair b right/, 'what #4 left uncommitted was committed for it, by name');

  const resolvers = await agentRunsOf(t.db, projectId, 'merge');
  assert.ok(resolvers.length >= 2, `a resolver ran for each conflicting pair (${resolvers.length})`);
  assert.ok(resolvers.every((r) => r.outcome === 'passed'));

  assert.equal(run(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length, 1, 'no worktree left');
  assert.equal(run(dir, 'branch', '--list', 'autocoder/*').trim(), '', 'no autocoder/* branch left');
  run(dir, 'fsck', '--strict', '--no-progress');
  assert.equal(run(dir, 'status', '--porcelain').trim(), '', 'the project dir checkout is at the integration head');
});

test('a feature whose verify fails never lands; it fails after its retries with verify_failed', async () => {
  const projectId = await t.seedProject(
    [
      { id: 1, name: 'good' },
      { id: 2, name: 'bad' },
    ],
    { base: 'wtv' },
  );
  const dir = t.projectDir(projectId);
  initRepo(dir, { 'README.md': 'x\n' });
  writeFileSync(
    join(dir, 'verify.mjs'),
    "import { existsSync } from 'node:fs';\nprocess.exit(existsSync('feature-2.txt') ? 1 : 0);\n",
  );
  commitAll(dir, 'verify script');
  const planPath = join(t.stateDir, `${projectId}-plan.json`);
  writeFileSync(planPath, '{}');
  const result = await t.runToEnd(
    projectId,
    {
      agent: 'command',
      agentCmd: [process.execPath, agentScript, planPath],
      concurrency: 2,
      maxRetries: 2,
      isolation: worktreeIsolation({ verifyCmd: [process.execPath, 'verify.mjs'] }),
    },
    120_000,
  );
  assert.equal(result.outcome, 'failed', result.message);
  const [good, bad] = await listFeatures(t.db, projectId, { maxRetries: 2 });
  assert.equal(good?.state, 'passing');
  assert.equal(bad?.state, 'failed');
  assert.match(bad?.lastError ?? '', /^verify_failed: [\s\S]*exited 1/);
  assert.ok(existsSync(join(dir, 'feature-1.txt')));
  assert.equal(existsSync(join(dir, 'feature-2.txt')), false);
  assert.doesNotMatch(run(dir, 'log', '--format=%s', 'main'), /feature #2/);
  assert.match(
    run(dir, 'branch', '--list', 'autocoder/*'),
    new RegExp(`autocoder/${projectId}/2`),
    'its branch is kept',
  );

  // What an operator sees and cleans: the kept branch's diff, the list, and prune.
  const diff = await cli(['diff', projectId, '2']);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /feature-2\.txt/);
  const missing = await cli(['diff', projectId, '1']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no branch autocoder\//);
  const listed = JSON.parse(
    (await cli(['worktrees', 'list', projectId, '--json', '--max-retries', '2'])).stdout,
  ) as Array<{
    featureId: number;
    state: string;
    path: string | null;
  }>;
  assert.deepEqual(
    listed.map((w) => [w.featureId, w.state, w.path !== null]),
    [[2, 'failed', true]],
  );
  assert.match((await cli(['worktrees', 'prune', projectId, '--max-retries', '2'])).stdout, /nothing to prune/);
  const pruned = await cli(['worktrees', 'prune', projectId, '--failed', '--max-retries', '2']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(run(dir, 'branch', '--list', 'autocoder/*').trim(), '');
  assert.equal(run(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length, 1);
});

test('--review: nothing lands before approve; reject sends the reason to the next agent', async () => {
  const projectId = await t.seedProject([{ id: 1, name: 'reviewed' }], { base: 'wtr' });
  const dir = t.projectDir(projectId);
  initRepo(dir, { 'README.md': 'x\n' });
  const planPath = join(t.stateDir, `${projectId}-plan.json`);
  writeFileSync(planPath, '{}');
  const handle = await t.startRun(projectId, {
    agent: 'command',
    agentCmd: [process.execPath, agentScript, planPath],
    concurrency: 1,
    isolation: worktreeIsolation({ review: true }),
  });
  const queue = t.client.workflow.getHandle(mergeQueueId(projectId));
  const inReview = () =>
    waitUntil('feature #1 in review', async () => {
      const s = await queue.query(mergeStatusQuery);
      return s.current?.featureId === 1 && s.current.step === 'reviewing' ? s : null;
    });
  await inReview();
  assert.equal(existsSync(join(dir, 'feature-1.txt')), false, 'not landed before approve');
  const status = await cli(['status', projectId, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const shown = JSON.parse(status.stdout) as {
    counts: { merging: number };
    settings: { isolation: string; worktree: { review: boolean } };
    mergeQueue: { current: { featureId: number; step: string } };
  };
  assert.equal(shown.counts.merging, 1);
  assert.deepEqual(shown.mergeQueue.current, { featureId: 1, step: 'reviewing' });
  assert.equal(shown.settings.isolation, 'worktree');
  assert.equal(shown.settings.worktree.review, true);
  assert.match((await cli(['status', projectId])).stdout, /merge queue: #1 reviewing \(autocoder approve /);
  await assert.rejects(queue.executeUpdate(approveFeatureUpdate, { args: [2] }), (err: Error) =>
    /not waiting for review/.test(String(err.cause)),
  );
  // Through the CLI, as an operator does.
  const rejected = await cli(['reject', projectId, '1', '--reason', 'add a header line']);
  assert.equal(rejected.code, 0, rejected.stderr);
  await waitUntil('attempt 2 in review', async () => {
    const s = await queue.query(mergeStatusQuery);
    return s.current?.step === 'reviewing' && s.sentBack === 1;
  });
  const second = (await agentRunsOf(t.db, projectId, 'coding')).find((r) => r.attempt === 2);
  assert.match(readFileSync(second?.log_path ?? '', 'utf8'), /review note: add a header line/);
  assert.equal(existsSync(join(dir, 'feature-1.txt')), false);
  const approved = await cli(['approve', projectId, '1']);
  assert.equal(approved.code, 0, approved.stderr);
  const result = await waitForResult(handle, 60_000);
  assert.equal(result.outcome, 'complete', result.message);
  assert.ok(existsSync(join(dir, 'feature-1.txt')));
  const [feature] = await listFeatures(t.db, projectId);
  assert.equal(feature?.failureCount, 0, 'a rejection is not a failure');
});

/** The real CLI against this file's stack. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      join(repoRoot, 'bin/autocoder'),
      args,
      {
        env: {
          ...process.env,
          DATABASE_URL: t.databaseUrl,
          TEMPORAL_ADDRESS: t.stack.address,
          TEMPORAL_NAMESPACE: t.stack.namespace,
          AUTOCODER_HOME: t.stateDir,
          AUTOCODER_TASK_QUEUE: t.taskQueue,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    ),
  );
}

test('testing agents work in a detached worktree of the integration head, removed when they end', async () => {
  const projectId = await t.seedProject(
    [1, 2, 3, 4].map((id) => ({ id, name: `f${id}`, dependencies: id > 1 ? [id - 1] : [] })),
    { base: 'wtt' },
  );
  const dir = t.projectDir(projectId);
  initRepo(dir, { 'README.md': 'x\n' });
  const planPath = join(t.stateDir, `${projectId}-plan.json`);
  writeFileSync(planPath, JSON.stringify({ '1': { file: 'f1.txt', text: '1\n', sleepMs: 500 } }));
  const result = await t.runToEnd(projectId, {
    agent: 'command',
    agentCmd: [process.execPath, agentScript, planPath],
    concurrency: 1,
    testingRatio: 1,
    isolation: worktreeIsolation(),
  });
  assert.equal(result.outcome, 'complete', result.message);
  const testers = (await agentRunsOf(t.db, projectId, 'testing')).filter((r) => r.outcome === 'passed');
  assert.ok(testers.length > 0, 'a testing agent ran');
  for (const r of testers) {
    const log = readFileSync(r.log_path ?? '', 'utf8');
    const cwd = /cwd (\S+),/.exec(log)?.[1] ?? '';
    assert.match(cwd, new RegExp(`/worktrees/${projectId}/testing-\\d+-\\d+$`), log);
    assert.match(log, /testing at [0-9a-f]{40} \(detached\)/);
    assert.equal(existsSync(cwd), false, `${cwd} removed`);
  }
  assert.equal(run(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length, 1);
});
