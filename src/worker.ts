/**
 * The composition root: config → database → Temporal client → activities → Worker. The CLI's
 * `worker`, `run` and `demo` commands and the tests all build workers here, so they are wired
 * the same way.
 */
import { hostname } from 'node:os';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  makeTelemetryFilterString,
  type Logger,
} from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { createActivities } from './activities/index.ts';
import { HostSlots, hostQueueOf } from './activities/hosts.ts';
import { connectionExtras, connectTemporal, type TemporalTarget } from './client.ts';
import { createDb } from './db/create-db.ts';
import { migrateToLatest } from './db/migrate.ts';
import { InfraError } from './errors.ts';
import { createAutocoderMetrics, noMetrics, prometheusExporter } from './metrics/meter.ts';
import { startMetricsSampler } from './metrics/sampler.ts';
import { workerIdentity } from './metrics/capacity.ts';
import { dispatchCoreNondeterminism, loggerThrough, nondeterminismAwareLogger, watchStuckRuns } from './stuck-runs.ts';
import { prestartSpawnHelper } from './supervisor/spawn-helper.ts';
import { loadWorkflowBundle } from './workflow-bundle.ts';
import { VERSIONED_WORKER_FLAG } from './workflows/versioning.ts';

export type AutocoderWorkerOptions = {
  temporal: TemporalTarget;
  taskQueue: string;
  databaseUrl: string;
  stateDir: string;
  /** Agents at once on this worker (superviseAgent activities); other activities are short. */
  maxConcurrentAgents?: number;
  /**
   * This worker's host (AUTOCODER_HOST_ID; default the hostname): on agent runs, in agents' env, in
   * metrics. Its agents are supervised on the host's own queue, `<taskQueue>@<hostId>`
   * (src/activities/hosts.ts): workers sharing a host id share that queue, so a worker restarted on
   * the host adopts the agents of the one before.
   */
  hostId?: string;
  /**
   * Serve Prometheus metrics at this host:port (`--metrics`): the SDK's own and autocoder's
   * (src/metrics). Only the first worker of a process can turn it on (the Runtime is per process).
   */
  metricsAddress?: string | undefined;
  /**
   * The caller handles SIGINT and SIGTERM itself (`autocoder worker`: SIGTERM drains). Otherwise the
   * SDK's own handler shuts every worker down at the first signal, which would cut a drain short:
   * a pinned agentRun's last task would find no worker of its version. Only the first worker of a
   * process decides (the Runtime is per process).
   */
  ownSignals?: boolean;
  /** How often the feature-store gauges are sampled (default 5 s; src/metrics/sampler.ts). */
  metricsSampleMs?: number;
  killGraceMs?: number;
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Keep stack traces in workflow code (AUTOCODER_WORKFLOW_STACK_TRACES); see
   * src/workflows/sandbox-no-stack-traces.ts.
   */
  workflowStackTraces?: boolean;
  /**
   * Where the one line per run this worker cannot replay goes (default stderr), and how often the
   * task queue is scanned for such runs (default 5 min); see src/stuck-runs.ts.
   */
  printStuckRun?: (line: string) => void;
  stuckRunScanMs?: number;
  /**
   * Worker Versioning (`worker --deployment --build-id`; docs/upgrades.md): both of this process's
   * workers join this Worker Deployment version. Without it the workers are unversioned.
   */
  version?: WorkerDeploymentVersion | undefined;
  /** Days' time zone (AUTOCODER_TZ, default UTC) and the installation's daily budget (AUTOCODER_DAILY_BUDGET_USD). */
  timeZone?: string | undefined;
  installationDailyBudgetUsd?: number | undefined;
};

export type AutocoderWorker = {
  /** The worker on the shared task queue (workflows, the feature store). */
  worker: Worker;
  /** The worker on this host's own queue (agent supervision). */
  hostWorker: Worker;
  hostId: string;
  hostQueue: string;
  /** The Worker Deployment version both workers poll as, if versioned. */
  version: WorkerDeploymentVersion | undefined;
  /** The process's Temporal client (the CLI reads the deployment's routing through it). */
  client: Client;
  run: () => Promise<void>;
  /** Stops polling; running agents stay alive for the next worker on this host to adopt. */
  shutdown: () => Promise<void>;
  /**
   * Drains the host (SIGTERM under Kubernetes): takes no new agents, stops those running (each
   * ends `host_drained` and runs again elsewhere, no failure counted), then shuts down.
   */
  drain: () => Promise<void>;
};

