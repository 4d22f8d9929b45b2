/**
 * Continue-as-new in a long run with children still running: the run carries its running agents
 * across the new run (children are ABANDONed and report by workflow ID), so every feature runs
 * once and the chain completes; operator state (concurrency, pause, held features) and requests
 * (stop) survive it. The knob `continueAsNewAfterPasses` forces it early.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pauseSignal,
  resumeSignal,
  setConcurrencyUpdate,
  stopFeatureSignal,
  stopSignal,
  type CarriedState,
} from '../../src/workflows/messages.ts';
import {
  agentRunsOf,
  childStarts,
  liveAgentProcesses,
  maxOverlap,
  queryStatus,
  runChain,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';

const t = withTemporal();

test('continue-as-new with children running: the chain completes, each feature runs once', async () => {
  const features = Array.from({ length: 12 }, (_, i) => ({
    id: i + 1,
    name: `f${i + 1}`,
    dependencies: i >= 6 ? [i - 5] : [],
  }));
  const project = await t.seedProject(features, { base: 'can' });
  const handle = await t.startRun(project, {
    concurrency: 3,
    pollIntervalMs: 500,
    continueAsNewAfterPasses: 2,
    simulate: { default: { action: 'pass', delayMs: [600, 1500] } },
  });
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'complete', result.message);
  assert.equal(result.counts.passing, 12);

  const chain = await runChain(t.client, handle.workflowId, handle.firstExecutionRunId);
  assert.ok(chain.length >= 3, `expected several runs in the chain, got ${chain.length}`);
  const carriedRunning = chain.map((r) => (r.input.carried as CarriedState | undefined)?.running.length ?? 0);
  assert.ok(
    carriedRunning.some((n) => n > 0),
    `some run must start with agents still running: ${carriedRunning.join(',')}`,
  );

  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.deepEqual(
    runs.map((r) => r.feature_id).sort((a, b) => a! - b!),
    features.map((f) => f.id),
    'one agent run per feature',
  );
  assert.ok(runs.every((r) => r.outcome === 'passed'));
  assert.equal(result.agentsStarted, 12);
});

test('operator state survives continue-as-new: concurrency, pause, held features', async () => {
  const project = await t.seedProject(
    [1, 2, 3, 4, 5].map((id) => ({ id, name: `f${id}` })),
    { base: 'can-state' },
  );
  const handle = await t.startRun(project, {
    concurrency: 1,
    pollIntervalMs: 300,
    continueAsNewAfterPasses: 1,
    simulate: { default: { action: 'pass', delayMs: 800 }, features: { 5: { action: 'hang', delayMs: 0 } } },
  });
  await waitUntil('first agent', async () => (await agentRunsOf(t.db, project)).length >= 1);
  await handle.executeUpdate(setConcurrencyUpdate, { args: [2] });
  await handle.signal(pauseSignal);
  const pausedAt = (await queryStatus(handle)).continuedAsNew;
  const paused = await waitUntil(
    'two more runs while paused',
    async () => {
      const s = await queryStatus(handle);
      return s.continuedAsNew >= pausedAt + 2 && s.running.length === 0 && s;
    },
    { timeoutMs: 20_000 },
  );
  assert.equal(paused.paused, true);
  assert.equal(paused.settings.concurrency, 2);
  const startedWhilePaused = (await agentRunsOf(t.db, project)).length;
  // Two more runs of the chain that began with no agent running: each ran a scheduling pass
  // (every pass ends in continue-as-new here) with free slots and ready features, and started
  // nothing.
  const idle = paused.continuedAsNew + 1;
  await waitUntil(
    'two more runs after the agents ended',
    async () => (await queryStatus(handle)).continuedAsNew >= idle + 2,
    {
      timeoutMs: 20_000,
    },
  );
  const chain = await runChain(t.client, handle.workflowId, handle.firstExecutionRunId);
  const idleRuns = chain.filter((r) => {
    const n = (r.input.carried as CarriedState | undefined)?.continuedAsNew ?? 0;
    return n >= idle && n < idle + 2;
  });
  assert.equal(idleRuns.length, 2);
  for (const run of idleRuns) {
    const events = run.history.events ?? [];
    assert.ok(
      events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes,
      'the run ended in a pass that continued as new',
    );
    assert.deepEqual(childStarts(events), [], 'still nothing starts');
  }
  assert.equal((await agentRunsOf(t.db, project)).length, startedWhilePaused, 'still nothing starts');

  await handle.signal(stopFeatureSignal, 5);
  await handle.signal(resumeSignal);
  const result = await waitForResult(handle);
  // #5 was held by stopFeature before it ever started, across every later run of the chain.
  assert.equal(result.outcome, 'blocked', result.message);
  assert.match(result.message, /#5 was stopped by an operator/);
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.deepEqual(runs.map((r) => r.feature_id).sort(), [1, 2, 3, 4]);
  assert.equal(maxOverlap(runs), 2);
});

test('a stop arriving while a pass ends in continue-as-new is not lost', async () => {
  // One feature runs (hangs) and the others wait on it, so every pass calls the scheduler (free
  // slots) and every run of the chain ends in continue-as-new right after: a stop lands in the
  // middle of such a pass most of the time.
  const project = await t.seedProject(
    [{ id: 1, name: 'hangs' }, ...[2, 3, 4].map((id) => ({ id, name: `needs 1 (${id})`, dependencies: [1] }))],
    { base: 'can-stop' },
  );
  for (let i = 0; i < 3; i++) {
    const handle = await t.startRun(project, {
      concurrency: 3,
      pollIntervalMs: 100,
      continueAsNewAfterPasses: 1,
      simulate: { features: { 1: { action: 'hang', delayMs: 0 } } },
    });
    await waitUntil('a few runs in the chain', async () => (await queryStatus(handle)).continuedAsNew >= 3, {
      timeoutMs: 20_000,
    });
    await handle.signal(stopSignal);
    const result = await waitForResult(handle, 20_000);
    assert.equal(result.outcome, 'stopped');
    assert.deepEqual(liveAgentProcesses(project), []);
  }
});
