/**
 * agentRun: one agent process tree working on one feature (or on the project, for the
 * initializer). It supervises the process through an activity, which settles the outcome in the
 * feature store and tells the parent (by workflow ID, so the report reaches whichever run of
 * projectRun is current); what the activity could not do, this workflow does, through the same
 * settle (docs/architecture.md "An agent's end"). An attempt that did not pass ends this workflow
 * Failed (or Canceled, when stopped), so the UI's and the CLI's failure filters find it; the
 * parent hears of it by signal and never awaits the child.
 */
import * as wf from '@temporalio/workflow';
import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import type {
  AgentActivities,
  AgentEndReport,
  AgentFailureDetails,
  AgentSpec,
  RecordOutcomeInput,
} from '../activities/types.ts';
import { agentFinishedSignal, type AgentReport } from './messages.ts';
import { agentLabel } from './agent-label.ts';
import { hostQueueOf } from './run-ids.ts';
import { failureTypes } from './vocabulary.ts';

export type AgentRunInput = { parentWorkflowId: string; spec: AgentSpec };

// What notices a dead worker: the retry, on the same host's queue, is taken by the next worker
// there, which adopts the running agent. At 5 s (beats every 1 s) a restarted worker sees its
// agents again within seconds (test/chaos/worker-kill.test.ts); a false alarm only costs an adoption.
const HEARTBEAT_TIMEOUT = '5s';
const DEFAULT_HOST_LOST_AFTER_MS = 120_000;

// Whichever worker takes this task answers with its own host's queue if it has a free slot
// (src/activities/hosts.ts); a full host's refusal is retried, and so lands on another host.
const { pickAgentHost } = wf.proxyActivities<AgentActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 1.5, maximumInterval: '2s' },
});

/** The supervisor's failure types: final for the attempt, never retried by Temporal. */
const agentFailures = [
  failureTypes.agentExited,
  failureTypes.agentCrashed,
  failureTypes.agentTimedOut,
  failureTypes.agentStopped,
];

// Local: settling the outcome runs in the workflow task that saw the agent end, so the parent
// hears of it one task round trip sooner. Settling twice (a retried task) returns the first result.
const { recordAgentOutcome } = wf.proxyLocalActivities<AgentActivities>({
  startToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: {
    initialInterval: '200ms',
    maximumInterval: '30s',
    nonRetryableErrorTypes: [failureTypes.claimLost, failureTypes.invalidInput],
  },
});

type AgentEnd = Pick<RecordOutcomeInput, 'outcome' | 'exitCode' | 'signal' | 'error'> & AgentEndReport;

export async function agentRun({ parentWorkflowId, spec }: AgentRunInput): Promise<AgentReport> {
  const workflowId = wf.workflowInfo().workflowId;
  const hostLostAfterMs = spec.hostLostAfterMs ?? DEFAULT_HOST_LOST_AFTER_MS;
  let hostId: string | null = null;
  let hostQueue: string | null = null;
  const home = homeOf(spec);
  const supervise = async () => {
    // A stop while no host has a free slot cancels the pick: it ends as stopped, like any stop.
    // An agent that works in the project dir asks its home host alone, which waits for a slot
    // there; a home host without a worker that long is lost like any host.
    if (home) hostId = home;
    const host = home
      ? await wf
          .proxyActivities<AgentActivities>({
            taskQueue: hostQueueOf(wf.workflowInfo().taskQueue, home),
            scheduleToStartTimeout: hostLostAfterMs,
            startToCloseTimeout: '10s',
            retry: { initialInterval: '100ms', backoffCoefficient: 1.5, maximumInterval: '2s' },
          })
          .pickAgentHost({ runId: workflowId })
      : await pickAgentHost({ runId: workflowId });
    hostId = host.hostId;
    hostQueue = host.taskQueue;
    const { superviseAgent } = wf.proxyActivities<AgentActivities>({
      // Pinned to the host that runs the agent: its retries and adoption can only happen there. A
      // host whose worker does not take the task in time is lost (each attempt waits at most this).
      taskQueue: host.taskQueue,
      scheduleToStartTimeout: hostLostAfterMs,
      // Start-to-close is the agent's own timeout plus room to kill its tree; the heartbeat timeout
      // is what notices a dead worker, after which the retry adopts the still-running agent.
      startToCloseTimeout: spec.timeoutMs + 60_000,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: '500ms', maximumInterval: '10s', nonRetryableErrorTypes: agentFailures },
      summary: `${agentLabel(spec.kind, spec.featureId, spec.featureIds)} ${spec.featureName} on ${host.hostId}`,
    });
    return superviseAgent({ ...spec, reportTo: parentWorkflowId });
  };

  const end = await supervise().then(
    (exit): AgentEnd => ({ outcome: 'exited', error: null, ...exit, ...exit.override }),
    (err: unknown) => (hostId === null ? null : hostLost(err, hostId, hostLostAfterMs)) ?? endOfFailure(err),
  );

  // Whatever happened (even a cancellation of this workflow), the claim is settled and the
  // parent told; nothing of this may be cancelled half-way.
  const report = await wf.CancellationScope.nonCancellable(async () => {
    // A stop no attempt confirmed (the cancel found the activity between attempts, after one had
    // let go of the agent): whatever agent the host recorded for this run is killed there first.
    if (end.outcome === 'stopped' && !end.report && hostQueue !== null) await killOnHost(hostQueue, workflowId);
    const { outcome, exitCode, signal, error } = end;
    const recorded =
      end.report ??
      (await recordAgentOutcome({
        projectId: spec.projectId,
        featureId: spec.featureId,
        kind: spec.kind,
        owner: workflowId,
        outcome,
        exitCode,
        signal,
        error,
      }));
    const report: AgentReport = {
      workflowId,
      kind: spec.kind,
      featureId: spec.featureId,
      ...(spec.featureIds ? { featureIds: spec.featureIds } : {}),
      ...recorded,
      ...(end.rateLimit && recorded.outcome === 'rate_limited' ? { rateLimit: end.rateLimit } : {}),
    };
    if (end.parentNotified) return report;
    try {
      await wf.getExternalWorkflowHandle(parentWorkflowId).signal(agentFinishedSignal, report);
    } catch (err) {
      // The parent has closed (stopped, or ended while this agent finished): nothing to tell.
      wf.log.info('parent not reachable for agentFinished', { parentWorkflowId, error: String(err) });
    }
    return report;
  });
  // An agent that asked a person ended well: its feature waits for the answer (not a failed attempt).
  if (report.outcome === 'passed' || report.outcome === 'waiting') return report;
  if (report.outcome === 'stopped') throw new CancelledFailure(report.error ?? 'stopped by operator');
  if (report.outcome === 'host_lost' || report.outcome === 'host_drained')
    throw ApplicationFailure.create({
      type: report.outcome === 'host_lost' ? failureTypes.hostLost : failureTypes.hostDrained,
      nonRetryable: true,
      message: `${spec.kind}${spec.featureId === null ? '' : ` #${spec.featureId}`}: ${report.error ?? report.outcome}`,
      details: [report],
    });
  throw ApplicationFailure.create({
    type: failureTypeOf(report, end.exitCode),
    nonRetryable: true,
    message: `${agentLabel(spec.kind, spec.featureId, spec.featureIds)}: ${report.error ?? report.outcome}`,
    details: [report],
  });
}

