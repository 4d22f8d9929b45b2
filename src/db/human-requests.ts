/**
 * Questions agents ask a person: `feature_request_human_input` (kind 'feature': the feature
 * cannot go on without it) and `ask_user` (kind 'ask'). Recorded, listed, answered; the workflow
 * side (parking the feature, an update that answers, reminders) comes later (DESIGN.md §9).
 */
import type { Kysely } from 'kysely';
import { UserError } from '../errors.ts';
import { unknownFeature } from './features.ts';
import type { Database, HumanRequestKind, HumanRequestRow } from './tables.ts';

export type HumanRequestInput = {
  projectId: string;
  featureId: number | null;
  runId: string;
  kind: HumanRequestKind;
  question: string;
  /** What the person chooses from or fills in (fields for 'feature', questions for 'ask'). */
  options: readonly unknown[];
};

/**
 * Records a request. For kind 'feature' the feature must exist and not pass (as in AutoCoder); an
 * earlier open request of the same feature is superseded (closed with a null answer), so a
 * feature has at most one open request.
 */
export async function createHumanRequest(db: Kysely<Database>, input: HumanRequestInput): Promise<HumanRequestRow> {
  return db.transaction().execute(async (trx) => {
    if (input.featureId !== null) {
      const feature = await trx
        .selectFrom('features')
        .select(['passes'])
        .where('project_id', '=', input.projectId)
        .where('id', '=', input.featureId)
        .forUpdate()
        .executeTakeFirst();
      if (!feature) throw unknownFeature(input.projectId, input.featureId);
      if (input.kind === 'feature' && feature.passes) {
        throw new UserError(`feature #${input.featureId} already passes; it needs no human input`, {
          hint: 'ask about a feature that does not pass yet',
        });
      }
      if (input.kind === 'feature') {
        await trx
          .updateTable('human_requests')
          .set({ answered_at: new Date(), answer: null })
          .where('project_id', '=', input.projectId)
          .where('feature_id', '=', input.featureId)
          .where('kind', '=', 'feature')
          .where('answered_at', 'is', null)
          .execute();
      }
    }
    return trx
      .insertInto('human_requests')
      .values({
        project_id: input.projectId,
        feature_id: input.featureId,
        run_id: input.runId,
        kind: input.kind,
        question: input.question,
        options: JSON.stringify(input.options),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** The project's requests, newest first; `open` limits them to unanswered ones. */
export async function listHumanRequests(
  db: Kysely<Database>,
  options: { projectId: string; featureId?: number; open?: boolean; limit?: number },
): Promise<HumanRequestRow[]> {
  let query = db.selectFrom('human_requests').selectAll().where('project_id', '=', options.projectId);
  if (options.featureId !== undefined) query = query.where('feature_id', '=', options.featureId);
  if (options.open) query = query.where('answered_at', 'is', null);
  return query
    .orderBy('id', 'desc')
    .limit(options.limit ?? 1000)
    .execute();
}

/** Feature ids with an open 'feature' request: what AutoCoder calls needs_human_input. */
export async function featuresAwaitingHumans(db: Kysely<Database>, projectId: string): Promise<Set<number>> {
  const rows = await db
    .selectFrom('human_requests')
    .select('feature_id')
    .distinct()
    .where('project_id', '=', projectId)
    .where('kind', '=', 'feature')
    .where('answered_at', 'is', null)
    .where('feature_id', 'is not', null)
    .execute();
  return new Set(rows.map((r) => r.feature_id as number));
}

/** Answers an open request; false when it does not exist or was answered already. */
export async function answerHumanRequest(
  db: Kysely<Database>,
  input: { projectId: string; requestId: number; answer: unknown },
): Promise<boolean> {
  const row = await db
    .updateTable('human_requests')
    .set({ answer: JSON.stringify(input.answer ?? null), answered_at: new Date() })
    .where('project_id', '=', input.projectId)
    .where('id', '=', input.requestId)
    .where('answered_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
