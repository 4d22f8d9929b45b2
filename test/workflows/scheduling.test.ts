/**
 * Scheduling on real Temporal + Postgres with simulated agents: dependency order (chain, diamond),
 * a 60-feature DAG at concurrency 3 (dependencies pass first, never more than 3 at once), testing
 * agents (only passing features, claims released), the total agent cap, and the search
 * attributes and summaries the UI shows. The start order is in order.test.ts. Pass times come
 * from a trigger (installPassAudit): agent_runs only says when an agent started and ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureEntry } from '../../src/db/import.ts';
import type { AgentRunRow } from '../../src/db/tables.ts';
import { toEntries } from '../db/seed.ts';
import { layeredFeatures } from '../graph/layered-dag.ts';
import { searchAttributes } from '../../src/workflows/search-attributes.ts';
import {
  agentRunsOf,
  decodePayload,
  featureRows,
  installPassAudit,
  maxOverlap,
  passTimes,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';

const t = withTemporal();

/** Every coding run started after each of its feature's dependencies had passed. */
async function assertDependenciesPassedFirst(
  projectId: string,
  features: readonly FeatureEntry[],
  runs: readonly AgentRunRow[],
): Promise<void> {
  const passed = await passTimes(t.db, projectId);
  const deps = new Map(features.map((f) => [f.id, f.dependencies ?? []]));
  for (const run of runs) {
    for (const dep of deps.get(run.feature_id!) ?? []) {
      const at = passed.get(dep);
      assert.ok(
        at && at < run.started_at,
        `#${run.feature_id} started at ${run.started_at.toISOString()} before its dependency #${dep} passed (${at?.toISOString() ?? 'never'})`,
      );
    }
  }
}

test('chain: each feature starts only after the one before it passed; runs are listed by project and labelled', async () => {
  await installPassAudit(t.db);
  const features = [1, 2, 3, 4].map((id) => ({ id, name: `f${id}`, dependencies: id > 1 ? [id - 1] : [] }));
  const project = await t.seedProject(features, { base: 'chain' });
  const result = await t.runToEnd(project, { concurrency: 3, simulate: { default: { action: 'pass', delayMs: 100 } } });
  assert.equal(result.outcome, 'complete', result.message);
  assert.deepEqual(result.counts, {
    total: 4,
    passing: 4,
    running: 0,
    pending: 0,
    blocked: 0,
    failed: 0,
    merging: 0,
    needs_human_input: 0,
  });
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.deepEqual(
    runs.map((r) => r.feature_id),
    [1, 2, 3, 4],
  );
  assert.equal(maxOverlap(runs), 1, 'a chain never has two agents at once');
  await assertDependenciesPassedFirst(project, features, runs);

  // The UI lists the agent runs by project and kind, and labels them "coding #2 f2".
  const listed = await waitUntil(
    'agent runs visible by search attribute',
    async () => {
      const found: string[] = [];
      for await (const wf of t.client.workflow.list({
        query: `AutocoderProject = '${project}' AND AutocoderKind = 'coding'`,
      }))
        found.push(wf.workflowId);
      return found.length === 4 && found;
    },
    { timeoutMs: 10_000, intervalMs: 300 },
  );
  assert.deepEqual(listed.sort(), runs.map((r) => r.id).sort());
  const child = await t.client.workflow.getHandle(runs[1]!.id).describe();
  assert.equal(await child.staticSummary(), 'coding #2 f2');
  assert.equal(child.typedSearchAttributes.get(searchAttributes.feature), 2);
  const scheduled = ((await t.client.workflow.getHandle(runs[1]!.id).fetchHistory()).events ?? []).find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'superviseAgent',
  );
  // The supervision's summary also names the host its agent runs on.
  assert.match(String(decodePayload(scheduled?.userMetadata?.summary)), /^coding #2 f2 on \S+$/);
});

