/**
 * Real Temporal + Postgres for workflow tests: per test file, a unique task queue, a database
 * cloned from the migrated template (test/support/db.ts), a temp state dir, a Temporal client and
 * workers built by `createAutocoderWorker` with real parts. Helpers start projectRun with the
 * simulate agent, wait for results, query status and look at agent runs and agent processes.
 *
 * Under `npm test` (scripts/test.ts) the stack is the run's shared one (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, DATABASE_URL). Without TEMPORAL_ADDRESS this file starts a private stack of
 * its own (Temporal dev server + embedded Postgres on free ports, ~2 s) and stops it at the end,
 * so one file runs alone:
 *   bin/node --test test/workflows/scheduling.test.ts
 *
 *   const t = withTemporal();                       // registers before/after hooks
 *   test('chain', async () => {
 *     const project = await t.seedProject([{ id: 1, name: 'a' }, { id: 2, name: 'b', dependencies: [1] }]);
 *     const result = await t.runToEnd(project, { concurrency: 1 });
 *   });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { sql, type Kysely } from 'kysely';
import { connectTemporal, projectRunHandle, startOrJoinRun, type ProjectRunHandle } from '../../src/client.ts';
import { importFeatures, type FeatureEntry } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import type { AgentRunRow, Database } from '../../src/db/tables.ts';
import { privateStackConfig, stackDown, stackUp } from '../../src/stack/index.ts';
import type { SimulatePlan } from '../../src/agents/simulate-behaviour.ts';
import { createAutocoderWorker, type AutocoderWorker } from '../../src/worker.ts';
import {
  statusQuery,
  type ProjectRunInput,
  type ProjectRunResult,
  type ProjectRunStatus,
} from '../../src/workflows/messages.ts';
import { createTestDb, type TestDb } from './db.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export type StackTarget = { address: string; namespace: string; databaseUrl: string; toolsDir: string };

let privateStack: Promise<{ target: StackTarget; stop: () => Promise<void> }> | undefined;

/** The run's stack from the environment, or a private one for this process (stopped by `close`). */
async function stackTarget(): Promise<StackTarget> {
  const toolsDir = process.env.AUTOCODER_TOOLS_DIR ?? join(repoRoot, '.autocoder-test', 'tools');
  const { TEMPORAL_ADDRESS: address, DATABASE_URL: databaseUrl } = process.env;
  if (address && databaseUrl)
    return { address, namespace: process.env.TEMPORAL_NAMESPACE || 'default', databaseUrl, toolsDir };
  privateStack ??= (async () => {
    process.env.AUTOCODER_TOOLS_DIR = toolsDir;
    const home = mkdtempSync(join(tmpdir(), 'ac-wf-stack-'));
    const config = await privateStackConfig(home);
    const stack = await stackUp(config);
    // test/support/db.ts reads DATABASE_URL when it clones the template.
    process.env.DATABASE_URL = stack.databaseUrl;
    return {
      target: {
        address: stack.temporal.address,
        namespace: stack.temporal.namespace,
        databaseUrl: stack.databaseUrl,
        toolsDir,
      },
      stop: async () => {
        await stackDown(config);
        rmSync(home, { recursive: true, force: true });
      },
    };
  })();
  return (await privateStack).target;
}

/** A worker in a child process (test/workflows/fixtures/worker-process.ts), to be SIGKILLed. */
export type ChildWorker = { process: ChildProcess; exited: Promise<void> };

/** A started run's handle, with the run ID of the first run of its chain. */
export type StartedRun = ProjectRunHandle & { firstExecutionRunId: string };

export type TestWorker = { worker: AutocoderWorker; stop: () => Promise<void> };

export type RunSettings = Partial<Omit<ProjectRunInput, 'projectId' | 'projectDir' | 'simulate'>> & {
  simulate?: SimulatePlan | Record<string, unknown>;
};

export type TemporalTestEnv = {
  client: Client;
  taskQueue: string;
  stack: StackTarget;
  db: Kysely<Database>;
  databaseUrl: string;
  stateDir: string;
  /** A worker on this file's task queue; stopped by `close` if still running. */
  startWorker: (options?: { killGraceMs?: number; hostId?: string }) => Promise<TestWorker>;
  /**
   * The same worker in a child process (killed by `close` if still alive); resolves once it polls.
   * A host id and state dir of its own make it another host (test/chaos/hosts.test.ts).
   */
  startWorkerProcess: (options?: { hostId?: string; stateDir?: string; maxAgents?: number }) => Promise<ChildWorker>;
  /** Registers a project with a unique id (`<base>-<random>`) and imports its features. */
  seedProject: (features: readonly FeatureEntry[], options?: { base?: string }) => Promise<string>;
  projectDir: (projectId: string) => string;
  /** Starts projectRun with the simulate agent, testing agents off and a 1 s poll unless overridden. */
  startRun: (projectId: string, settings?: RunSettings) => Promise<StartedRun>;
  runToEnd: (projectId: string, settings?: RunSettings, timeoutMs?: number) => Promise<ProjectRunResult>;
  close: () => Promise<void>;
};

