/**
 * A batch under worktree isolation, against real git, simulated agents (real processes),
 * Postgres and Temporal: one worktree and one branch per batch, named after its first feature;
 * the features the agent marks are merging until that branch lands, as one entry of the merge
 * queue, and then pass in dependency order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFeatures } from '../../src/db/features.ts';
import { agentRunsOf, waitUntil, withTemporal, waitForResult } from '../support/temporal.ts';
import { commitAll, run, worktreeIsolation } from '../git/repo.ts';

const t = withTemporal({ name: 'batches-worktree' });

test('worktree isolation: a batch works on its first feature’s branch and lands as one merge-queue entry', async () => {
  const features = [
    { id: 1, name: 'one' },
    { id: 2, name: 'two', dependencies: [1] },
    { id: 3, name: 'three', dependencies: [2] },
    { id: 4, name: 'four', dependencies: [3] },
  ];
  const projectId = await t.seedProject(features, { base: 'wt-batch' });
  const dir = t.projectDir(projectId);
  run(dir, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(dir, 'README.md'), 'batch\n');
  commitAll(dir, 'initial');

  const started = await t.startRun(projectId, {
    batchSize: 3,
    concurrency: 1,
    testingRatio: 0,
    simulate: { default: { action: 'pass', delayMs: 200 } },
    isolation: worktreeIsolation(),
  });
  // While the batch's features wait in the queue, only the first feature's branch exists.
  const merging = await waitUntil('the batch merging or landed', async () => {
    const listed = await listFeatures(t.db, projectId);
    return listed.filter((f) => f.id <= 3).every((f) => f.state === 'merging' || f.state === 'passing') && listed;
  });
  assert.ok(merging.length === 4);
  assert.equal(run(dir, 'branch', '--list', `autocoder/${projectId}/2`, `autocoder/${projectId}/3`).trim(), '');

  const result = await waitForResult(started, 180_000);
  assert.equal(result.outcome, 'complete', result.message);
  const coding = await agentRunsOf(t.db, projectId, 'coding');
  assert.deepEqual(
    coding.map((r) => r.id),
    [`autocoder/${projectId}/coding/1/1`, `autocoder/${projectId}/coding/4/1`],
  );
  const landed = await t.db
    .selectFrom('feature_events')
    .select(['feature_id', 'detail'])
    .where('project_id', '=', projectId)
    .where('action', '=', 'landed')
    .orderBy('id')
    .execute();
  assert.deepEqual(
    landed.map((e) => e.feature_id),
    [1, 2, 3, 4],
    'the batch passes in dependency order, then #4',
  );
  const commits = landed.map((e) => (e.detail as { commit: string }).commit);
  assert.equal(new Set(commits.slice(0, 3)).size, 1, 'one landing for the whole batch');
  assert.notEqual(commits[3], commits[0]);
  for (const id of [1, 2, 3, 4]) assert.ok(existsSync(join(dir, 'simulated', `feature-${id}.md`)), `#${id} on main`);
  const subjects = run(dir, 'log', '--reverse', '--format=%s', 'main').trim().split('\n');
  assert.ok(
    subjects.some((s) => s.startsWith('feature #1:')),
    subjects.join(' | '),
  );
  assert.equal(run(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length, 1, 'no worktree left');
  assert.equal(run(dir, 'branch', '--list', 'autocoder/*').trim(), '', 'no autocoder/* branch left');
  const rows = await t.db
    .selectFrom('features')
    .select(['id', 'merge_with'])
    .where('project_id', '=', projectId)
    .execute();
  assert.ok(rows.every((r) => r.merge_with === null));
});
