/**
 * Records the event histories of representative runs into test/histories/*.json, for the replay
 * test (test/workflows/replay.test.ts): a change to workflow code that does not replay them is
 * non-deterministic and fails the suite.
 *
 *   bin/node scripts/record-histories.ts            all scenarios (about a minute: one waits out
 *                                                   the 30 s heartbeat timeout of a dead worker)
 *   bin/node scripts/record-histories.ts stop crash only these
 *
 * Uses the stack in TEMPORAL_ADDRESS/DATABASE_URL when set, else starts a private one. Recording a
 * scenario replaces its files. Until a release is tagged, workflow code changes without
 * `patched()`: an incompatible change re-records every scenario and deletes the old files. After a
 * release, a change keeps the released path behind `patched()` and keeps the released histories
 * beside the new ones, so that both paths replay.
 * Each file: { scenario, workflowId, runId, workflowType, history } (the history as protobufjs's
 * toObject prints it: longs, enums and bytes as strings).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  answerFeatureUpdate,
  drainSignal,
  pauseSignal,
  resumeSignal,
  retryFeatureSignal,
  setBatchSizeUpdate,
  setBudgetUpdate,
  setConcurrencyUpdate,
  setTestingBatchSizeUpdate,
  stopFeatureSignal,
  stopSignal,
} from '../src/workflows/messages.ts';
import { quotaStatusQuery } from '../src/workflows/quota-governor.ts';
import { quotaGovernorId } from '../src/workflows/run-ids.ts';
import {
  agentRunsOf,
  createTemporalTestEnv,
  queryStatus,
  repoRoot,
  runChain,
  waitForResult,
  waitUntil,
  type History,
  type StartedRun,
  type TemporalTestEnv,
  type TestWorker,
} from '../test/support/temporal.ts';

export const historiesDir = join(repoRoot, 'test', 'histories');

/** A finished run, and the worker that ran it (stopped after its histories are saved). */
type Recorded = {
  handle: StartedRun;
  projectId: string;
  worker: TestWorker;
  /** Other workflows the scenario ran (a quotaGovernor), saved beside the run's. */
  others?: Array<{ workflowId: string; workflowType: string; label: string }>;
};
type Scenario = (env: TemporalTestEnv) => Promise<Recorded>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const agentsRecorded = (env: TemporalTestEnv, projectId: string, n: number) =>
  waitUntil(
    `${n} agents of ${projectId}`,
    async () => (await agentRunsOf(env.db, projectId)).filter((r) => r.pid).length >= n,
  );

