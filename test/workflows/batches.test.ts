/**
 * Batches on real Temporal + Postgres with simulated agents (real processes): several features per
 * coding agent (--batch-size) and per testing agent (--testing-batch-size), each feature with its
 * own outcome. Which features an agent had is read from its log: the simulate agent writes one
 * "[Feature #N] simulated <kind> agent" line per feature, in the order it works on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AgentRunRow } from '../../src/db/tables.ts';
import {
  drainSignal,
  setBatchSizeUpdate,
  setTestingBatchSizeUpdate,
  stopFeatureSignal,
  stopSignal,
} from '../../src/workflows/messages.ts';
import {
  agentRunsOf,
  featureRows,
  installPassAudit,
  passTimes,
  queryStatus,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';

const t = withTemporal({ name: 'batches' });

/** The features an agent run worked on, in its order (from the simulate agent's log). */
function featuresOf(run: AgentRunRow, kind: 'coding' | 'testing' = 'coding'): number[] {
  if (!run.log_path) return [];
  const pattern = new RegExp(`^\\[Feature #(\\d+)\\] simulated ${kind} agent`, 'gm');
  return [...readFileSync(run.log_path, 'utf8').matchAll(pattern)].map((m) => Number(m[1]));
}

test('--batch-size 3 on a 20-feature chain at concurrency 3: ~7 agent runs, all pass, dependencies first', async () => {
  await installPassAudit(t.db);
  const features = Array.from({ length: 20 }, (_, i) => ({
    id: i + 1,
    name: `f${i + 1}`,
    dependencies: i > 0 ? [i] : [],
  }));
  const project = await t.seedProject(features, { base: 'chain20' });
  const result = await t.runToEnd(
    project,
    { concurrency: 3, batchSize: 3, testingRatio: 0, simulate: { default: { action: 'pass', delayMs: 50 } } },
    180_000,
  );
  assert.equal(result.outcome, 'complete', result.message);
  assert.equal(result.counts.passing, 20);
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.ok(runs.length >= 7 && runs.length <= 8, `expected about 7 agent runs, got ${runs.length}`);
  assert.equal(result.agentsStarted, runs.length);
  const passed = await passTimes(t.db, project);
  const seen = new Set<number>();
  for (const run of runs) {
    const batch = featuresOf(run);
    assert.ok(batch.length >= 1 && batch.length <= 3, `${run.id}: ${batch.join(',')}`);
    assert.equal(batch[0], run.feature_id, 'the run is named after its first feature');
    for (const id of batch) {
      seen.add(id);
      const dep = id - 1;
      if (dep < 1) continue;
      const depAt = passed.get(dep);
      const at = passed.get(id);
      assert.ok(depAt && at && depAt <= at, `#${id} passed before its dependency #${dep}`);
      // A dependency outside the batch passed before the agent started; inside it, it comes first.
      if (batch.includes(dep)) assert.ok(batch.indexOf(dep) < batch.indexOf(id), `#${dep} after #${id} in ${batch}`);
      else assert.ok(depAt < run.started_at, `${run.id} started before #${dep} passed`);
    }
  }
  assert.equal(seen.size, 20);
});

test('an agent that passes 2 of 3 and exits: the third is pending with one attempt, the other two pass', async () => {
  const features = [1, 2, 3].map((id) => ({ id, name: `f${id}`, dependencies: id > 1 ? [id - 1] : [] }));
  const project = await t.seedProject(features, { base: 'two-of-three' });
  const run = await t.startRun(project, {
    batchSize: 3,
    testingRatio: 0,
    simulate: {
      default: { action: 'pass', delayMs: 400 },
      features: { '3': { action: 'exit0-no-pass', delayMs: 400 } },
    },
  });
  const status = await waitUntil('the batch running', async () => {
    const s = await queryStatus(run);
    return s.running.length === 1 && s;
  });
  // status gives each running agent its features; nothing new starts after this agent.
  assert.deepEqual(status.running[0]!.featureIds, [1, 2, 3]);
  await run.signal(drainSignal);
  const result = await waitForResult(run);
  assert.equal(result.outcome, 'drained', result.message);
  const rows = new Map((await featureRows(t.db, project)).map((f) => [f.id, f]));
  assert.equal(rows.get(1)!.passes, true);
  assert.equal(rows.get(2)!.passes, true);
  const third = rows.get(3)!;
  assert.equal(third.passes, false);
  assert.equal(third.in_progress, false, 'back to pending');
  assert.equal(third.claimed_by, null);
  // One attempt and one failure from the batch. The batch's own end may also have claimed #3 again
  // for the run (the handoff, attempt 2), which the draining run gave back unstarted.
  assert.equal(third.failure_count, 1);
  assert.ok(third.attempts === 1 || third.attempts === 2, `attempts ${third.attempts}`);
  assert.match(third.last_error ?? '', /feature #3/);
  assert.equal(rows.get(1)!.failure_count + rows.get(2)!.failure_count, 0);
  assert.deepEqual(
    result.failures.map((f) => [f.featureId, f.count]),
    [[3, 1]],
  );
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.id, `autocoder/${project}/coding/1/1`);
});

