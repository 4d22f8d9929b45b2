/**
 * The state writes agents make on one feature (MCP tools, `autocoder feature pass|fail`), each
 * recorded in feature_events with the agent run that made it.
 *
 * Who may write: with a run id (AUTOCODER_RUN_ID) the write is fenced by the claim, as every
 * write after a claim is (transitions.ts): marking needs the run to hold the feature's coding
 * claim or testing lease (markFeature's fencing); releasing needs it to hold the claim. Without a
 * run id (an operator's session or script) the write is unconditional.
 */
import { type Kysely, sql } from 'kysely';
import { ClaimLostError, UserError } from '../errors.ts';
import { recordFeatureEvents } from './feature-edits.ts';
import { markFeature, unknownFeature } from './features.ts';
import { releaseClaim } from './transitions.ts';
import type { Database } from './tables.ts';

export type MarkByInput = {
  projectId: string;
  featureId: number;
  passes: boolean;
  reason?: string | undefined;
  /** The agent run, for fencing; null for an operator (unconditional). */
  runId: string | null;
  /** Who to record in feature_events: the run id, or the operator's session name. */
  actor: string;
};

/** markFeature (fenced by runId when given) and its feature_events row, in one transaction. */
export async function markFeatureBy(
  db: Kysely<Database>,
  input: MarkByInput,
): Promise<{ id: number; passes: boolean; merging: boolean; name: string }> {
  return db.transaction().execute(async (trx) => {
    const marked = await markFeature(trx, {
      projectId: input.projectId,
      featureId: input.featureId,
      passes: input.passes,
      reason: input.reason,
      runId: input.runId,
    });
    await recordFeatureEvents(trx, [
      {
        projectId: input.projectId,
        featureId: input.featureId,
        runId: input.actor,
        action: input.passes ? 'mark passing' : 'mark failing',
        detail: input.reason === undefined ? {} : { reason: input.reason },
      },
    ]);
    const { name } = await trx
      .selectFrom('features')
      .select('name')
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .executeTakeFirstOrThrow();
    return { ...marked, name };
  });
}

export type RunClaim = {
  /** True when `owner` held the claim already (the workflow claims a feature for its agent run). */
  alreadyClaimed: boolean;
};

/**
 * Claims one named feature for one named owner (`feature_claim_and_get`,
 * `feature_mark_in_progress`). The scheduler's claims (claims.ts) pick features and name their
 * owner after the attempt; this one is the agent asking for a given feature under its own run
 * id, so that its later fenced writes match. One statement: the row lock serialises two
 * claimers, and the loser re-reads the winner's claim and matches nothing. A feature that passes,
 * is held by another owner, or waits for a human answer is not claimed; the error says which.
 */
export async function claimFeatureForRun(
  db: Kysely<Database>,
  input: { projectId: string; featureId: number; owner: string },
): Promise<RunClaim> {
  const { projectId, featureId, owner } = input;
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ already: boolean }>`
      WITH target AS (
        SELECT f.project_id, f.id, f.claimed_by IS NOT DISTINCT FROM ${owner}::text AS already
        FROM features f
        WHERE f.project_id = ${projectId} AND f.id = ${featureId}
        FOR UPDATE
      )
      UPDATE features f
      SET in_progress = true,
          claimed_by = ${owner}::text,
          claimed_at = CASE WHEN t.already THEN f.claimed_at ELSE now() END,
          attempts = f.attempts + CASE WHEN t.already THEN 0 ELSE 1 END,
          updated_at = now()
      FROM target t
      WHERE f.project_id = t.project_id AND f.id = t.id
        AND NOT f.passes AND f.merging_since IS NULL
        AND (NOT f.in_progress OR f.claimed_by IS NULL OR t.already)
        AND NOT EXISTS (SELECT 1 FROM human_requests h
                        WHERE h.project_id = f.project_id AND h.feature_id = f.id AND h.kind = 'feature' AND h.answered_at IS NULL)
      RETURNING t.already`.execute(trx);
    const row = rows[0];
    if (!row) throw await whyNotClaimed(trx, projectId, featureId);
    if (!row.already) await recordFeatureEvents(trx, [{ projectId, featureId, runId: owner, action: 'claim' }]);
    return { alreadyClaimed: row.already };
  });
}

async function whyNotClaimed(db: Kysely<Database>, projectId: string, featureId: number): Promise<UserError> {
  const f = await db
    .selectFrom('features')
    .select(['passes', 'in_progress', 'claimed_by', 'claimed_at'])
    .where('project_id', '=', projectId)
    .where('id', '=', featureId)
    .executeTakeFirst();
  if (!f) return unknownFeature(projectId, featureId);
  if (f.passes)
    return new UserError(`feature #${featureId} already passes; there is nothing to claim`, {
      hint: 'work on a feature that does not pass yet (feature_get_ready lists them)',
    });
  if (f.in_progress && f.claimed_by) {
    return new UserError(
      `feature #${featureId} is already claimed by another agent run (${f.claimed_by}, since ${f.claimed_at?.toISOString() ?? 'unknown'})`,
      {
        hint: 'work on the feature you were given; two agents must not work on one feature',
      },
    );
  }
  return new UserError(
    `feature #${featureId} is waiting for a human answer (feature_request_human_input); it cannot be claimed until it is answered`,
    {
      hint: 'work on another feature',
    },
  );
}

/**
 * Gives a feature back (`feature_clear_in_progress`): with a run id, only the claim (or testing
 * lease) that run holds, through releaseClaim; a feature nobody has in progress is left as it is
 * (idempotent, as in AutoCoder). Without a run id, any claim is cleared.
 */
export async function releaseFeatureForRun(
  db: Kysely<Database>,
  input: { projectId: string; featureId: number; runId: string | null; actor: string },
): Promise<{ released: 'coding' | 'testing' | 'none' }> {
  const { projectId, featureId, runId } = input;
  return db.transaction().execute(async (trx) => {
    let released: 'coding' | 'testing' | 'none';
    if (runId !== null) {
      try {
        released = (await releaseClaim(trx, { projectId, featureId, owner: runId })).kind;
      } catch (error) {
        if (!(error instanceof ClaimLostError)) throw error;
        const f = await trx
          .selectFrom('features')
          .select(['in_progress', 'claimed_by'])
          .where('project_id', '=', projectId)
          .where('id', '=', featureId)
          .executeTakeFirst();
        if (!f) throw unknownFeature(projectId, featureId);
        if (f.in_progress && f.claimed_by !== null) {
          throw new UserError(
            `feature #${featureId} is held by another agent run (${f.claimed_by}); only its owner can give it back`,
            {
              hint: 'clear only the feature you were given',
            },
          );
        }
        released = 'none';
      }
    } else {
      const f = await trx
        .selectFrom('features')
        .select('in_progress')
        .where('project_id', '=', projectId)
        .where('id', '=', featureId)
        .forUpdate()
        .executeTakeFirst();
      if (!f) throw unknownFeature(projectId, featureId);
      if (f.in_progress) {
        await trx
          .updateTable('features')
          .set({ in_progress: false, claimed_by: null, claimed_at: null, updated_at: sql`now()` })
          .where('project_id', '=', projectId)
          .where('id', '=', featureId)
          .execute();
      }
      released = f.in_progress ? 'coding' : 'none';
    }
    if (released !== 'none')
      await recordFeatureEvents(trx, [
        { projectId, featureId, runId: input.actor, action: 'clear in progress', detail: { released } },
      ]);
    return { released };
  });
}
