/**
 * Process activities: superviseAgent (spawn or adopt an agent tree, heartbeat where it is, kill
 * it when the workflow cancels), with reapOrphans and killRecordedAgent from reap.ts.
 *
 * The agent outlives its worker. Cancellation kills the tree only when the workflow asked for
 * it; when this worker shuts down or loses its heartbeat, the activity lets go and the agent keeps
 * running, so the retried activity (here or on the next worker) adopts it instead of starting a
 * second one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { recordAgentStart } from '../db/agent-runs.ts';
import { claimReadyBatches } from '../db/batch-claims.ts';
import { readyFeatureExists } from '../db/claims.ts';
import type { Database } from '../db/tables.ts';
import {
  adoptAgent,
  AgentRunError,
  findLauncherByEnv,
  spawnAgent,
  statusPathFor,
  type AgentHandle,
  type AgentProcessRef,
} from '../supervisor/index.ts';
import { agentFinishedSignal, type AgentReport } from '../workflows/messages.ts';
import { failureTypes, uncountedOutcomes } from '../workflows/vocabulary.ts';
import type { HostSlots } from './hosts.ts';
import { readAgentOutput, type OutputEnd } from './agent-output.ts';
import { prepareLaunch, RetryableSetup } from './agent-launch.ts';
import { checkBudget, DEFAULT_SPEND_CONFIG, hasBudget, type SpendConfig } from './budget.ts';
import { settleAgentRun, toFailure } from './outcome.ts';
import { codingClaimOf } from './schedule-steps.ts';
import { publishAttempt } from './host-work.ts';
import { releaseWorkspace } from './workspace.ts';
import { createReapActivities } from './reap.ts';
import { noMetrics, type AutocoderMetrics } from '../metrics/meter.ts';
import { observeAgentEnd } from '../metrics/observe.ts';
import type {
  AgentEndReport,
  AgentExitSummary,
  AgentHeartbeat,
  AgentSpec,
  Claim,
  RecordOutcomeInput,
  SuperviseInput,
} from './types.ts';

export type SupervisionDeps = {
  db: Kysely<Database>;
  temporal: Client;
  /** Given to agents (and their MCP server), so that marking a feature passing wakes the run. */
  temporalAddress?: string | undefined;
  temporalNamespace?: string | undefined;
  databaseUrl: string;
  stateDir: string;
  host: string;
  killGraceMs?: number | undefined;
  log?: (line: string) => void;
  /** Days' time zone and the installation's daily budget (budget.ts). */
  spend?: SpendConfig | undefined;
  /** This worker's host: its slots, and the drain that stops its agents (hosts.ts). */
  slots?: HostSlots | undefined;
  /** autocoder's Prometheus series (src/metrics); noMetrics when the worker serves none. */
  metrics?: AutocoderMetrics | undefined;
};

// A cancellation (stop, stopFeature) reaches this activity only in the answer to a heartbeat, so
// this is also how late a stop can start killing (the worker sends each one: see worker.ts). At
// 2 s, a SIGTERM came up to 2.1 s after stop-feature and a tree ignoring it died 3.1 s after
// (grace 1 s): over the promised grace + 2 s (test/chaos/stop-feature.test.ts). One per second
// matches the worker's heartbeat throttle: one small RPC per agent per second.
const HEARTBEAT_EVERY_MS = 1000;
/** How long the parent's agentFinished signal may take before the workflow sends it instead. */
const REPORT_DEADLINE_MS = 10_000;

/** A run ID is a workflow ID with '/': one flat file name per run. */
export const logFileFor = (stateDir: string, runId: string): string =>
  join(stateDir, 'logs', `${runId.replaceAll('/', '__')}.log`);

