/**
 * Durability: a worker SIGKILLed with agents in progress (the agents live on; after the heartbeat
 * timeout the next worker adopts them instead of starting them again), a worker shut down
 * gracefully (the next one adopts at once), and a new projectRun after
 * the old one was terminated (it adopts the agent runs that are alive and resumes, first, the
 * features whose agent run is gone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProcessAlive } from '../../src/supervisor/index.ts';
import {
  agentRunsOf,
  agentStartsIn,
  decodePayload,
  featureRows,
  installPassAudit,
  liveAgentProcesses,
  maxOverlap,
  passCounts,
  queryStatus,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';

const t = withTemporal({ startWorker: false });

test('worker SIGKILLed mid-run: the run completes on a new worker, agents adopted, none started twice', async () => {
  await installPassAudit(t.db);
  const project = await t.seedProject(
    [
      { id: 1, name: 'outlives the heartbeat timeout' },
      { id: 2, name: 'ends while no worker runs' },
      { id: 3, name: 'fails while no worker runs' },
      { id: 4, name: 'after 1', dependencies: [1] },
    ],
    { base: 'crash' },
  );
  const crashed = await t.startWorkerProcess();
  const handle = await t.startRun(project, {
    concurrency: 3,
    maxRetries: 3,
    simulate: {
      default: { action: 'pass', delayMs: 200 },
      // Longer than the 5 s heartbeat timeout (and the new worker's start), so the retried activity finds it alive.
      features: {
        1: { action: 'pass', delayMs: 40_000 },
        2: { action: 'pass', delayMs: 4000 },
        3: { action: 'pass', delayMs: 4000, failAttempts: 1 },
      },
    },
  });
  const before = await waitUntil('three agents recorded', async () => {
    const runs = await agentRunsOf(t.db, project);
    return runs.length === 3 && runs.every((r) => r.pid) && runs;
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  crashed.process.kill('SIGKILL');
  await crashed.exited;
  for (const r of before) assert.ok(isProcessAlive(r.pid!), `agent of #${r.feature_id} outlives its worker`);

  const worker = await t.startWorker();
  const result = await waitForResult(handle, 120_000);
  assert.equal(result.outcome, 'complete', result.message);
  assert.equal(result.counts.passing, 4);

  const runs = await agentRunsOf(t.db, project, 'coding');
  const byFeature = (id: number) => runs.filter((r) => r.feature_id === id);
  // Adopted, not restarted: same agent run, same process, started once.
  for (const id of [1, 2]) {
    const [only, ...more] = byFeature(id);
    assert.equal(more.length, 0, `#${id} has one agent run`);
    assert.equal(only?.outcome, 'passed');
    assert.equal(only?.pid, before.find((r) => r.feature_id === id)?.pid, `#${id} kept its process`);
    assert.equal(agentStartsIn(only!.log_path!), 1, `#${id}'s agent started once`);
  }
  // #1 was still running when the retried activity (attempt 2, on the new worker) took it over.
  const events = (await t.client.workflow.getHandle(byFeature(1)[0]!.id).fetchHistory()).events ?? [];
  const attempts = events.flatMap((e) =>
    e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
  );
  // The first activity picks the host; superviseAgent's result is the one that says `adopted`.
  const exit = events
    .flatMap((e) => (e.activityTaskCompletedEventAttributes ? [e.activityTaskCompletedEventAttributes] : []))
    .map((done) => decodePayload(done.result?.payloads?.[0]) as { adopted?: boolean } | undefined)
    .find((result) => result !== undefined && 'adopted' in result);
  assert.ok(attempts.includes(2), `superviseAgent was retried (attempts ${attempts.join(',')})`);
  assert.equal(exit?.adopted, true, '#1 was adopted alive');
  // #3's first attempt failed while no worker ran: the exit was read from its status file and
  // counted, and the retry is a new agent run (attempt 2).
  assert.deepEqual(
    byFeature(3).map((r) => [r.attempt, r.outcome, r.exit_code]),
    [
      [1, 'failed', 1],
      [2, 'passed', 0],
    ],
  );
  assert.equal((await featureRows(t.db, project)).find((f) => f.id === 3)?.failure_count, 1);
  for (const id of [1, 2, 3, 4]) assert.equal(maxOverlap(byFeature(id)), 1, `#${id} never ran twice at once`);
  assert.deepEqual(
    await passCounts(t.db, project),
    [
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ],
    'each feature passed once',
  );
  assert.deepEqual(liveAgentProcesses(project), []);
  await worker.stop();
});

test('a new run after the old one was terminated adopts live agents and resumes the others first', async () => {
  const worker = await t.startWorker();
  const project = await t.seedProject(
    [1, 2, 3, 4].map((id) => ({ id, name: `f${id}` })),
    { base: 'rerun' },
  );
  const settings = {
    concurrency: 2,
    pollIntervalMs: 500,
    simulate: {
      default: { action: 'pass' as const, delayMs: 300 },
      features: { 1: { action: 'pass' as const, delayMs: 5000 }, 2: { action: 'hang' as const, delayMs: 0 } },
    },
  };
  const first = await t.startRun(project, settings);
  const started = await waitUntil('two agents recorded', async () => {
    const runs = await agentRunsOf(t.db, project);
    return runs.length === 2 && runs.every((r) => r.pid) && runs;
  });
  const run1 = started.find((r) => r.feature_id === 1);
  const run2 = started.find((r) => r.feature_id === 2);
  // The run dies; so does #2's agent run (its tree is killed when the activity hears of it).
  await first.terminate('test: the run is lost');
  await t.client.workflow.getHandle(run2!.id).terminate('test: this agent run is lost');
  await waitUntil('#2 agent killed', () => !isProcessAlive(run2!.pid!), { timeoutMs: 15_000 });

  const second = await t.startRun(project, {
    ...settings,
    simulate: { default: { action: 'pass', delayMs: 300 }, features: { 1: { action: 'pass', delayMs: 5000 } } },
  });
  const status = await waitUntil('the new run adopted #1', async () => {
    const s = await queryStatus(second);
    return s.running.some((a) => a.workflowId === run1!.id) && s;
  });
  assert.ok(['resuming', 'running'].includes(status.phase));
  const result = await waitForResult(second);
  assert.equal(result.outcome, 'complete', result.message);

  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.deepEqual(
    runs.filter((r) => r.feature_id === 1).map((r) => [r.id, r.outcome]),
    [[run1!.id, 'passed']],
    '#1 adopted, not restarted',
  );
  const resumed = runs.filter((r) => r.feature_id === 2);
  // (The terminated agent run recorded no outcome: terminate skips the workflow's own cleanup.)
  assert.deepEqual(
    resumed.map((r) => r.attempt),
    [1, 2],
  );
  assert.equal(resumed[1]?.outcome, 'passed');
  // Resume first: #2 started again before any feature the first run had not started.
  const fresh = runs.filter((r) => r.feature_id === 3 || r.feature_id === 4);
  // The adopted agent counts against the concurrency of the new run (the lost run's #2 never ended).
  assert.equal(maxOverlap(runs.filter((r) => r.ended_at)), 2, 'never more than concurrency (2) agents');
  assert.ok(
    fresh.every((r) => r.started_at > resumed[1]!.started_at),
    'the resumed feature started before new work',
  );
  assert.equal(result.agentsStarted, 3, 'the new run started #2 again, #3 and #4');
  await worker.stop();
});

test('worker shut down gracefully mid-run: agents keep running and the next worker adopts them at once', async () => {
  const project = await t.seedProject(
    [1, 2, 3].map((id) => ({ id, name: `f${id}` })),
    { base: 'restart' },
  );
  const first = await t.startWorker();
  const handle = await t.startRun(project, {
    concurrency: 3,
    simulate: { default: { action: 'pass', delayMs: 6000 } },
  });
  const before = await waitUntil('three agents recorded', async () => {
    const runs = await agentRunsOf(t.db, project);
    return runs.length === 3 && runs.every((r) => r.pid) && runs;
  });
  await first.stop();
  for (const r of before) assert.ok(isProcessAlive(r.pid!), `agent of #${r.feature_id} outlives the shutdown`);
  const second = await t.startWorker();
  const result = await waitForResult(handle, 60_000);
  assert.equal(result.outcome, 'complete', result.message);
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.deepEqual(
    runs.map((r) => [r.feature_id, r.pid, r.outcome]).sort(),
    before.map((r) => [r.feature_id, r.pid, 'passed']).sort(),
    'same agents, adopted',
  );
  for (const r of runs) assert.equal(agentStartsIn(r.log_path!), 1);
  await second.stop();
});