let runtimeInstalled: { metricsAddress: string | undefined } | undefined;
function installRuntime(
  level: NonNullable<AutocoderWorkerOptions['logLevel']>,
  metricsAddress: string | undefined,
  ownSignals: boolean,
): void {
  if (runtimeInstalled) {
    if (metricsAddress !== undefined && runtimeInstalled.metricsAddress !== metricsAddress)
      throw new InfraError(
        `metrics at ${metricsAddress} cannot start: this process's Temporal runtime is already installed`,
        {
          hint: 'give --metrics to the first worker of the process',
        },
      );
    return;
  }
  try {
    installRuntimeNow(level, metricsAddress, ownSignals);
  } catch (err) {
    throw new InfraError(`metrics could not be served at ${metricsAddress}: ${(err as Error).message}`, {
      hint: 'choose a free address with --metrics host:port',
      cause: err,
    });
  }
  runtimeInstalled = { metricsAddress };
}

function installRuntimeNow(
  level: NonNullable<AutocoderWorkerOptions['logLevel']>,
  metricsAddress: string | undefined,
  ownSignals: boolean,
) {
  Runtime.install({
    ...(ownSignals ? { shutdownSignals: [] } : {}),
    // Core's warning for a run that cannot be replayed (with the failure's stack) becomes one line
    // per run, printed by the worker that owns the run (watchStuckRuns).
    logger: withoutActivityOnlyWarning(nondeterminismAwareLogger(new DefaultLogger(level), dispatchCoreNondeterminism)),
    telemetryOptions: {
      logging: {
        filter: makeTelemetryFilterString({ core: level === 'TRACE' ? 'TRACE' : level === 'DEBUG' ? 'DEBUG' : 'WARN' }),
        forward: {},
      },
      ...(metricsAddress === undefined ? {} : { metrics: prometheusExporter(metricsAddress) }),
    },
  });
}

/**
 * The SDK warns of a worker with no workflows; the host queue's worker runs agent supervision only,
 * by design (src/activities/hosts.ts), so that one line is dropped and the rest passes through.
 */
function withoutActivityOnlyWarning(inner: Logger): Logger {
  return loggerThrough(inner, (level, message, meta) => {
    if (!message.startsWith('No workflows registered')) inner.log(level, message, meta);
  });
}

/**
 * Promise.all that rejects only once every promise has settled: a connection that opens after a
 * sibling failed is tracked by then, and closed with the rest.
 */
async function allOrThrowAfterAll<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Waits (until the deadline) for these workflows to close; a run that cannot be described counts as closed. */
async function untilClosed(client: Client, workflowIds: readonly string[], deadline: number): Promise<void> {
  const open = new Set(workflowIds);
  while (open.size > 0 && Date.now() < deadline) {
    for (const id of [...open]) {
      const status = await client.workflow
        .getHandle(id)
        .describe()
        .then(
          (d) => d.status.name,
          () => 'UNKNOWN',
        );
      if (status !== 'RUNNING') open.delete(id);
    }
    if (open.size > 0) await sleep(200);
  }
}