export async function createTemporalTestEnv(
  options: { name?: string; startWorker?: boolean } = {},
): Promise<TemporalTestEnv> {
  const stack = await stackTarget();
  const testDb: TestDb = await createTestDb();
  const temporal = await connectTemporal({ address: stack.address, namespace: stack.namespace });
  const suffix = randomBytes(4).toString('hex');
  const taskQueue = `test-${options.name ?? 'workflows'}-${suffix}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'ac-wf-state-'));
  const workers = new Set<TestWorker>();
  const projects = new Set<string>();
  const children = new Set<ChildProcess>();

  const projectDir = (projectId: string) => join(stateDir, 'projects', projectId);

  const env: TemporalTestEnv = {
    client: temporal.client,
    taskQueue,
    stack,
    db: testDb.db,
    databaseUrl: testDb.url,
    stateDir,
    projectDir,
    async startWorker(workerOptions = {}) {
      const worker = await createAutocoderWorker({
        temporal: { address: stack.address, namespace: stack.namespace },
        taskQueue,
        databaseUrl: testDb.url,
        stateDir,
        killGraceMs: workerOptions.killGraceMs ?? 500,
        ...(workerOptions.hostId ? { hostId: workerOptions.hostId } : {}),
        // Expected agent failures are logged as warnings with stack traces: noise in test output.
        logLevel: (process.env.AUTOCODER_TEST_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR',
      });
      const running = worker.run();
      running.catch(() => undefined); // reported by stop(); no unhandled rejection before that
      let stopped: Promise<void> | undefined;
      const handle: TestWorker = {
        worker,
        stop: () =>
          (stopped ??= (async () => {
            workers.delete(handle);
            await worker.shutdown();
            await running;
          })()),
      };
      workers.add(handle);
      return handle;
    },
    async startWorkerProcess(host = {}) {
      const options = {
        temporal: { address: stack.address, namespace: stack.namespace },
        taskQueue,
        databaseUrl: testDb.url,
        stateDir: host.stateDir ?? stateDir,
        killGraceMs: 500,
        ...(host.hostId ? { hostId: host.hostId } : {}),
        ...(host.maxAgents ? { maxConcurrentAgents: host.maxAgents } : {}),
      };
      const child = spawn(
        process.execPath,
        [join(repoRoot, 'test/workflows/fixtures/worker-process.ts'), JSON.stringify(options)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      children.add(child);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('ready\n')) resolve();
        });
        void exited.then(() => reject(new Error(`worker process exited before it was ready: ${out}`)));
      });
      return { process: child, exited };
    },
    async seedProject(features, seedOptions = {}) {
      const projectId = `${seedOptions.base ?? 'p'}-${randomBytes(3).toString('hex')}`;
      projects.add(projectId);
      mkdirSync(projectDir(projectId), { recursive: true });
      await upsertProject(testDb.db, { id: projectId, dir: projectDir(projectId) });
      if (features.length > 0) await importFeatures(testDb.db, projectId, features);
      return projectId;
    },
    async startRun(projectId, settings = {}) {
      const { handle, joined } = await startOrJoinRun(temporal.client, taskQueue, {
        agent: 'simulate',
        testingRatio: 0,
        pollIntervalMs: 1000,
        ...settings,
        projectId,
        projectDir: projectDir(projectId),
      } as ProjectRunInput);
      const firstExecutionRunId = (handle as Partial<StartedRun>).firstExecutionRunId;
      if (joined || !firstExecutionRunId) throw new Error(`startRun: ${handle.workflowId} was already running`);
      return Object.assign(handle, { firstExecutionRunId });
    },
    async runToEnd(projectId, settings, timeoutMs = 120_000) {
      return waitForResult(await env.startRun(projectId, settings), timeoutMs);
    },
    async close() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.allSettled([...workers].map((w) => w.stop()));
      // Projects made through the CLI count too, not only those seeded here.
      const known = await testDb.db
        .selectFrom('projects')
        .select('id')
        .execute()
        .then((rows) => [...new Set([...projects, ...rows.map((r) => r.id)])])
        .catch(() => [...projects]);
      // Runs a failed test left open would go on (and continue as new) on the shared server.
      await Promise.allSettled(known.map((p) => projectRunHandle(temporal.client, p).terminate('test cleanup')));
      killLeftoverAgents(known);
      await temporal.close();
      await testDb.close();
      rmSync(stateDir, { recursive: true, force: true });
      if (privateStack) {
        const stack = await privateStack;
        privateStack = undefined;
        await stack.stop();
      }
    },
  };
  if (options.startWorker ?? true) await env.startWorker();
  return env;
}

/**
 * Registers before/after hooks for the enclosing file or suite and returns the environment,
 * whose fields are usable inside tests (after `before` has run).
 */
export function withTemporal(options: { name?: string; startWorker?: boolean } = {}): TemporalTestEnv {
  let current: TemporalTestEnv | undefined;
  before(async () => {
    current = await createTemporalTestEnv({
      name: options.name ?? basename(process.argv[1] ?? 'workflows').replace(/\.test\.ts$/, ''),
      ...options,
    });
  });
  after(async () => {
    await current?.close();
  });
  return new Proxy({} as TemporalTestEnv, {
    get(_, key) {
      if (!current) throw new Error('withTemporal(): the environment is only available inside tests (after before())');
      return current[key as keyof TemporalTestEnv];
    },
  });
}

/** The run's result, or a timeout error that shows where the run was. */
export async function waitForResult(handle: ProjectRunHandle, timeoutMs = 120_000): Promise<ProjectRunResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const failed = (why: string) =>
        reject(new Error(`run ${handle.workflowId} did not end within ${timeoutMs} ms; ${why}`));
      // The status makes the failure readable, but must not hold it up (a query can hang).
      const giveUp = setTimeout(() => failed('(status query did not answer)'), 3000);
      handle
        .query(statusQuery)
        .then(
          (status) => failed(`status: ${JSON.stringify(status)}`),
          (err: unknown) => failed(`(status query failed: ${String(err)})`),
        )
        .finally(() => clearTimeout(giveUp));
    }, timeoutMs);
  });
  try {
    return await Promise.race([handle.result(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function queryStatus(handle: ProjectRunHandle): Promise<ProjectRunStatus> {
  return handle.query(statusQuery);
}

/** Polls `check` until it returns a truthy value; fails with `what` after the timeout. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    try {
      // A check that hangs (a query, a lock) must not hold the wait past its deadline.
      const overdue = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('the check itself did not answer')),
          Math.max(1000, deadline - Date.now()),
        );
      });
      const value = await Promise.race([check(), overdue]);
      if (value) return value as Truthy<T>;
    } catch (err) {
      last = err;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** Agent runs of a project, oldest first (database clock). */
export function agentRunsOf(
  db: Kysely<Database>,
  projectId: string,
  kind?: AgentRunRow['kind'],
): Promise<AgentRunRow[]> {
  let query = db.selectFrom('agent_runs').selectAll().where('project_id', '=', projectId);
  if (kind) query = query.where('kind', '=', kind);
  return query.orderBy('started_at').orderBy('id').execute();
}

/**
 * Live processes whose environment says they work for `projectId`: every agent, its launcher and
 * every descendant (grandchildren inherit the agent environment, detached or not). Zombies have
 * no environment and are dead anyway.
 */
export function liveAgentProcesses(projectId: string): number[] {
  const marker = `AUTOCODER_PROJECT_ID=${projectId}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    if (`${environ}\0`.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

/** SIGKILLs agent processes a test left behind (a run not stopped, a worker shut down mid-run). */
function killLeftoverAgents(projectIds: readonly string[]): void {
  for (const projectId of projectIds) {
    for (const pid of liveAgentProcesses(projectId)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Feature rows of a project by id. */
export function featureRows(db: Kysely<Database>, projectId: string) {
  return db.selectFrom('features').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
}

export type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

export type RunOfChain = { runId: string; history: History; input: ProjectRunInput };

/**
 * Every run of a workflow chain from its first run, following continue-as-new links (no
 * visibility query, so nothing lags behind).
 */
export async function runChain(client: Client, workflowId: string, firstRunId: string): Promise<RunOfChain[]> {
  const chain: RunOfChain[] = [];
  for (let runId: string | null | undefined = firstRunId; runId;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    chain.push({ runId, history, input: decodePayload(started?.input?.payloads?.[0]) as ProjectRunInput });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return chain;
}

export function decodePayload(payload: Payload | null | undefined): unknown {
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}

export type HistoryEvent = NonNullable<History['events']>[number];

/** The signals named `name` in a history: where each stands and its first argument. */
export function signalsIn(events: readonly HistoryEvent[], name: string): Array<{ index: number; arg: unknown }> {
  return events.flatMap((e, index) => {
    const signaled = e.workflowExecutionSignaledEventAttributes;
    return signaled?.signalName === name ? [{ index, arg: decodePayload(signaled.input?.payloads?.[0]) }] : [];
  });
}

/** The workflow IDs of the children a history started (StartChildWorkflowExecutionInitiated), in order. */
export function childStarts(events: readonly HistoryEvent[], from = 0): string[] {
  return events.slice(from).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
}

/** Where the first timer (a poll) fired after event `index`, or -1. */
export function firstTimerAfter(events: readonly HistoryEvent[], index: number): number {
  return events.findIndex((e, i) => i > index && e.timerFiredEventAttributes);
}

/**
 * Waits until the workflow has handled the event `find` points at (its index in the history, or
 * -1 while there is none): until a workflow task that began after it has completed. An event that
 * arrives while a task runs is written after that task's completion, so any WorkflowTaskCompleted
 * after the event is of a task that saw it; whatever that task decided (a child started, a timer)
 * is in the history with it. Returns the history and the index of that completion.
 */
export async function waitForHandled(
  handle: WorkflowHandle,
  what: string,
  find: (events: readonly HistoryEvent[]) => number,
  options: { timeoutMs?: number } = {},
): Promise<{ events: HistoryEvent[]; handledAt: number }> {
  return waitUntil(
    `the workflow to handle ${what}`,
    async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const index = find(events);
      if (index < 0) return false;
      const handledAt = events.findIndex((e, i) => i > index && e.workflowTaskCompletedEventAttributes);
      return handledAt > index && { events, handledAt };
    },
    { intervalMs: 200, ...options },
  );
}

/**
 * Records every change of `features.passes` with the database clock, so a test can tell when a
 * feature passed (agent_runs only says when its agent started and ended). Observation only: an
 * AFTER trigger writing to a table of its own.
 */
export async function installPassAudit(db: Kysely<Database>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS test_pass_audit (project_id text NOT NULL, feature_id int NOT NULL, passes boolean NOT NULL, at timestamptz NOT NULL)`.execute(
    db,
  );
  await sql`CREATE OR REPLACE FUNCTION test_pass_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO test_pass_audit VALUES (NEW.project_id, NEW.id, NEW.passes, clock_timestamp()); RETURN NEW; END $$`.execute(
    db,
  );
  await sql`DROP TRIGGER IF EXISTS test_pass_audit ON features`.execute(db);
  await sql`CREATE TRIGGER test_pass_audit AFTER UPDATE OF passes ON features FOR EACH ROW
    WHEN (OLD.passes IS DISTINCT FROM NEW.passes) EXECUTE FUNCTION test_pass_audit()`.execute(db);
}

/** When each feature of a project first passed (from installPassAudit's table). */
export async function passTimes(db: Kysely<Database>, projectId: string): Promise<Map<number, Date>> {
  const { rows } = await sql<{ feature_id: number; at: Date }>`
    SELECT feature_id, min(at) AS at FROM test_pass_audit WHERE project_id = ${projectId} AND passes GROUP BY feature_id`.execute(
    db,
  );
  return new Map(rows.map((r) => [r.feature_id, r.at]));
}

/** How many times each feature of a project passed, by feature id (from installPassAudit's table). */
export async function passCounts(db: Kysely<Database>, projectId: string): Promise<Array<[number, number]>> {
  const { rows } = await sql<{ feature_id: number; n: number }>`
    SELECT feature_id, count(*)::int AS n FROM test_pass_audit WHERE project_id = ${projectId} AND passes
    GROUP BY 1 ORDER BY 1`.execute(db);
  return rows.map((r) => [r.feature_id, r.n]);
}

/** How many agent processes were started under one agent run: the simulate agent's first line in its log. */
export function agentStartsIn(logPath: string): number {
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((l) => l.includes('simulated coding agent')).length;
}

/** The database clock now (agent_runs timestamps are on it). */
export async function dbNow(db: Kysely<Database>): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(db);
  return rows[0]!.now;
}

type Interval = { started_at: Date; ended_at: Date | null };

/** How many of `runs` were running at `at` (started at or before, not ended yet). */
export function runningAt(runs: readonly Interval[], at: Date): number {
  return runs.filter((r) => r.started_at <= at && (r.ended_at === null || r.ended_at > at)).length;
}

/** The most runs that were running at once. */
export function maxOverlap(runs: readonly Interval[]): number {
  return Math.max(0, ...runs.map((r) => runningAt(runs, r.started_at)));
}
