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
import type { RecordOutcomeInput, RecordOutcomeResult } from './types.ts';

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

export function createOutcomeActivities({ db }: { db: Kysely<Database> }) {
  return {
    async recordAgentOutcome(input: RecordOutcomeInput & { maxRetries?: number }): Promise<RecordOutcomeResult> {
      try {
        return (await settleAgentRun(db, input)).recorded;
      } catch (err) {
        if (err instanceof ClaimLostError) {
          throw ApplicationFailure.create({ type: failureTypes.claimLost, nonRetryable: true, message: err.message });
        }
        throw err;
      }
    },
  };
}
