/**
 * A run this version's workers cannot replay (started by an older version of projectRun, here
 * test/workflows/fixtures/old-project-run.ts): the worker says so in ONE line naming the run and
 * the remedy (no stack trace, not once per retry), a worker started later says so too (core logs
 * only the first failed attempt), `autocoder doctor` lists the run and exits 1, and
 * `autocoder stop --terminate` ends it (a plain stop is a signal the stuck code never handles).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  NativeConnection,
  Runtime,
  Worker,
} from '@temporalio/worker';
import { projectRunId } from '../../src/workflows/messages.ts';
import {
  coreNondeterminism,
  listStuckRuns,
  StuckRunReporter,
  stuckRunLine,
  type StuckRun,
} from '../../src/stuck-runs.ts';
import { hasStackTrace, runCli } from '../stack/support.ts';
import { repoRoot, waitUntil, withTemporal } from '../support/temporal.ts';

// The old worker below runs in this process; its "no activities registered" warning is noise.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
});

const t = withTemporal({ startWorker: false });
const LINE = /cannot be replayed by this worker's code/;
const lines = (text: string) => text.split('\n').filter((l) => LINE.test(l));

/** The current worker in a process of its own, its stderr and stdout collected. */
function startCurrentWorker(): { child: ChildProcess; output: () => string; exited: Promise<void> } {
  const options = {
    temporal: { address: t.stack.address, namespace: t.stack.namespace },
    taskQueue: t.taskQueue,
    databaseUrl: t.databaseUrl,
    stateDir: t.stateDir,
    killGraceMs: 500,
    logLevel: 'INFO',
    stuckRunScanMs: 500,
  };
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'test/workflows/fixtures/worker-process.ts'), JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output: () => text, exited };
}

