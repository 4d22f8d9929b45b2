/**
 * How runs end: the retry cap with a failing agent, exit 0 without passing counted as an attempt,
 * features that can never become ready (missing dependency, cycle), the initializer, and a bad
 * input given through the Temporal CLI. Real Temporal + Postgres, simulated agents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { findTemporalCli } from '../../src/stack/temporal-cli.ts';
import { retryFeatureSignal } from '../../src/workflows/messages.ts';
import {
  agentRunsOf,
  featureRows,
  liveAgentProcesses,
  queryStatus,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';

const t = withTemporal();
const run = promisify(execFile);

test('retry cap: a failing feature is given up after maxRetries, its dependants are blocked, others go on', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'fine' },
      { id: 2, name: 'always fails' },
      { id: 3, name: 'needs 2', dependencies: [2] },
      { id: 4, name: 'needs 3', dependencies: [3] },
      { id: 5, name: 'fails once, then passes' },
    ],
    { base: 'retry' },
  );
  const result = await t.runToEnd(project, {
    concurrency: 2,
    maxRetries: 2,
    simulate: {
      default: { action: 'pass', delayMs: 100 },
      features: { 2: { action: 'fail', delayMs: 100 }, 5: { action: 'pass', delayMs: 100, failAttempts: 1 } },
    },
  });
  assert.equal(result.outcome, 'blocked', result.message);
  assert.deepEqual(
    result.failures.map((f) => [f.featureId, f.count]),
    [[2, 2]],
  );
  assert.deepEqual(result.blocked.map((b) => b.featureId).sort(), [3, 4]);
  assert.match(result.blocked.find((b) => b.featureId === 3)!.reason, /#3 depends on #2, given up/);
  assert.match(result.message, /#2/);
  assert.deepEqual(result.counts, {
    total: 5,
    passing: 2,
    running: 0,
    pending: 0,
    blocked: 2,
    failed: 1,
    merging: 0,
    needs_human_input: 0,
  });

  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.deepEqual(
    runs.filter((r) => r.feature_id === 2).map((r) => [r.attempt, r.outcome, r.exit_code]),
    [
      [1, 'failed', 1],
      [2, 'failed', 1],
    ],
  );
  assert.deepEqual(
    runs.filter((r) => r.feature_id === 5).map((r) => [r.attempt, r.outcome]),
    [
      [1, 'failed'],
      [2, 'passed'],
    ],
  );
  assert.equal(runs.filter((r) => r.feature_id === 3 || r.feature_id === 4).length, 0, 'dependants never started');
  const f2 = (await featureRows(t.db, project)).find((f) => f.id === 2)!;
  assert.equal(f2.failure_count, 2, 'the failure count is durable');
  assert.equal(f2.in_progress, false);
});

test('retryFeature gives a given-up feature new attempts, from a failure count of zero', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'keeps the run alive' },
      { id: 2, name: 'fails twice, then passes' },
      { id: 3, name: 'needs 2', dependencies: [2] },
    ],
    { base: 'retryfeature' },
  );
  const handle = await t.startRun(project, {
    concurrency: 2,
    maxRetries: 2,
    pollIntervalMs: 500,
    simulate: {
      features: {
        1: { action: 'pass', delayMs: 8000 },
        2: { action: 'pass', delayMs: 100, failAttempts: 2 },
        3: { action: 'pass', delayMs: 100 },
      },
    },
  });
  const before = await waitUntil(
    '#2 given up',
    async () => {
      const status = await queryStatus(handle);
      return status.failures.some((f) => f.featureId === 2 && f.count === 2) && status;
    },
    { timeoutMs: 20_000 },
  );
  assert.ok(
    before.running.every((a) => a.featureId !== 2),
    'no agent on #2 after its last attempt',
  );
  assert.equal((await featureRows(t.db, project)).find((f) => f.id === 2)?.failure_count, 2);
  await handle.signal(retryFeatureSignal, 2);
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'complete', result.message);
  assert.deepEqual(result.failures, []);
  const runs = (await agentRunsOf(t.db, project, 'coding')).filter((r) => r.feature_id === 2);
  assert.deepEqual(
    runs.map((r) => [r.attempt, r.outcome]),
    [
      [1, 'failed'],
      [2, 'failed'],
      [3, 'passed'],
    ],
  );
  assert.equal((await featureRows(t.db, project)).find((f) => f.id === 2)?.failure_count, 0);
});

test('an agent killed by its own signal and one past its timeout are counted as failed attempts', async () => {
  // Two runs: a short agent timeout would race the crashing agent's start on a loaded machine.
  const crashing = await t.seedProject([{ id: 1, name: 'segfaults' }], { base: 'crash' });
  const hanging = await t.seedProject([{ id: 1, name: 'hangs past its timeout' }], { base: 'timeout' });
  const [crashed, timedOut] = await Promise.all([
    t.runToEnd(crashing, { maxRetries: 1, simulate: { default: { action: 'crash', delayMs: 100 } } }),
    t.runToEnd(hanging, { maxRetries: 1, agentTimeoutMs: 1500, simulate: { default: { action: 'hang', delayMs: 0 } } }),
  ]);
  for (const result of [crashed, timedOut]) {
    assert.equal(result.outcome, 'failed', result.message);
    assert.deepEqual(
      result.failures.map((f) => [f.featureId, f.count]),
      [[1, 1]],
    );
  }
  // Killed by a signal it raised itself: a failed run (the supervisor's 'exited'), the signal kept.
  const [segv] = await agentRunsOf(t.db, crashing, 'coding');
  assert.deepEqual([segv?.outcome, segv?.signal], ['failed', 'SIGSEGV']);
  const [late] = await agentRunsOf(t.db, hanging, 'coding');
  assert.equal(late?.outcome, 'timed_out');
  assert.deepEqual(liveAgentProcesses(hanging), [], 'the timed-out tree was killed');
});

test('exit 0 without the feature passing counts as a failed attempt', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'claims success, does nothing' },
      { id: 2, name: 'fine' },
    ],
    { base: 'exit0' },
  );
  const result = await t.runToEnd(project, {
    concurrency: 2,
    maxRetries: 2,
    simulate: { default: { action: 'pass', delayMs: 100 }, features: { 1: { action: 'exit0-no-pass', delayMs: 100 } } },
  });
  assert.equal(result.outcome, 'failed', result.message);
  assert.deepEqual(
    result.failures.map((f) => [f.featureId, f.count]),
    [[1, 2]],
  );
  const runs = (await agentRunsOf(t.db, project, 'coding')).filter((r) => r.feature_id === 1);
  assert.deepEqual(
    runs.map((r) => [r.attempt, r.exit_code, r.outcome]),
    [
      [1, 0, 'failed'],
      [2, 0, 'failed'],
    ],
  );
  assert.ok(
    runs.every((r) => /exited 0 without the feature passing/.test(r.error ?? '')),
    runs.map((r) => r.error).join('; '),
  );
  const f1 = (await featureRows(t.db, project)).find((f) => f.id === 1)!;
  assert.equal(f1.failure_count, 2);
  assert.equal(f1.passes, false);
});

test('a run whose remaining features depend on a missing id or a cycle ends blocked, naming them', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'fine' },
      { id: 2, name: 'needs a ghost', dependencies: [99] },
      { id: 3, name: 'cycle a', dependencies: [4] },
      { id: 4, name: 'cycle b', dependencies: [3] },
      { id: 5, name: 'behind the cycle', dependencies: [3, 1] },
    ],
    { base: 'blocked' },
  );
  const result = await t.runToEnd(project, { concurrency: 2, simulate: { default: { action: 'pass', delayMs: 100 } } });
  assert.equal(result.outcome, 'blocked', result.message);
  const reasons = new Map(result.blocked.map((b) => [b.featureId, b.reason]));
  assert.deepEqual([...reasons.keys()].sort(), [2, 3, 4, 5]);
  assert.match(reasons.get(2)!, /#2 depends on #99, which does not exist/);
  assert.match(reasons.get(3)!, /cycle/);
  assert.match(reasons.get(4)!, /cycle/);
  assert.match(reasons.get(5)!, /#5 depends on #3/);
  assert.match(result.message, /4 feature\(s\) can never become ready/);
  assert.deepEqual(
    (await agentRunsOf(t.db, project, 'coding')).map((r) => r.feature_id),
    [1],
  );
});

test('initializer: a project without features gets them from the initializer agent, then runs them', async () => {
  const project = await t.seedProject([], { base: 'init' });
  const handle = await t.startRun(project, {
    concurrency: 2,
    simulate: {
      default: { action: 'pass', delayMs: 1000 },
      initializerFeatures: [
        { id: 1, name: 'scaffold' },
        { id: 2, name: 'login', dependencies: [1] },
        { id: 3, name: 'logout', dependencies: [1] },
      ],
    },
  });
  await waitUntil('phase initializing', async () => (await queryStatus(handle)).phase === 'initializing');
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'complete', result.message);
  assert.equal(result.counts.passing, 3);
  const runs = await agentRunsOf(t.db, project);
  assert.deepEqual(runs.map((r) => [r.kind, r.feature_id]).slice(0, 2), [
    ['initializer', null],
    ['coding', 1],
  ]);
  assert.equal(runs.length, 4);
  assert.ok(runs.every((r) => r.outcome === 'passed'));
});

test('initializer that creates no features: the run fails with a clear message', async () => {
  const project = await t.seedProject([], { base: 'init-empty' });
  const result = await t.runToEnd(project, { simulate: { default: { action: 'exit0-no-pass', delayMs: 0 } } });
  assert.equal(result.outcome, 'failed');
  assert.match(result.message, /initializer agent created no features/);
});

test('a run started with bad input through `temporal workflow start` fails at once with InvalidInput naming the field', async () => {
  const cli = findTemporalCli({ temporalCli: process.env.TEMPORAL_CLI, toolsDir: t.stack.toolsDir });
  assert.ok(cli, 'the temporal CLI is installed');
  const cases: Array<{ input: Record<string, unknown>; fields: RegExp[] }> = [
    {
      input: { projectId: 'Bad Project', projectDir: '/tmp/x', concurrency: 2000 },
      fields: [/projectId: must be a slug/, /concurrency/],
    },
    { input: { projectId: 'ok-project' }, fields: [/projectDir/] },
    { input: { projectId: 'ok-project', projectDir: '/tmp/x', concurency: 2 }, fields: [/concurency/] },
  ];
  for (const [i, c] of cases.entries()) {
    const workflowId = `autocoder/bad-input-${process.pid}-${Date.now()}-${i}`;
    await run(cli.path, [
      'workflow',
      'start',
      '--type',
      'projectRun',
      '--task-queue',
      t.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify(c.input),
      '--address',
      t.stack.address,
      '--namespace',
      t.stack.namespace,
    ]);
    const handle = t.client.workflow.getHandle(workflowId);
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError, `expected a failed workflow, got ${String(err)}`);
    const cause = err.cause;
    assert.ok(cause instanceof ApplicationFailure, String(cause));
    assert.equal(cause.type, 'InvalidInput');
    assert.equal(cause.nonRetryable, true);
    for (const field of c.fields) assert.match(cause.message, field);
    // At once: the first workflow task fails the run; nothing was scheduled, nothing retried.
    const events = (await handle.fetchHistory()).events ?? [];
    assert.equal(events.filter((e) => e.activityTaskScheduledEventAttributes).length, 0);
    assert.equal(events.filter((e) => e.workflowTaskCompletedEventAttributes).length, 1);
    assert.ok(events.at(-1)?.workflowExecutionFailedEventAttributes);
  }
});