export function createSupervisionActivities(deps: SupervisionDeps) {
  const { db, host } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const spendConfig = deps.spend ?? DEFAULT_SPEND_CONFIG;
  const log = deps.log ?? ((line: string) => Context.current().log.info(line));

  /** Where the previous attempt left its agent: its last heartbeat, else its agent_runs row. */
  async function previousAgent(runId: string): Promise<AgentHeartbeat | null> {
    const details = Context.current().info.heartbeatDetails as AgentHeartbeat | undefined;
    if (details?.pid) return details;
    const row = await db
      .selectFrom('agent_runs')
      .selectAll()
      .where('id', '=', runId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    if (row?.pid && row.pgid && row.proc_start_time && row.log_path && row.status_path && row.host) {
      return {
        pid: row.pid,
        pgid: row.pgid,
        startTime: row.proc_start_time,
        logPath: row.log_path,
        statusPath: row.status_path,
        host: row.host,
      };
    }
    // Nothing recorded, yet an earlier attempt may have spawned the agent (its worker died before
    // the first heartbeat): find its launcher by the run ID in the agent environment and adopt it,
    // rather than start a second agent beside it (test/chaos/worker-kill-at-spawn.test.ts).
    if (Context.current().info.attempt > 1) {
      const launcher = findLauncherByEnv('AUTOCODER_RUN_ID', runId);
      if (launcher) {
        const logPath = logFileFor(deps.stateDir, runId);
        return {
          pid: launcher.pid,
          pgid: launcher.pid,
          startTime: launcher.startTime,
          logPath,
          statusPath: statusPathFor(logPath),
          host,
        };
      }
    }
    return null;
  }

  /**
   * Settles the agent's end (the one path: src/activities/outcome.ts) and tells the parent
   * (spec.reportTo), with the next claim when asked (spec.claimNext). What fails here the
   * workflow does. Only the call that wrote the outcome claims: a retried one (after a crash)
   * leaves the next feature to the parent's pass.
   */
  async function reportEnd(
    spec: SuperviseInput,
    runId: string,
    end: Pick<RecordOutcomeInput, 'outcome' | 'exitCode' | 'signal' | 'error'>,
    output: OutputEnd = { override: null },
  ): Promise<AgentEndReport> {
    const extra = {
      ...(output.rateLimit ? { rateLimit: output.rateLimit } : {}),
      ...(output.warning ? { limitWarning: output.warning } : {}),
    };
    // Another host's work reaches the repository before the end is settled (host-work.ts).
    await publishAttempt(spec, { stateDir: deps.stateDir, hostId: deps.host }, log);
    let settled;
    try {
      settled = await settleAgentRun(db, {
        projectId: spec.projectId,
        featureId: spec.featureId,
        kind: spec.kind,
        owner: runId,
        ...end,
      });
    } catch (err) {
      log(`agent ${runId}: outcome left to the workflow (${(err as Error).message})`);
      return output.rateLimit ? { rateLimit: output.rateLimit } : {};
    }
    const { recorded, fresh } = settled;
    if (fresh) await observeAgentEnd(db, metrics, { id: runId, kind: spec.kind, outcome: recorded.outcome });
    const handsOff = spec.claimNext && spec.kind === 'coding' && fresh && !uncountedOutcomes.includes(recorded.outcome);
    const handoff = handsOff ? await claimNext(spec.projectId, spec.claimNext!) : { next: [], moreReady: true };
    const report: AgentReport = {
      workflowId: runId,
      kind: spec.kind,
      featureId: spec.featureId,
      ...(spec.featureIds ? { featureIds: spec.featureIds } : {}),
      ...recorded,
      ...(spec.claimNext ? handoff : {}),
      ...extra,
    };
    try {
      await deps.temporal.withDeadline(Date.now() + REPORT_DEADLINE_MS, () =>
        deps.temporal.workflow.getHandle(spec.reportTo).signal(agentFinishedSignal, report),
      );
      return { report: recorded, parentNotified: true, ...(output.rateLimit ? { rateLimit: output.rateLimit } : {}) };
    } catch (err) {
      // The parent has closed, or the server is out of reach: the workflow signals it instead.
      // The claim stays: it is the record of the handoff, and the parent's next pass starts it
      // by its ID if the report never arrives (Temporal refuses a second start of one ID).
      Context.current().log.warn(
        `agent ${runId}: agentFinished not confirmed (${(err as Error).message}); the workflow reports instead`,
      );
      return { report: recorded, parentNotified: false, ...(output.rateLimit ? { rateLimit: output.rateLimit } : {}) };
    }
  }

  /**
   * What the parent's next pass would claim for the slot this agent frees, and whether any other
   * feature is ready (if not, that pass would claim nothing more); none and "maybe" on any error.
   */
  async function claimNext(
    projectId: string,
    { maxRetries, exclude: held, budget, batchSize }: NonNullable<AgentSpec['claimNext']>,
  ): Promise<{ next: Claim[]; moreReady: boolean }> {
    try {
      let exclude = held;
      if (hasBudget(budget, spendConfig)) {
        // The same check as the scheduling pass: a reached budget claims nothing (the pass pauses).
        const check = await checkBudget(db, spendConfig, projectId, budget);
        if (check.reached) return { next: [], moreReady: true };
        exclude = [...held, ...check.overBudget.map((f) => f.featureId)];
      }
      const claimed = await claimReadyBatches(db, {
        projectId,
        limit: 1,
        maxRetries,
        exclude,
        batchSize: batchSize ?? 1,
      });
      const next = claimed.map(codingClaimOf);
      return { next, moreReady: next.length > 0 && (await readyFeatureExists(db, { projectId, maxRetries, exclude })) };
    } catch (err) {
      log(`claim for the next agent left to the workflow (${(err as Error).message})`);
      return { next: [], moreReady: true };
    }
  }

  const activities = {
    async superviseAgent(spec: SuperviseInput): Promise<AgentExitSummary> {
      const ctx = Context.current();
      const runId = ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId;
      const graceMs = deps.killGraceMs ?? 5000;
      // Only a cancellation the workflow asked for, or a drain of this host, kills the tree.
      const stop = new AbortController();
      let drained = false;
      deps.slots?.enter(runId, () => {
        drained = true;
        stop.abort();
      });
      let letGo: (reason: Error) => void = () => undefined;
      const lettingGo = new Promise<never>((_, reject) => {
        letGo = reject;
      });
      lettingGo.catch(() => undefined);
      ctx.cancellationSignal.addEventListener('abort', () => {
        const why = ctx.cancellationDetails;
        if (why?.workerShutdown || why?.timedOut || why?.paused) {
          letGo(
            new Error(
              `worker let go of agent ${runId} (${why.workerShutdown ? 'shutdown' : why.timedOut ? 'heartbeat timeout' : 'paused'}); a retry adopts it`,
            ),
          );
        } else if (why?.notFound) {
          // The server no longer knows this attempt: it timed out (a Temporal restart outlasting the
          // heartbeat timeout), and a retry will adopt the agent, or the run is gone, and the agent
          // with it. Only the run's state tells them apart.
          void deps.temporal.workflow
            .getHandle(runId)
            .describe()
            .then(
              (run) =>
                run.status.name === 'RUNNING'
                  ? letGo(
                      new Error(`worker let go of agent ${runId} (attempt unknown to the server); a retry adopts it`),
                    )
                  : stop.abort(),
              // Out of reach: keep the agent (a retry adopts it; a worker start reaps it if its run is gone).
              () => letGo(new Error(`worker let go of agent ${runId} (attempt unknown, server out of reach)`)),
            );
        } else {
          stop.abort();
        }
      });

      const previous = await previousAgent(runId);
      let handle: AgentHandle;
      let sessionId: string | undefined;
      if (previous && previous.host === host) {
        handle = await adoptAgent(previous as AgentProcessRef, {
          signal: stop.signal,
          graceMs,
          timeoutMs: spec.timeoutMs,
        });
        log(`${handle.adopted ? 'adopted' : 'found ended'} agent ${runId} (pid ${previous.pid})`);
      } else if (previous) {
        throw ApplicationFailure.create({
          type: failureTypes.agentCrashed,
          nonRetryable: true,
          message: `agent ${runId} was started on host ${previous.host}; this worker on ${host} cannot watch it (it counts as a crash)`,
          details: [{ exitCode: null, signal: null }],
        });
      } else {
        let launch;
        try {
          launch = await prepareLaunch(deps, spendConfig, spec, runId);
        } catch (err) {
          // git itself failing (a lock, a full disk) is retried; a bad setup command is not.
          if (err instanceof RetryableSetup) throw err.cause;
          // A project's bad prompt template or agent command: this attempt cannot start at all.
          throw ApplicationFailure.create({
            type: failureTypes.agentCrashed,
            nonRetryable: true,
            message: `agent could not be started: ${(err as Error).message}`,
            details: [{ exitCode: null, signal: null }],
          });
        }
        sessionId = launch.sessionId;
        mkdirSync(launch.cwd, { recursive: true });
        try {
          handle = await spawnAgent({
            argv: launch.argv,
            env: launch.env,
            ...(launch.inheritEnv ? { inheritEnv: launch.inheritEnv } : {}),
            cwd: launch.cwd,
            logPath: logFileFor(deps.stateDir, runId),
            signal: stop.signal,
            graceMs,
            timeoutMs: spec.timeoutMs,
          });
        } catch (err) {
          throw toFailure(err);
        }
      }

      const beat = (): AgentHeartbeat =>
        ({ ...handle.ref, knownDescendants: handle.refreshDescendants(), host }) as AgentHeartbeat;
      // Heartbeat before any database write: if the write fails (Postgres gone), the retry finds
      // the agent in the heartbeat and adopts it instead of starting it a second time. A new agent
      // has no descendants worth a walk of /proc yet (~5 ms of this thread): the timer's beats do it.
      ctx.heartbeat(handle.adopted ? beat() : ({ ...handle.ref, knownDescendants: [], host } as AgentHeartbeat));
      await recordAgentStart(db, {
        id: runId,
        projectId: spec.projectId,
        featureId: spec.featureId,
        kind: spec.kind,
        attempt: spec.attempt,
        host,
        pid: handle.pid,
        pgid: handle.pgid,
        procStartTime: handle.startTime,
        logPath: handle.logPath,
        statusPath: handle.statusPath,
        ...(sessionId ? { sessionId } : {}),
      });
      const timer = setInterval(() => ctx.heartbeat(beat()), HEARTBEAT_EVERY_MS);
      metrics.agentWatched(spec.kind);
      const readOutput = (): Promise<OutputEnd> => readAgentOutput(db, spec, runId, handle.logPath);
      try {
        const exit = await Promise.race([handle.wait(), lettingGo]);
        const output = await readOutput();
        const summary: AgentExitSummary = {
          exitCode: exit.exitCode,
          signal: exit.signal,
          durationMs: exit.durationMs ?? 0,
          adopted: exit.adopted,
          pid: exit.pid,
        };
        const end = {
          outcome: 'exited',
          error: null,
          ...output.override,
          exitCode: exit.exitCode,
          signal: exit.signal,
        } as const;
        return {
          ...summary,
          ...(output.override ? { override: output.override } : {}),
          ...(await reportEnd(spec, runId, end, output)),
        };
      } catch (err) {
        if (!(err instanceof AgentRunError)) throw toFailure(err);
        const output = await readOutput();
        // A stop or a timeout is ours to name; an exit the output explains takes the output's word.
        const override =
          output.override && (err.reason === 'exited' || err.reason === 'crashed') ? output.override : null;
        const end = {
          outcome: drained && err.reason === 'stopped' ? ('host_drained' as const) : (override?.outcome ?? err.reason),
          exitCode: err.exitCode,
          signal: err.signal,
          error: override?.error ?? output.override?.error ?? err.message,
        };
        throw toFailure(err, await reportEnd(spec, runId, end, override ? output : { override: null }), end.outcome);
      } finally {
        clearInterval(timer);
        metrics.agentReleased(spec.kind);
        await releaseWorkspace(spec, deps.stateDir, deps.host);
      }
    },
  };
  return {
    ...activities,
    ...createReapActivities(deps),
    /** The agent holds one of this host's slots (hosts.ts) from its start until the activity ends. */
    async superviseAgent(spec: SuperviseInput): Promise<AgentExitSummary> {
      const info = Context.current().info;
      try {
        return await activities.superviseAgent(spec);
      } finally {
        deps.slots?.leave(info.workflowExecution?.workflowId ?? info.activityId);
      }
    },
  };
}
