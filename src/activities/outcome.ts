/**
 * The one way an agent run's end is settled (DESIGN.md §9, docs/architecture.md "An agent's
 * end"): superviseAgent when it sees the process end, agentRun when the activity could not, or
 * a scheduling pass that finds the run closed without a report. The store writes the outcome
 * once (src/db/transitions.ts recordOutcome); whoever comes second gets the same result back.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { failureTypes } from '../workflows/vocabulary.ts';
import { recordOutcome } from '../db/transitions.ts';
import type { Database } from '../db/tables.ts';
import { ClaimLostError } from '../errors.ts';
import { AgentRunError } from '../supervisor/index.ts';
import type { AgentEndReport, AgentFailureDetails, RecordOutcomeInput, RecordOutcomeResult } from './types.ts';
import type { AutocoderMetrics } from '../metrics/meter.ts';
import { observeAgentEnd } from '../metrics/observe.ts';

/** Settles the run once; `fresh` tells whether this call wrote it. Throws ClaimLostError. */
export async function settleAgentRun(
  db: Kysely<Database>,
  input: RecordOutcomeInput & { maxRetries?: number },
): Promise<{ recorded: RecordOutcomeResult; fresh: boolean }> {
  const result = await recordOutcome(db, {
    projectId: input.projectId,
    featureId: input.featureId,
    owner: input.owner,
    kind: input.kind,
    // The supervisor's "exited 0"; the store turns it into 'failed' when the feature does not pass.
    outcome: input.outcome === 'exited' ? 'passed' : input.outcome,
    exitCode: input.exitCode,
    signal: input.signal,
    error: input.error,
    maxRetries: input.maxRetries,
  });
  const recorded = {
    outcome: result.outcome,
    featurePasses: result.passes,
    failureCount: result.failureCount,
    error: result.error,
    ...(result.features
      ? {
          features: result.features.map(({ featureId, passes, failureCount }) => ({ featureId, passes, failureCount })),
        }
      : {}),
  };
  return { recorded, fresh: result.fresh };
}

export function createOutcomeActivities({
  db,
  metrics,
}: {
  db: Kysely<Database>;
  metrics?: AutocoderMetrics | undefined;
}) {
  return {
    async recordAgentOutcome(input: RecordOutcomeInput & { maxRetries?: number }): Promise<RecordOutcomeResult> {
      try {
        const { recorded, fresh } = await settleAgentRun(db, input);
        if (fresh && metrics)
          await observeAgentEnd(db, metrics, { id: input.owner, kind: input.kind, outcome: recorded.outcome });
        return recorded;
      } catch (err) {
        if (err instanceof ClaimLostError) {
          throw ApplicationFailure.create({ type: failureTypes.claimLost, nonRetryable: true, message: err.message });
        }
        throw err;
      }
    },
  };
}

/**
 * Agent failures are final for this attempt (the workflow decides about another); the rest
 * retries. The failure carries what reportEnd settled, so the workflow does not settle it again.
 */
export function toFailure(err: unknown, settled: AgentEndReport = {}, reason?: RecordOutcomeInput['outcome']): unknown {
  if (err instanceof AgentRunError) {
    const details: AgentFailureDetails = {
      reason: reason === 'rate_limited' || reason === 'stopped' || reason === 'host_drained' ? reason : err.reason,
      exitCode: err.exitCode,
      signal: err.signal,
      durationMs: err.durationMs,
      outputTail: err.outputTail.slice(-4000),
      ...settled,
    };
    return ApplicationFailure.create({ type: err.type, nonRetryable: true, message: err.message, details: [details] });
  }
  return err;
}