const scenarios: Record<string, Scenario> = {
  /** Dependencies, a failed attempt and its retry, a testing agent. */
  async normal(env) {
    const worker = await env.startWorker();
    const projectId = await env.seedProject(
      [
        { id: 1, name: 'Scaffold' },
        { id: 2, name: 'Login form', dependencies: [1] },
        { id: 3, name: 'Flaky' },
        { id: 4, name: 'Done before', passes: true },
      ],
      { base: 'normal' },
    );
    const handle = await env.startRun(projectId, {
      concurrency: 2,
      testingRatio: 1,
      maxRetries: 3,
      simulate: {
        default: { action: 'pass', delayMs: 300 },
        features: { 3: { action: 'pass', delayMs: 300, failAttempts: 1 } },
        testing: { action: 'pass', delayMs: 200 },
      },
    });
    await waitForResult(handle);
    return { handle, projectId, worker };
  },

  /**
   * Batches: a chain in coding batches of 3 (one feature left unpassed by its batch, passed on its
   * next attempt), testing batches of 2, setBatchSize / setTestingBatchSize, a stopFeature inside
   * a batch and its retryFeature.
   */
  async batches(env) {
    const worker = await env.startWorker();
    const projectId = await env.seedProject(
      [
        ...[1, 2, 3, 4, 5].map((id) => ({ id, name: `Step ${id}`, dependencies: id > 1 ? [id - 1] : [] })),
        { id: 6, name: 'Tested A', passes: true },
        { id: 7, name: 'Tested B', passes: true, dependencies: [6] },
      ],
      { base: 'batches' },
    );
    const handle = await env.startRun(projectId, {
      concurrency: 1,
      testingRatio: 1,
      batchSize: 3,
      testingBatchSize: 2,
      simulate: {
        default: { action: 'pass', delayMs: 300 },
        features: { 3: { action: 'pass', delayMs: 300, failAttempts: 1 }, 5: { action: 'pass', delayMs: 2500 } },
        testing: { action: 'pass', delayMs: 200 },
      },
    });
    await handle.executeUpdate(setTestingBatchSizeUpdate, { args: [2] });
    await waitUntil('#5 running', async () =>
      (await queryStatus(handle)).running.some((a) => a.featureId === 5 || (a.featureIds ?? []).includes(5)),
    );
    await handle.executeUpdate(setBatchSizeUpdate, { args: [2] });
    await handle.signal(stopFeatureSignal, 5);
    await waitUntil('#5 held', async () => (await queryStatus(handle)).held.includes(5));
    await handle.signal(retryFeatureSignal, 5);
    await waitForResult(handle);
    return { handle, projectId, worker };
  },

  /**
   * A usage-limit pause from the key's quotaGovernor (reported as a rate-limited run would, with a
   * reset 3 s ahead) and its end at the timer; a budget raised by setBudget.
   */
  async quota(env) {
    const worker = await env.startWorker();
    const projectId = await env.seedProject(
      [1, 2, 3, 4].map((id) => ({ id, name: `Feature ${id}` })),
      { base: 'quota' },
    );
    const key = `record-${projectId}`;
    const handle = await env.startRun(projectId, {
      concurrency: 1,
      pollIntervalMs: 500,
      budgetUsd: 10,
      quotaKey: key,
      simulate: { default: { action: 'pass', delayMs: 1500 } },
    });
    await agentsRecorded(env, projectId, 1);
    await handle.executeUpdate(setBudgetUpdate, { args: [{ runUsd: 20, dailyUsd: 50 }] });
    await env.client.workflow.signalWithStart('quotaGovernor', {
      workflowId: quotaGovernorId(key),
      taskQueue: env.taskQueue,
      args: [{ key }],
      signal: 'quotaReport',
      signalArgs: [{ projectId, resetsAt: new Date(Date.now() + 3000).toISOString(), message: 'recorded limit' }],
    });
    await waitUntil('the pause', async () => (await queryStatus(handle)).pause?.reason === 'quota');
    await waitForResult(handle);
    const governor = env.client.workflow.getHandle(quotaGovernorId(key));
    await waitUntil('the governor clear', async () => (await governor.query(quotaStatusQuery)).state === 'clear');
    await governor.terminate('recorded');
    return {
      handle,
      projectId,
      worker,
      others: [{ workflowId: governor.workflowId, workflowType: 'quotaGovernor', label: 'governor' }],
    };
  },

  /** Operator signals and updates: setConcurrency, pause/resume, stopFeature/retryFeature, drain. */
  async control(env) {
    const worker = await env.startWorker();
    const projectId = await env.seedProject(
      [1, 2, 3, 4, 5, 6].map((id) => ({ id, name: `Feature ${id}` })),
      { base: 'control' },
    );
    const handle = await env.startRun(projectId, {
      concurrency: 1,
      pollIntervalMs: 500,
      simulate: { default: { action: 'pass', delayMs: 1500 } },
    });
    await agentsRecorded(env, projectId, 1);
    await handle.executeUpdate(setConcurrencyUpdate, { args: [2] });
    await handle.executeUpdate(setConcurrencyUpdate, { args: [9] }).catch(() => undefined); // rejected: not in history
    await agentsRecorded(env, projectId, 2);
    await handle.signal(pauseSignal);
    await sleep(1000);
    await handle.signal(resumeSignal);
    const running = await waitUntil('an agent to stop', async () => (await queryStatus(handle)).running[0]);
    await handle.signal(stopFeatureSignal, running.featureId!);
    await sleep(1000);
    await handle.signal(retryFeatureSignal, running.featureId!);
    await agentsRecorded(env, projectId, 4);
    await handle.signal(drainSignal);
    await waitForResult(handle);
    return { handle, projectId, worker };
  },

  /** stop with agents hanging, deaf to SIGTERM, and with grandchildren. */
  async stop(env) {
    const worker = await env.startWorker();
    const projectId = await env.seedProject(
      [1, 2, 3].map((id) => ({ id, name: `Feature ${id}` })),
      { base: 'stop' },
    );
    const handle = await env.startRun(projectId, {
      concurrency: 3,
      simulate: {
        features: {
          1: { action: 'hang', delayMs: 0 },
          2: { action: 'ignore-sigterm', delayMs: 0 },
          3: { action: 'grandchildren', delayMs: 0 },
        },
      },
    });
    await agentsRecorded(env, projectId, 3);
    await handle.signal(stopSignal);
    await waitForResult(handle);
    return { handle, projectId, worker };
  },

  /** A chain of runs with agents running across each continue-as-new. */
  async 'continue-as-new'(env) {
    const worker = await env.startWorker();
    const projectId = await env.seedProject(
      Array.from({ length: 6 }, (_, i) => ({
        id: i + 1,
        name: `Feature ${i + 1}`,
        dependencies: i >= 3 ? [i - 2] : [],
      })),
      { base: 'can' },
    );
    const handle = await env.startRun(projectId, {
      concurrency: 2,
      pollIntervalMs: 500,
      continueAsNewAfterPasses: 2,
      simulate: { default: { action: 'pass', delayMs: [500, 1200] } },
    });
    await waitForResult(handle);
    return { handle, projectId, worker };
  },

  /** The initializer writes the features, then they run. */
  async initializer(env) {
    const worker = await env.startWorker();
    const projectId = await env.seedProject([], { base: 'init' });
    const handle = await env.startRun(projectId, {
      simulate: {
        default: { action: 'pass', delayMs: 200 },
        initializerFeatures: [
          { id: 1, name: 'Scaffold' },
          { id: 2, name: 'Page', dependencies: [1] },
        ],
      },
    });
    await waitForResult(handle);
    return { handle, projectId, worker };
  },

  /**
   * A question to a person: the feature parked, the run waiting in waiting_for_human, an answer
   * refused by answerFeature's validator (not in history) and one accepted; notifications to a
   * local webhook (opened, a reminder, the end by a notifyWebhook child).
   */
  async human(env) {
    const worker = await env.startWorker();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const projectId = await env.seedProject(
        [
          { id: 1, name: 'Header' },
          { id: 2, name: 'Button colour' },
        ],
        { base: 'human' },
      );
      const handle = await env.startRun(projectId, {
        agent: 'command',
        agentCmd: [join(repoRoot, 'test/fixtures/agents/asks-once')],
        notifyUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        remindAfterMs: 1000,
      });
      await waitUntil('waiting for a person', async () => (await queryStatus(handle)).phase === 'waiting_for_human', {
        timeoutMs: 60_000,
      });
      await sleep(1500);
      await handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 2, option: 9 }] }).catch(() => undefined);
      await handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 2, option: 2 }] });
      await waitForResult(handle);
      return { handle, projectId, worker };
    } finally {
      server.close();
    }
  },

  /** The worker is SIGKILLed mid-run; a new worker adopts the agents after the heartbeat timeout. */
  async crash(env) {
    const projectId = await env.seedProject(
      [
        { id: 1, name: 'Long' },
        { id: 2, name: 'Short' },
        { id: 3, name: 'After', dependencies: [1] },
      ],
      { base: 'crash' },
    );
    // The first worker is a process of its own, so that it can be SIGKILLed.
    const crashed = await env.startWorkerProcess();
    const handle = await env.startRun(projectId, {
      concurrency: 2,
      simulate: {
        default: { action: 'pass', delayMs: 200 },
        features: { 1: { action: 'pass', delayMs: 35_000 }, 2: { action: 'pass', delayMs: 3000 } },
      },
    });
    await agentsRecorded(env, projectId, 2);
    crashed.process.kill('SIGKILL');
    await crashed.exited;
    const worker = await env.startWorker();
    await waitForResult(handle, 120_000);
    return { handle, projectId, worker };
  },
};

