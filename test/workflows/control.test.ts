/**
 * Operators drive a run: stop, stopFeature/retryFeature, drain, pause/resume, setConcurrency and
 * refresh,
 * on real Temporal + Postgres with simulated agents (real processes). Each test checks the run's
 * outcome and what really happened: agent_runs rows (database clock), feature claims, and the
 * processes still alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  drainSignal,
  type AgentReport,
  pauseSignal,
  refreshSignal,
  resumeSignal,
  retryFeatureSignal,
  setConcurrencyUpdate,
  stopFeatureSignal,
  stopSignal,
} from '../../src/workflows/messages.ts';
import { markFeature } from '../../src/db/features.ts';
import { isProcessAlive } from '../../src/supervisor/index.ts';
import {
  agentRunsOf,
  childStarts,
  firstTimerAfter,
  dbNow,
  decodePayload,
  featureRows,
  liveAgentProcesses,
  maxOverlap,
  queryStatus,
  runningAt,
  signalsIn,
  waitForHandled,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';

const t = withTemporal();

test('stop kills every agent tree (hang, deaf to SIGTERM, grandchildren, tester) and releases every claim', async () => {
  const features = [1, 2, 3, 4].map((id) => ({ id, name: `f${id}` }));
  const project = await t.seedProject([...features, { id: 5, name: 'already passing', passes: true }], {
    base: 'stop',
  });
  const handle = await t.startRun(project, {
    concurrency: 3,
    testingRatio: 1,
    simulate: {
      features: {
        1: { action: 'hang', delayMs: 0 },
        2: { action: 'ignore-sigterm', delayMs: 0 },
        3: { action: 'grandchildren', delayMs: 0 },
      },
      testing: { action: 'hang', delayMs: 0 },
    },
  });
  const runs = await waitUntil('three coding agents and a tester recorded', async () => {
    const r = await agentRunsOf(t.db, project);
    return r.length === 4 && r;
  });
  // The grandchildren (one in a session of its own) exist once the agent said so.
  const grandparent = runs.find((r) => r.feature_id === 3)!;
  await waitUntil('#3 spawned its grandchildren', () =>
    readFileSync(grandparent.log_path!, 'utf8').includes('spawned grandchildren'),
  );
  assert.ok(liveAgentProcesses(project).length >= 4 + 2, 'every agent, and the grandchildren, are alive');
  const claimed = await featureRows(t.db, project);
  assert.equal(claimed.filter((f) => f.in_progress).length, 3);
  assert.equal(
    claimed
      .filter((f) => f.testing_claimed_by !== null)
      .map((f) => f.id)
      .join(),
    '5',
    'the tester claimed the passing feature',
  );

  await handle.signal(stopSignal);
  // Bounded: the kill must not wait for a throttled heartbeat (the SDK's default throttle is 24 s here).
  const result = await waitForResult(handle, 15_000);
  assert.equal(result.outcome, 'stopped');
  assert.deepEqual(liveAgentProcesses(project), [], 'no process of any agent tree is left');
  for (const r of runs) assert.equal(isProcessAlive(r.pid!), false, `agent pid ${r.pid} is dead`);
  const rows = await featureRows(t.db, project);
  assert.deepEqual(
    rows.filter((f) => f.in_progress || f.claimed_by !== null || f.testing_claimed_by !== null).map((f) => f.id),
    [],
    'no claim is left',
  );
  assert.ok(
    rows.every((f) => f.failure_count === 0),
    'a stop costs no feature an attempt',
  );
  const ended = await agentRunsOf(t.db, project);
  assert.deepEqual(
    ended.map((r) => r.outcome),
    ['stopped', 'stopped', 'stopped', 'stopped'],
  );
});

test('stopFeature stops only that agent; the feature is held until retryFeature', async () => {
  const project = await t.seedProject(
    [1, 2, 3].map((id) => ({ id, name: `f${id}` })),
    { base: 'stopfeature' },
  );
  const handle = await t.startRun(project, {
    concurrency: 3,
    pollIntervalMs: 500,
    simulate: {
      features: {
        1: { action: 'pass', delayMs: 2500 },
        2: { action: 'pass', delayMs: 9000 },
        3: { action: 'pass', delayMs: 9000 },
      },
    },
  });
  const first = await waitUntil('three agents recorded', async () => {
    const r = await agentRunsOf(t.db, project);
    return r.length === 3 && r;
  });
  await handle.signal(stopFeatureSignal, 1);
  const stopped = await waitUntil('agent of #1 ended', async () =>
    (await agentRunsOf(t.db, project)).find((r) => r.feature_id === 1 && r.ended_at),
  );
  assert.equal(stopped.outcome, 'stopped');
  assert.equal(isProcessAlive(stopped.pid!), false);
  for (const r of first.filter((r) => r.feature_id !== 1))
    assert.ok(isProcessAlive(r.pid!), `agent of #${r.feature_id} still runs`);
  const [f1] = (await featureRows(t.db, project)).filter((f) => f.id === 1);
  assert.equal(f1?.in_progress, false, 'its claim is released');
  assert.equal(f1?.failure_count, 0, 'a stop is not a failure');
  assert.equal(f1?.passes, false);

  // Held: the run has settled #1's report, which frees a slot and asks for a scheduling pass (the
  // report of a stopped agent does not say nothing else is ready), and a poll after it has run a
  // pass too; #1 is pending again in the database, so either pass would have claimed it unless it
  // is held.
  const { events } = await waitForHandled(handle, "#1's report and a poll after it", (events) => {
    const report = signalsIn(events, 'agentFinished').find((s) => (s.arg as AgentReport).workflowId === stopped.id);
    return report ? firstTimerAfter(events, report.index) : -1;
  });
  assert.deepEqual(childStarts(events).sort(), first.map((r) => r.id).sort(), 'no agent started after the stop');
  assert.deepEqual((await queryStatus(handle)).held, [1]);
  assert.equal((await agentRunsOf(t.db, project)).filter((r) => r.feature_id === 1).length, 1);
  assert.equal((await featureRows(t.db, project)).find((f) => f.id === 1)?.in_progress, false, '#1 is not claimed');

  await handle.signal(retryFeatureSignal, 1);
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'complete', result.message);
  const runs = await agentRunsOf(t.db, project);
  assert.deepEqual(
    runs.filter((r) => r.feature_id === 1).map((r) => [r.attempt, r.outcome]),
    [
      [1, 'stopped'],
      [2, 'passed'],
    ],
  );
  assert.equal(runs.length, 4);
});

test('drain lets running agents finish and starts nothing new', async () => {
  const project = await t.seedProject(
    [1, 2, 3, 4, 5, 6].map((id) => ({ id, name: `f${id}` })),
    { base: 'drain' },
  );
  const handle = await t.startRun(project, {
    concurrency: 2,
    simulate: { default: { action: 'pass', delayMs: 2000 } },
  });
  await waitUntil('two agents recorded', async () => (await agentRunsOf(t.db, project)).length === 2);
  await handle.signal(drainSignal);
  await waitUntil('phase draining', async () => (await queryStatus(handle)).phase === 'draining');
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'drained', result.message);
  const runs = await agentRunsOf(t.db, project);
  assert.deepEqual(
    runs.map((r) => r.outcome),
    ['passed', 'passed'],
    'the two running agents finished, nothing else started',
  );
  assert.equal(result.counts.passing, 2);
  assert.equal(result.counts.pending, 4);
  assert.ok((await featureRows(t.db, project)).every((f) => !f.in_progress));
});

test('pause keeps running agents and starts none until resume', async () => {
  const project = await t.seedProject(
    [1, 2, 3, 4].map((id) => ({ id, name: `f${id}` })),
    { base: 'pause' },
  );
  const handle = await t.startRun(project, {
    concurrency: 2,
    pollIntervalMs: 500,
    simulate: { default: { action: 'pass', delayMs: 1500 } },
  });
  await waitUntil('two agents recorded', async () => (await agentRunsOf(t.db, project)).length === 2);
  await handle.signal(pauseSignal);
  // Both agents have ended and the run has settled their reports, then a poll: two slots are free,
  // the claims the agents made for the run as they ended (claim-next) are in its hands, and two
  // features are ready. Unpaused, the task that settled the reports, or the poll's, would have
  // started agents.
  const { events } = await waitForHandled(handle, 'both reports and a poll after them', (events) => {
    const reporters = new Map<string, number>();
    for (const s of signalsIn(events, 'agentFinished')) {
      const { workflowId } = s.arg as AgentReport;
      if (!reporters.has(workflowId)) reporters.set(workflowId, s.index);
    }
    return reporters.size >= 2 ? firstTimerAfter(events, Math.max(...reporters.values())) : -1;
  });
  assert.equal(childStarts(events).length, 2, 'no agent started after the pause');
  const paused = await queryStatus(handle);
  assert.equal(paused.paused, true);
  assert.deepEqual(paused.running, []);
  assert.equal((await agentRunsOf(t.db, project)).length, 2, 'nothing started while paused');
  // The claims the two ending agents made for the run (claim-next) were handed back, not left taken.
  assert.deepEqual(
    (await featureRows(t.db, project)).filter((r) => r.in_progress || r.claimed_by).map((r) => r.id),
    [],
    'no feature claimed while paused',
  );

  await handle.signal(resumeSignal);
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'complete', result.message);
  const runs = await agentRunsOf(t.db, project);
  assert.equal(runs.length, 4);
  assert.ok(runs.every((r) => r.outcome === 'passed'));
});

test('setConcurrency up and down mid-run; out of range is rejected before it reaches history', async () => {
  const project = await t.seedProject(
    Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `f${i + 1}` })),
    { base: 'setconc' },
  );
  // maxConcurrency 6: concurrency above the old cap of 5 is accepted up to it, and refused above.
  const handle = await t.startRun(project, {
    concurrency: 1,
    maxConcurrency: 6,
    simulate: { default: { action: 'pass', delayMs: 2000 } },
  });
  await waitUntil('first agent recorded', async () => (await agentRunsOf(t.db, project)).length === 1);

  for (const bad of [0, 7, 2.5]) {
    await assert.rejects(handle.executeUpdate(setConcurrencyUpdate, { args: [bad] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
      const message = String((err.cause as Error | undefined)?.message);
      assert.match(message, new RegExp(`concurrency must be an integer in 1\\.\\.6, got ${bad}`));
      assert.match(message, /run --max-concurrency N/, 'the message names the fix');
      return true;
    });
  }
  const up = await handle.executeUpdate(setConcurrencyUpdate, { args: [6] });
  assert.equal(up.concurrency, 6);
  await waitUntil(
    'six agents at once',
    async () => (await agentRunsOf(t.db, project)).filter((r) => !r.ended_at).length === 6,
    { timeoutMs: 15_000 },
  );

  const down = await handle.executeUpdate(setConcurrencyUpdate, { args: [1] });
  assert.equal(down.concurrency, 1);
  // Agents already running finish; from the moment at most one runs, they run one at a time.
  await waitUntil('one agent at a time', async () => (await queryStatus(handle)).running.length <= 1);
  const oneAtATime = await dbNow(t.db);

  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'complete', result.message);
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.equal(maxOverlap(runs), 6, 'six ran at once after the update up');
  const later = runs.filter((r) => r.started_at > oneAtATime);
  assert.ok(later.length >= 1, 'some agents started after the update down');
  for (const r of later) assert.equal(runningAt(runs, r.started_at), 1, `agent of #${r.feature_id} ran alone`);

  // The rejected updates left no trace in history; the two accepted ones did.
  const events = (await handle.fetchHistory()).events ?? [];
  const accepted = events.flatMap((e) => {
    const args = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads ?? [];
    return args.map((p) => decodePayload(p));
  });
  assert.deepEqual(accepted, [6, 1]);
  assert.equal(events.filter((e) => e.workflowExecutionUpdateRejectedEventAttributes).length, 0);
});

test('refresh wakes the loop at once for a change made outside the run', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'works long' },
      { id: 2, name: 'needs 3', dependencies: [3] },
      { id: 3, name: 'needs 1', dependencies: [1] },
    ],
    { base: 'refresh' },
  );
  // A poll a minute away: only the refresh can start #2 within the test's time.
  const handle = await t.startRun(project, {
    concurrency: 2,
    pollIntervalMs: 60_000,
    simulate: { default: { action: 'pass', delayMs: 0 }, features: { 1: { action: 'hang', delayMs: 0 } } },
  });
  await waitUntil('#1 running', async () => (await agentRunsOf(t.db, project)).length === 1);
  // An operator marks #3 passing by hand (as `autocoder feature pass 3` does), then refreshes.
  await markFeature(t.db, { projectId: project, featureId: 3, passes: true });
  await handle.signal(refreshSignal);
  await waitUntil('#2 started', async () => (await agentRunsOf(t.db, project)).some((r) => r.feature_id === 2), {
    timeoutMs: 10_000,
  });
  await handle.signal(stopSignal);
  assert.equal((await waitForResult(handle, 15_000)).outcome, 'stopped');
  // The refresh, and nothing else, started #2: no timer fired and no other signal came in between
  // #1's start and #2's, and #2 is a decision of the workflow task that handled the refresh.
  const events = (await handle.fetchHistory()).events ?? [];
  const [refresh] = signalsIn(events, 'refresh');
  assert.ok(refresh, 'the refresh signal is in the history');
  const runs = await agentRunsOf(t.db, project);
  const [start1, start2] = [1, 2].map((featureId) => {
    const run = runs.find((r) => r.feature_id === featureId);
    return events.findIndex((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === run?.id);
  }) as [number, number];
  assert.ok(
    start1 >= 0 && start1 < refresh.index && refresh.index < start2,
    `#1 at ${start1}, refresh, then #2 at ${start2}`,
  );
  const between = events.slice(start1 + 1, start2);
  assert.deepEqual(
    between.flatMap((e) =>
      e.timerFiredEventAttributes ? ['timer'] : (e.workflowExecutionSignaledEventAttributes?.signalName ?? []),
    ),
    ['refresh'],
    'only the refresh woke the run',
  );
  // Nothing else could have: the only timers started before #2 are the minute-long poll's.
  const shortTimers = events
    .slice(0, start2)
    .flatMap((e) => {
      const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
      return timeout ? [Number(timeout.seconds ?? 0)] : [];
    })
    .filter((seconds) => seconds < 60);
  assert.deepEqual(shortTimers, [], 'no timer shorter than the poll interval was started');
  const tasksBetween = events
    .slice(refresh.index + 1, start2)
    .filter((e) => e.workflowTaskCompletedEventAttributes).length;
  assert.equal(tasksBetween, 1, '#2 was started by the task that handled the refresh');
});
