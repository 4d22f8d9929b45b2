/** recordAgentOutcome: settle an agent run's claim and record how it ended (owner-fenced). */
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { failureTypes } from '../workflows/vocabulary.ts';
import { recordOutcome } from '../db/transitions.ts';
import type { Database } from '../db/tables.ts';
import { ClaimLostError } from '../errors.ts';
import type { RecordOutcomeInput, RecordOutcomeResult } from './types.ts';

/**
 * The outcome recorded by an earlier call for this run (a retried workflow task or activity after
 * the write committed): the run has ended and no longer holds its claim.
 */
async function alreadyRecorded(db: Kysely<Database>, input: RecordOutcomeInput): Promise<RecordOutcomeResult | null> {
  const run = await db
    .selectFrom('agent_runs')
    .select(['ended_at', 'outcome', 'error'])
    .where('id', '=', input.owner)
    .executeTakeFirst();
  if (!run?.ended_at || !run.outcome) return null;
  if (input.featureId === null)
    return { outcome: run.outcome, featurePasses: false, failureCount: 0, error: run.error };
  const feature = await db
    .selectFrom('features')
    .select(['passes', 'failure_count', 'claimed_by', 'testing_claimed_by'])
    .where('project_id', '=', input.projectId)
    .where('id', '=', input.featureId)
    .executeTakeFirst();
  if (!feature || feature.claimed_by === input.owner || feature.testing_claimed_by === input.owner) return null;
  return { outcome: run.outcome, featurePasses: feature.passes, failureCount: feature.failure_count, error: run.error };
}

/**
 * Settles the run's claim once; calling it again returns what the first call recorded (`fresh`
 * tells which). Throws ClaimLostError.
 */
export async function settleAgentRun(
  db: Kysely<Database>,
  input: RecordOutcomeInput & { maxRetries?: number },
): Promise<{ recorded: RecordOutcomeResult; fresh: boolean }> {
  const earlier = await alreadyRecorded(db, input);
  if (earlier) return { recorded: earlier, fresh: false };
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
    error: result.outcome === 'passed' ? null : (input.error ?? 'exited 0 without the feature passing'),
  };
  return { recorded, fresh: true };
}

export function createOutcomeActivities({ db }: { db: Kysely<Database> }) {
  return {
    async recordAgentOutcome(input: RecordOutcomeInput & { maxRetries?: number }): Promise<RecordOutcomeResult> {
      try {
        return (await settleAgentRun(db, input)).recorded;
      } catch (err) {
        if (err instanceof ClaimLostError)
          throw ApplicationFailure.create({ type: failureTypes.claimLost, nonRetryable: true, message: err.message });
        throw err;
      }
    },
  };
}