test('diamond: the two middle features run together, the last waits for both', async () => {
  await installPassAudit(t.db);
  const features = [
    { id: 1, name: 'top' },
    { id: 2, name: 'left', dependencies: [1] },
    { id: 3, name: 'right', dependencies: [1] },
    { id: 4, name: 'bottom', dependencies: [2, 3] },
  ];
  const project = await t.seedProject(features, { base: 'diamond' });
  const result = await t.runToEnd(project, {
    concurrency: 3,
    simulate: { default: { action: 'pass', delayMs: 1000 } },
  });
  assert.equal(result.outcome, 'complete', result.message);
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.equal(runs[0]?.feature_id, 1);
  assert.deepEqual(
    runs
      .slice(1, 3)
      .map((r) => r.feature_id)
      .sort(),
    [2, 3],
  );
  assert.equal(runs[3]?.feature_id, 4);
  assert.equal(maxOverlap(runs), 2, 'left and right ran at the same time');
  await assertDependenciesPassedFirst(project, features, runs);
});

test('a 60-feature DAG at concurrency 3: dependencies pass first, never more than 3 agents', async () => {
  await installPassAudit(t.db);
  const features = toEntries(
    layeredFeatures(60, { layers: 8, seed: 3 }).map((f) => ({ ...f, passes: false, inProgress: false })),
  );
  const project = await t.seedProject(features, { base: 'dag60' });
  const result = await t.runToEnd(
    project,
    { concurrency: 3, simulate: { default: { action: 'pass', delayMs: [50, 400] } } },
    240_000,
  );
  assert.equal(result.outcome, 'complete', result.message);
  assert.equal(result.counts.passing, 60);
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.equal(runs.length, 60, 'each feature ran once');
  assert.equal(maxOverlap(runs), 3);
  await assertDependenciesPassedFirst(project, features, runs);
});

test('testing agents claim only passing features, at most testingRatio at once, and release them', async () => {
  await installPassAudit(t.db);
  const features = [1, 2, 3, 4, 5].map((id) => ({ id, name: `f${id}`, dependencies: id > 1 ? [id - 1] : [] }));
  const project = await t.seedProject(features, { base: 'testing' });
  const result = await t.runToEnd(project, {
    concurrency: 1,
    testingRatio: 2,
    simulate: { default: { action: 'pass', delayMs: 1200 }, testing: { action: 'pass', delayMs: 300 } },
  });
  assert.equal(result.outcome, 'complete', result.message);
  const testers = await agentRunsOf(t.db, project, 'testing');
  assert.ok(testers.length >= 2, `testing agents ran (${testers.length})`);
  const passed = await passTimes(t.db, project);
  for (const r of testers) {
    const at = passed.get(r.feature_id!);
    assert.ok(at && at < r.started_at, `tester of #${r.feature_id} started after it passed`);
    assert.equal(r.outcome, 'passed');
    const sameFeature = testers.filter((o) => o.feature_id === r.feature_id);
    assert.equal(maxOverlap(sameFeature), 1, `#${r.feature_id} had one tester at a time`);
  }
  assert.ok(maxOverlap(testers) <= 2, 'at most testingRatio testers at once');
  const rows = await featureRows(t.db, project);
  assert.ok(
    rows.every((f) => f.testing_claimed_by === null),
    'every testing claim released',
  );
  assert.ok(rows.some((f) => f.last_tested_at !== null));
});

test('the total agent cap holds for coding and testing agents together', async () => {
  const project = await t.seedProject(
    [
      ...[1, 2, 3, 4, 5].map((id) => ({ id, name: `f${id}` })),
      ...[6, 7, 8].map((id) => ({ id, name: `passed before f${id}`, passes: true })),
    ],
    { base: 'cap' },
  );
  const result = await t.runToEnd(project, {
    concurrency: 2,
    testingRatio: 3,
    maxAgents: 3,
    simulate: { default: { action: 'pass', delayMs: 1000 }, testing: { action: 'pass', delayMs: 1000 } },
  });
  assert.equal(result.outcome, 'complete', result.message);
  const runs = await agentRunsOf(t.db, project);
  assert.ok(
    runs.some((r) => r.kind === 'testing'),
    'testers ran',
  );
  assert.ok(maxOverlap(runs) <= 3, `at most maxAgents (3) agents at once, saw ${maxOverlap(runs)}`);
  assert.ok(maxOverlap(runs.filter((r) => r.kind === 'coding')) <= 2);
});
