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
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type {
  AgentActivities,
  AgentEndReport,
  AgentFailureDetails,
  AgentSpec,
  RecordOutcomeInput,
} from '../activities/types.ts';
import { agentFinishedSignal, type AgentReport } from './messages.ts';
import { agentLabel } from './agent-label.ts';
import { failureTypes } from './vocabulary.ts';

export type AgentRunInput = { parentWorkflowId: string; spec: AgentSpec };

const HEARTBEAT_TIMEOUT = '30s';

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
  const { superviseAgent } = wf.proxyActivities<AgentActivities>({
    // Start-to-close is the agent's own timeout plus room to kill its tree; the heartbeat timeout
    // is what notices a dead worker, after which the retry adopts the still-running agent.
    startToCloseTimeout: spec.timeoutMs + 60_000,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '500ms', maximumInterval: '10s', nonRetryableErrorTypes: agentFailures },
    summary: `${agentLabel(spec.kind, spec.featureId, spec.featureIds)} ${spec.featureName}`,
  });

  const end = await superviseAgent({ ...spec, reportTo: parentWorkflowId }).then(
    (exit): AgentEnd => ({ outcome: 'exited', error: null, ...exit, ...exit.override }),
    endOfFailure,
  );

  // Whatever happened (even a cancellation of this workflow), the claim is settled and the
  // parent told; nothing of this may be cancelled half-way.
  const report = await wf.CancellationScope.nonCancellable(async () => {
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
  throw ApplicationFailure.create({
    type: failureTypeOf(report, end.exitCode),
    nonRetryable: true,
    message: `${agentLabel(spec.kind, spec.featureId, spec.featureIds)}: ${report.error ?? report.outcome}`,
    details: [report],
  });
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