export async function createAutocoderWorker(options: AutocoderWorkerOptions): Promise<AutocoderWorker> {
  installRuntime(options.logLevel ?? 'WARN', options.metricsAddress, options.ownSignals ?? false);
  const hostId = options.hostId ?? hostname();
  const maxAgents = options.maxConcurrentAgents ?? 20;
  const metrics =
    options.metricsAddress === undefined ? noMetrics : createAutocoderMetrics(Runtime.instance().metricMeter, hostId);
  const database = createDb(options.databaseUrl, { applicationName: 'autocoder-worker' });
  // Start-up (meant to take under 1 s from exec to polling): the connections, the migration and the
  // bundle at once, then the workflow threads start while orphans are reaped; nothing polls
  // before run(). Whatever opened is closed again if any step fails.
  const opened: { close: () => Promise<void> }[] = [database];
  const close = async () => {
    await Promise.allSettled(opened.splice(0).map((c) => c.close()));
  };
  const track = <T extends { close: () => Promise<void> }>(c: T): T => {
    opened.push(c);
    return c;
  };
  try {
    const [temporal, connection, bundle] = await allOrThrowAfterAll([
      connectTemporal(options.temporal).then(track),
      connectionExtras(options.temporal)
        .then((extras) => NativeConnection.connect({ address: options.temporal.address, ...extras }))
        .then(track),
      loadWorkflowBundle({ stackTraces: options.workflowStackTraces ?? false }),
      migrateToLatest(database.db),
    ]);
    const hostQueue = hostQueueOf(options.taskQueue, hostId);
    const slots = new HostSlots(hostId, hostQueue, maxAgents);
    const activities = createActivities({
      db: database.db,
      databaseUrl: options.databaseUrl,
      temporal: temporal.client,
      temporalAddress: options.temporal.address,
      temporalNamespace: options.temporal.namespace,
      stateDir: options.stateDir,
      host: hostId,
      slots,
      metrics,
      killGraceMs: options.killGraceMs,
      taskQueue: options.taskQueue,
      spend: { timeZone: options.timeZone ?? 'UTC', installationDailyUsd: options.installationDailyBudgetUsd },
    });
    // Heartbeats carry cancellation back to superviseAgent. By default the SDK sends at most one
    // per 0.8 x heartbeatTimeout, so a stop could wait that long before any kill; with this cap
    // the activity's own cadence (every 1 s, HEARTBEAT_EVERY_MS) decides.
    const heartbeatThrottle = { maxHeartbeatThrottleInterval: '1s', defaultHeartbeatThrottleInterval: '1s' } as const;
    // Both workers join the version: a pinned agentRun's activities (pickAgentHost on the shared
    // queue, superviseAgent on the host's) then go to its own version's workers. Each workflow type
    // declares its behavior (src/workflows/versioning.ts); the default only covers one that forgot.
    const versioning =
      options.version === undefined
        ? {}
        : {
            workerDeploymentOptions: {
              useWorkerVersioning: true,
              version: options.version,
              defaultVersioningBehavior: 'AUTO_UPGRADE',
            } as const,
          };
    const [worker, hostWorker] = await allOrThrowAfterAll([
      Worker.create({
        connection,
        namespace: options.temporal.namespace,
        taskQueue: options.taskQueue,
        // A versioned worker tells its workflows so, to declare their behaviors (versioning.ts); on
        // the bundle's first line, so that stack traces keep their line numbers.
        workflowBundle: {
          code:
            options.version === undefined ? bundle.code : `globalThis.${VERSIONED_WORKER_FLAG} = true; ${bundle.code}`,
        },
        activities,
        maxConcurrentActivityTaskExecutions: 40,
        // `status` reads the host and its cap from here (describeTaskQueue lists pollers' identities).
        identity: workerIdentity({ pid: process.pid, hostId, maxAgents }),
        // Two threads: a parent's scheduling task and a child's task often arrive together, and with
        // one thread the second waited for the first (chain benchmark: ~10 ms per feature).
        workflowThreadPoolSize: 2,
        ...heartbeatThrottle,
        ...versioning,
        shutdownGraceTime: '5s',
      }),
      // Only agent supervision comes here (src/workflows/agent-run.ts pins it), so the slots are
      // its cap; pickAgentHost keeps new agents within them.
      Worker.create({
        connection,
        namespace: options.temporal.namespace,
        taskQueue: hostQueue,
        activities,
        maxConcurrentActivityTaskExecutions: maxAgents + 5,
        identity: workerIdentity({ pid: process.pid, hostId, maxAgents }),
        ...heartbeatThrottle,
        ...versioning,
        // On shutdown, agents are left running for the next worker to adopt; a drain stops them
        // first (they report host_drained), and the grace lets those reports finish.
        shutdownGraceTime: '5s',
      }),
      activities.reapOrphans(),
    ]);
    const stuckRuns = watchStuckRuns({
      client: temporal.client,
      taskQueue: options.taskQueue,
      print: options.printStuckRun ?? ((line) => process.stderr.write(`${line}\n`)),
      ...(options.stuckRunScanMs === undefined ? {} : { scanEveryMs: options.stuckRunScanMs }),
    });
    const sampler =
      options.metricsAddress === undefined
        ? undefined
        : startMetricsSampler(database.db, metrics, {
            ...(options.metricsSampleMs === undefined ? {} : { everyMs: options.metricsSampleMs }),
          });
    if (sampler) opened.push({ close: sampler.stop });
    const shutdown = async () => {
      for (const w of [worker, hostWorker]) if (w.getState() === 'RUNNING') w.shutdown();
    };
    return {
      worker,
      hostWorker,
      hostId,
      hostQueue,
      version: options.version,
      client: temporal.client,
      run: async () => {
        // The spawn helper starts with the polling rather than during start-up, where its own
        // start (a fork of this process and ~50 ms of CPU) competed with the workflow threads'.
        // A spawn that comes before it is ready waits for it.
        prestartSpawnHelper();
        stuckRuns.start();
        try {
          await Promise.all([worker.run(), hostWorker.run()]);
        } finally {
          stuckRuns.stop();
          await close();
        }
      },
      shutdown,
      drain: async () => {
        // With the agents that were reserved and arrive during the drain (stopped as they enter).
        const stopped = new Set(slots.running);
        slots.drain();
        // Each stopped agent's activity settles and reports before the worker stops polling.
        const deadline = Date.now() + (options.killGraceMs ?? 5000) + 10_000;
        while (slots.running.size > 0 && Date.now() < deadline) {
          for (const id of slots.running) stopped.add(id);
          await sleep(100);
        }
        // A pinned agentRun's last workflow task can only run on its own version: when this is the
        // version's last worker, leaving before those runs close would leave them waiting for good.
        if (options.version !== undefined) await untilClosed(temporal.client, [...stopped], deadline + 10_000);
        await shutdown();
      },
    };
  } catch (err) {
    await close();
    if (err instanceof InfraError) throw err;
    throw new InfraError(`worker could not start: ${(err as Error).message}`, {
      hint: 'check `autocoder doctor`',
      cause: err,
    });
  }
}
