/**
 * agentRun: one agent process tree working on one feature (or on the project, for the
 * initializer). It supervises the process through an activity, records the outcome in the
 * feature store (fenced by this workflow's ID, which is the claim owner) and tells the parent
 * by workflow ID, so the report reaches whichever run of projectRun is current.
 */
import * as wf from '@temporalio/workflow';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { AgentActivities, AgentExitSummary, AgentSpec, RecordOutcomeInput } from '../activities/types.ts';
import { agentFinishedSignal, type AgentReport } from './messages.ts';
import { failureTypes } from './vocabulary.ts';

const agentFailureTypes = {
  exited: failureTypes.agentExited,
  crashed: failureTypes.agentCrashed,
  timed_out: failureTypes.agentTimedOut,
  stopped: failureTypes.agentStopped,
} as const;

export type AgentRunInput = { parentWorkflowId: string; spec: AgentSpec };

const HEARTBEAT_TIMEOUT = '30s';

// Local: recording the outcome runs in the workflow task that saw the agent end, so the parent
// hears of it one task round trip sooner. Recording twice (a retried task) is idempotent.
const { recordAgentOutcome } = wf.proxyLocalActivities<AgentActivities>({
  startToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: {
    initialInterval: '200ms',
    maximumInterval: '30s',
    nonRetryableErrorTypes: [failureTypes.claimLost, failureTypes.invalidInput],
  },
});

const failureOutcomes = new Map<string, RecordOutcomeInput['outcome']>(
  Object.entries(agentFailureTypes).map(([outcome, type]) => [type, outcome as RecordOutcomeInput['outcome']]),
);

export async function agentRun({ parentWorkflowId, spec }: AgentRunInput): Promise<AgentReport> {
  const workflowId = wf.workflowInfo().workflowId;
  const { superviseAgent } = wf.proxyActivities<AgentActivities>({
    // Start-to-close is the agent's own timeout plus room to kill its tree; the heartbeat timeout
    // is what notices a dead worker, after which the retry adopts the still-running agent.
    startToCloseTimeout: spec.timeoutMs + 60_000,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '500ms',
      maximumInterval: '10s',
      nonRetryableErrorTypes: Object.values(agentFailureTypes),
    },
    summary: `${spec.kind}${spec.featureId === null ? '' : ` #${spec.featureId}`} ${spec.featureName}`,
  });

  let outcome: RecordOutcomeInput['outcome'] = 'exited';
  let exitCode: number | null = null;
  let signal: string | null = null;
  let error: string | null = null;
  // A normal exit is settled and reported by the activity itself: the parent hears of it without
  // waiting for a task of this workflow (dependency-to-start latency, issue 10). What follows
  // depends on the activity's result (a report or none), not on a patch marker, so the patch is
  // deprecated; and since a deprecated patch may be absent from a history, it is asked for only
  // when replaying, to match the (non-deprecated) marker of runs started before its deprecation.
  // Asked for in a new run it would record a marker and a TemporalChangeVersion search attribute
  // update (a visibility write): two events per agent run for nothing.
  if (wf.workflowInfo().unsafe.isReplaying) wf.deprecatePatch('report-from-supervisor');
  let settled: Pick<AgentExitSummary, 'report' | 'parentNotified'> = {};
  try {
    const exit = await superviseAgent({ ...spec, reportTo: parentWorkflowId });
    exitCode = exit.exitCode;
    signal = exit.signal;
    settled = exit;
  } catch (err) {
    if (wf.isCancellation(err)) {
      outcome = 'stopped';
      error = 'stopped by operator';
    } else {
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const type = cause instanceof ApplicationFailure ? cause.type : null;
      outcome = (type && failureOutcomes.get(type)) || 'crashed';
      error = cause instanceof Error ? cause.message : String(cause);
      const details =
        cause instanceof ApplicationFailure
          ? (cause.details?.[0] as { exitCode?: number | null; signal?: string | null } | undefined)
          : undefined;
      exitCode = details?.exitCode ?? null;
      signal = details?.signal ?? null;
    }
  }

  // Whatever happened (even a cancellation of this workflow), the claim is settled and the
  // parent told; nothing of this may be cancelled half-way.
  return await wf.CancellationScope.nonCancellable(async () => {
    const recorded =
      settled.report ??
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
    const report: AgentReport = { workflowId, kind: spec.kind, featureId: spec.featureId, ...recorded };
    if (settled.parentNotified) return report;
    try {
      await wf.getExternalWorkflowHandle(parentWorkflowId).signal(agentFinishedSignal, report);
    } catch (err) {
      // The parent has closed (stopped, or ended while this agent finished): nothing to tell.
      wf.log.info('parent not reachable for agentFinished', { parentWorkflowId, error: String(err) });
    }
    return report;
  });
}
