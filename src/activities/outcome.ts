/** recordAgentOutcome: settle an agent run's claim and record how it ended (owner-fenced). */
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { recordOutcome } from '../db/transitions.ts';
import type { Database } from '../db/tables.ts';
import { ClaimLostError } from '../errors.ts';
import type { RecordOutcomeInput, RecordOutcomeResult } from './types.ts';

export function createOutcomeActivities({ db }: { db: Kysely<Database> }) {
  return {
    async recordAgentOutcome(input: RecordOutcomeInput & { maxRetries?: number }): Promise<RecordOutcomeResult> {
      try {
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
        return { outcome: result.outcome, featurePasses: result.passes, failureCount: result.failureCount, error: result.outcome === 'passed' ? null : input.error ?? 'exited 0 without the feature passing' };
      } catch (err) {
        if (err instanceof ClaimLostError) throw ApplicationFailure.create({ type: 'ClaimLost', nonRetryable: true, message: err.message });
        throw err;
      }
    },
  };
}