/**
 * The host an agent must run on, if any: the project dir is on the run's home host, so agents
 * that work in it (shared isolation, the initializer, merge resolvers) go there. Under worktree
 * isolation coding and testing agents go to any host with a free slot (each host has its clone).
 */
function homeOf(spec: AgentSpec): string | null {
  if (!spec.homeHost) return null;
  const inProjectDir = spec.kind === 'initializer' || spec.kind === 'merge' || spec.isolation?.mode !== 'worktree';
  return inProjectDir ? spec.homeHost : null;
}

async function killOnHost(taskQueue: string, runId: string): Promise<void> {
  const { killRecordedAgent } = wf.proxyActivities<AgentActivities>({
    taskQueue,
    scheduleToStartTimeout: '1 minute',
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });
  try {
    await killRecordedAgent({ runId });
  } catch (err) {
    // The host is gone: its next worker reaps the agent (reapOrphans), as after a lost host.
    wf.log.warn('kill of a stopped agent on its host failed', { runId, error: String(err) });
  }
}

/** No worker of the agent's host took its supervision in time: the host is gone, not the feature's fault. */
function hostLost(err: unknown, hostId: string, afterMs: number): AgentEnd | null {
  const cause = err instanceof ActivityFailure ? err.cause : null;
  if (!(cause instanceof TimeoutFailure) || cause.timeoutType !== TimeoutType.SCHEDULE_TO_START) return null;
  return {
    outcome: 'host_lost',
    exitCode: null,
    signal: null,
    error: `host ${hostId} lost: no worker there took the agent's supervision within ${Math.round(afterMs / 1000)} s`,
  };
}

/** How the attempt ended, from superviseAgent's failure (and what it settled, if it did). */
function endOfFailure(err: unknown): AgentEnd {
  if (wf.isCancellation(err)) return { outcome: 'stopped', exitCode: null, signal: null, error: 'stopped by operator' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const failure = cause instanceof ApplicationFailure ? cause : null;
  const details = failure?.details?.[0] as Partial<AgentFailureDetails> | undefined;
  return {
    outcome: details?.reason ?? 'crashed',
    exitCode: details?.exitCode ?? null,
    signal: details?.signal ?? null,
    error: cause instanceof Error ? cause.message : String(cause),
    ...(details?.report ? { report: details.report, parentNotified: details.parentNotified ?? false } : {}),
    ...(details?.rateLimit ? { rateLimit: details.rateLimit } : {}),
  };
}

function failureTypeOf(report: AgentReport, exitCode: number | null): string {
  switch (report.outcome) {
    case 'crashed':
      return failureTypes.agentCrashed;
    case 'timed_out':
      return failureTypes.agentTimedOut;
    case 'rate_limited':
      return failureTypes.agentRateLimited;
    default:
      return exitCode === 0 ? failureTypes.featureNotPassing : failureTypes.agentExited;
  }
}