test('stopFeature on one feature of a batch stops its agent; the others go back to pending without a failure', async () => {
  const features = [1, 2, 3].map((id) => ({ id, name: `f${id}`, category: 'ui', dependencies: [] }));
  const project = await t.seedProject(features, { base: 'stop-in-batch' });
  const run = await t.startRun(project, {
    batchSize: 3,
    testingRatio: 0,
    simulate: { default: { action: 'pass', delayMs: 100 }, features: { '2': { action: 'hang', delayMs: 0 } } },
  });
  const batchRunId = `autocoder/${project}/coding/1/1`;
  await waitUntil('feature 1 passed and the agent works on #2', async () => {
    const rows = await featureRows(t.db, project);
    return rows.find((f) => f.id === 1)?.passes === true;
  });
  const status = await queryStatus(run);
  assert.deepEqual(status.running[0]?.featureIds, [1, 2, 3], 'one agent, filled by category');
  await run.signal(stopFeatureSignal, 3);
  const stopped = await waitUntil('the batch stopped', async () => {
    const runs = await agentRunsOf(t.db, project, 'coding');
    return runs.find((r) => r.id === batchRunId && r.outcome !== null);
  });
  assert.equal(stopped.outcome, 'stopped');
  const rows = new Map((await featureRows(t.db, project)).map((f) => [f.id, f]));
  assert.equal(rows.get(1)!.passes, true, 'what it marked stays passing');
  assert.equal(rows.get(2)!.failure_count, 0);
  assert.equal(rows.get(3)!.failure_count, 0);
  assert.equal(rows.get(3)!.in_progress, false, 'the stopped feature is held, not claimed');
  const after = await waitUntil('#2 claimed again without #3', async () => {
    const s = await queryStatus(run);
    return s.running.length === 1 && s.running[0]!.featureId === 2 && s;
  });
  assert.deepEqual(after.held, [3]);
  assert.deepEqual(after.running[0]!.featureIds, [2], 'a held feature joins no batch');
  await run.signal(stopSignal);
  assert.equal((await waitForResult(run)).outcome, 'stopped');
});

test('testing batches: weighted, up to the testing batch size, and no feature is tested twice at once', async () => {
  const passing = Array.from({ length: 7 }, (_, i) => ({
    id: i + 1,
    name: `p${i + 1}`,
    passes: true,
    dependencies: i > 0 ? [1] : [],
  }));
  const project = await t.seedProject([...passing, { id: 8, name: 'slow', dependencies: [] }], {
    base: 'test-batches',
  });
  const run = await t.startRun(project, {
    concurrency: 1,
    testingRatio: 3,
    testingBatchSize: 2,
    simulate: {
      features: { '8': { action: 'pass', delayMs: 6000 } },
      testing: { action: 'pass', delayMs: 300 },
    },
  });
  const result = await waitForResult(run);
  assert.equal(result.outcome, 'complete', result.message);
  const testers = (await agentRunsOf(t.db, project, 'testing')).filter((r) => r.ended_at);
  assert.ok(testers.length >= 6, `expected several testing agents, got ${testers.length}`);
  const batches = testers.map((r) => ({ run: r, ids: featuresOf(r, 'testing') }));
  assert.ok(batches.every((b) => b.ids.length >= 1 && b.ids.length <= 2));
  assert.ok(
    batches.some((b) => b.ids.length === 2),
    'some testing agent had two features',
  );
  for (const a of batches) {
    for (const b of batches) {
      if (a === b) continue;
      const overlap = a.run.started_at < b.run.ended_at! && b.run.started_at < a.run.ended_at!;
      if (!overlap) continue;
      const shared = a.ids.filter((id) => b.ids.includes(id));
      assert.deepEqual(shared, [], `${a.run.id} and ${b.run.id} tested ${shared.join(',')} at once`);
    }
  }
  // The original's weighting: #1 (six passing dependents) is in the first pass's batches.
  assert.ok(
    batches.slice(0, 3).some((b) => b.ids[0] === 1),
    batches.map((b) => b.ids.join('+')).join(' '),
  );
});

test('setBatchSize and setTestingBatchSize: validated live updates, kept across continue-as-new', async () => {
  const project = await t.seedProject([{ id: 1, name: 'slow', dependencies: [] }], { base: 'set-batch' });
  const run = await t.startRun(project, {
    testingRatio: 0,
    continueAsNewAfterPasses: 2,
    simulate: { default: { action: 'pass', delayMs: 3000 } },
  });
  const settings = await run.executeUpdate(setBatchSizeUpdate, { args: [3] });
  assert.equal(settings.batchSize, 3);
  assert.equal((await run.executeUpdate(setTestingBatchSizeUpdate, { args: [5] })).testingBatchSize, 5);
  for (const [update, bad] of [
    [setBatchSizeUpdate, 4],
    [setBatchSizeUpdate, 0],
    [setTestingBatchSizeUpdate, 6],
    [setTestingBatchSizeUpdate, 1.5],
  ] as const) {
    await assert.rejects(run.executeUpdate(update, { args: [bad] }), (err: Error & { cause?: Error }) =>
      /^(batchSize|testingBatchSize) must be an integer in 1\.\.[35], got /.test(err.cause?.message ?? ''),
    );
  }
  const continued = await waitUntil('continued as new', async () => {
    const s = await queryStatus(run);
    return s.continuedAsNew > 0 && s;
  });
  assert.equal(continued.settings.batchSize, 3);
  assert.equal(continued.settings.testingBatchSize, 5);
  assert.equal((await waitForResult(run)).outcome, 'complete');
});