async function stopWorker(w: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await w.exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a run started by an older version', () => {
  test('one line per run from each worker, listed by doctor, ended by stop --terminate', async () => {
    const project = await t.seedProject([{ id: 1, name: 'a' }]);
    const workflowId = projectRunId(project);

    // The older version runs the run's first workflow task (a 1 s timer), then goes away.
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(repoRoot, 'test/workflows/fixtures/old-project-run.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const connection = await NativeConnection.connect({ address: t.stack.address });
    const old = await Worker.create({
      connection,
      namespace: t.stack.namespace,
      taskQueue: t.taskQueue,
      workflowBundle: { code },
    });
    const handle = await t.client.workflow.start('projectRun', {
      workflowId,
      taskQueue: t.taskQueue,
      args: [{ projectId: project, projectDir: t.projectDir(project), agent: 'simulate', testingRatio: 0 }],
      // Failed attempts after the first time out rather than fail: keep that short.
      workflowTaskTimeout: '1s',
    });
    await old.runUntil(
      waitUntil('the old version started its timer', async () => {
        const history = await handle.fetchHistory();
        return history.events?.some((e) => e.timerStartedEventAttributes);
      }),
    );
    await connection.close();

    // The current version cannot replay it: one line, however often the task is retried.
    const first = startCurrentWorker();
    let stuck: StuckRun[] = [];
    try {
      await waitUntil('the worker named the run', () => lines(first.output()).length, { timeoutMs: 30_000 });
      stuck = await waitUntil(
        'the server flagged the run',
        async () => {
          const runs = await listStuckRuns(t.client, { taskQueue: t.taskQueue });
          return runs.length > 0 && runs;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      await sleep(3000); // several more attempts and scans
      const text = first.output();
      assert.equal(lines(text).length, 1, text);
      const line = lines(text)[0]!;
      assert.ok(line.startsWith(`run ${workflowId} (run id ${handle.firstExecutionRunId}) cannot be replayed`), line);
      assert.match(line, /\(nondeterminism: .+\): it was started by an older version\./);
      assert.ok(
        line.endsWith(`Drain it with the version that started it, or end it: autocoder stop ${project} --terminate`),
        line,
      );
      assert.doesNotMatch(text, /Failing workflow task|TMPRL1100/);
      assert.equal(hasStackTrace(text), false, text);
    } finally {
      await stopWorker(first);
    }

    // What doctor's listing found.
    assert.deepEqual(
      stuck.map((r) => [r.workflowId, r.runId, r.workflowType, r.taskQueue, r.problem]),
      [[workflowId, handle.firstExecutionRunId, 'projectRun', t.taskQueue, 'nondeterminism']],
    );
    assert.doesNotMatch(stuck[0]!.cause, /^\[TMPRL|^Nondeterminism error/);

    // A worker started later hears nothing from core (later attempts fail silently): its scan finds the run.
    const second = startCurrentWorker();
    try {
      await waitUntil('the second worker named the run', () => lines(second.output()).length, { timeoutMs: 30_000 });
      await sleep(2000);
      assert.equal(lines(second.output()).length, 1, second.output());
    } finally {
      await stopWorker(second);
    }

    // doctor lists it, with the remedy, and exits 1; stop --terminate ends it.
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: t.stack.address,
      TEMPORAL_NAMESPACE: t.stack.namespace,
      DATABASE_URL: t.databaseUrl,
      AUTOCODER_HOME: t.stateDir,
      NODE_TEST_CONTEXT: undefined,
    };
    const doctor = await runCli(['doctor'], env);
    assert.equal(doctor.code, 1, doctor.stdout + doctor.stderr);
    assert.match(doctor.stdout, /^runs: \d+ stuck$/m);
    assert.ok(
      doctor.stdout.includes(
        `run ${workflowId} (run id ${handle.firstExecutionRunId}) cannot be replayed by the code of the workers on task queue "${t.taskQueue}"`,
      ),
      doctor.stdout,
    );
    const stop = await runCli(['stop', project, '--terminate'], env);
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    assert.match(stop.stdout, new RegExp(`terminated ${workflowId} and 0 agent runs`));
    assert.equal((await handle.describe()).status.name, 'TERMINATED');
  });
});

describe('stuck-run lines', () => {
  test("core's nondeterminism warning is recognised; other warnings are not", () => {
    const failure =
      'Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: Activity machine does not handle this event: HistoryEvent(id: 5, TimerStarted)", source: "", stack_trace: "", encoded_attributes: None, cause: None, failure_info: None }), force_cause: NonDeterministicError }';
    assert.deepEqual(coreNondeterminism('Failing workflow task', { sdkComponent: 'core', runId: 'r1', failure }), {
      runId: 'r1',
      cause: 'Activity machine does not handle this event: HistoryEvent(id: 5, TimerStarted)',
    });
    const other = failure
      .replace('NonDeterministicError', 'Unspecified')
      .replace('[TMPRL1100] Nondeterminism error: ', '');
    assert.equal(
      coreNondeterminism('Failing workflow task', { sdkComponent: 'core', runId: 'r1', failure: other }),
      undefined,
    );
    assert.equal(
      coreNondeterminism('Failing workflow task', { sdkComponent: 'worker', runId: 'r1', failure }),
      undefined,
    );
  });

  test('a run is printed once, then at most once per reminder interval', () => {
    let now = 0;
    const printed: string[] = [];
    const reporter = new StuckRunReporter(
      (l) => printed.push(l),
      60_000,
      () => now,
    );
    assert.equal(reporter.report('r1', 'a'), true);
    now = 59_999;
    assert.equal(reporter.report('r1', 'a'), false);
    assert.equal(reporter.report('r2', 'b'), true);
    now = 60_000;
    assert.equal(reporter.report('r1', 'a'), true);
    assert.deepEqual(printed, ['a', 'b', 'a']);
  });

  test('the remedy names the project, or the workflow for IDs that are not ours', () => {
    const run = { runId: 'r', problem: 'nondeterminism', cause: 'x' } as const;
    assert.match(stuckRunLine({ ...run, workflowId: 'autocoder/app/coding/3/1' }), /autocoder stop app --terminate$/);
    assert.match(stuckRunLine({ ...run, workflowId: 'other' }), /temporal workflow terminate --workflow-id other$/);
    assert.match(stuckRunLine({ ...run, problem: 'task-failure', workflowId: 'autocoder/app' }), /is stuck: .*\(x\)/);
  });
});