/**
 * A history as plain JSON through the generated protobuf codec (not @temporalio/common's
 * historyToJSON: with two copies of protobufjs installed, its protojson extension rejects the
 * other copy's types). test/workflows/replay.test.ts reads it back with History.fromObject.
 */
function historyToObject(history: History): unknown {
  return proto.temporal.api.history.v1.History.toObject(proto.temporal.api.history.v1.History.fromObject(history), {
    longs: String,
    enums: String,
    bytes: String,
    defaults: false,
  });
}

function save(
  scenario: string,
  label: string,
  record: { workflowId: string; runId: string; workflowType: string; history: unknown },
): void {
  const file = join(historiesDir, `${scenario}--${label}.json`);
  writeFileSync(file, `${JSON.stringify({ scenario, ...record }, null, 1)}\n`);
  console.log(`  ${file.slice(repoRoot.length)}`);
}

async function record(env: TemporalTestEnv, name: string, scenario: Scenario): Promise<void> {
  const started = Date.now();
  console.log(`${name} …`);
  const { handle, projectId, worker, others = [] } = await scenario(env);
  for (const other of others) {
    const h = env.client.workflow.getHandle(other.workflowId);
    const { runId } = await h.describe();
    const history = await h.fetchHistory();
    // A terminated run's last event is its termination: replay needs only what its code did.
    save(name, other.label, {
      workflowId: other.workflowId,
      runId,
      workflowType: other.workflowType,
      history: historyToObject(history),
    });
  }
  await worker.stop();
  const chain = await runChain(env.client, handle.workflowId, handle.firstExecutionRunId);
  for (const [i, run] of chain.entries()) {
    save(name, chain.length > 1 ? `project-run-${i + 1}` : 'project-run', {
      workflowId: handle.workflowId,
      runId: run.runId,
      workflowType: 'projectRun',
      history: historyToObject(run.history),
    });
  }
  for (const agent of await agentRunsOf(env.db, projectId)) {
    const child = env.client.workflow.getHandle(agent.id);
    const { runId } = await child.describe();
    const history = await child.fetchHistory();
    const label = agent.id.slice(`autocoder/${projectId}/`.length).replaceAll('/', '-');
    save(name, label, { workflowId: agent.id, runId, workflowType: 'agentRun', history: historyToObject(history) });
  }
  console.log(`${name}: ${chain.length} project run(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!(name in scenarios)) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
const env = await createTemporalTestEnv({ name: 'record-histories', startWorker: false });
try {
  mkdirSync(historiesDir, { recursive: true });
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    for (const file of readdirSync(historiesDir)) if (file.startsWith(`${name}--`)) rmSync(join(historiesDir, file));
    await record(env, name, scenario);
  }
} finally {
  await env.close();
}
