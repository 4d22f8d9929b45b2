/**
 * Questions agents ask a person: `feature_request_human_input` (kind 'feature': the feature
 * cannot go on without it, and `autocoder feature ask`) and `ask_user` (kind 'ask'). Recorded,
 * listed, answered. An open 'feature' request parks its feature (state needs_human_input, never
 * claimed); the run's answerFeature update and `autocoder answer` store the answer here.
 */
import type { Kysely, Transaction } from 'kysely';
import { UserError } from '../errors.ts';
import {
  answerText,
  checkAnswer,
  requestForm,
  storedAnswer,
  type AnswerInput,
  type OpenRequest,
} from '../workflows/human-answer.ts';
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
  db: Kysely<Database> | Transaction<Database>,
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

export type OpenRequestRow = OpenRequest & { project: string; kind: HumanRequestKind };

function toOpen(r: HumanRequestRow): OpenRequestRow {
  return {
    project: r.project_id,
    kind: r.kind,
    requestId: Number(r.id),
    featureId: r.feature_id ?? 0,
    question: r.question,
    askedAt: r.created_at.toISOString(),
    ...requestForm(r.kind, r.options),
  };
}

/**
 * Open requests that name a feature, oldest first: of one project, or of every project (the
 * inbox). A feature's 'feature' request comes before its 'ask' ones.
 */
export async function openRequests(
  db: Kysely<Database> | Transaction<Database>,
  options: { projectId?: string; featureId?: number } = {},
): Promise<OpenRequestRow[]> {
  let query = db
    .selectFrom('human_requests')
    .selectAll()
    .where('answered_at', 'is', null)
    .where('feature_id', 'is not', null);
  if (options.projectId !== undefined) query = query.where('project_id', '=', options.projectId);
  if (options.featureId !== undefined) query = query.where('feature_id', '=', options.featureId);
  const rows = await query.orderBy('id').execute();
  return rows.map(toOpen).sort((a, b) => Number(b.kind === 'feature') - Number(a.kind === 'feature'));
}

/**
 * Answers the feature's open request (its 'feature' request first, else its oldest 'ask'), checked
 * by `checkAnswer` under the request's row lock: a bad answer is a UserError and nothing changes.
 */
export async function answerFeatureRequest(
  db: Kysely<Database>,
  input: { projectId: string; answer: AnswerInput },
): Promise<{ requestId: number; featureId: number; question: string; answer: string }> {
  return db.transaction().execute(async (trx) => {
    const open = (await openRequests(trx, { projectId: input.projectId, featureId: input.answer.featureId }))[0];
    if (open) {
      await trx.selectFrom('human_requests').select('id').where('id', '=', open.requestId).forUpdate().execute();
    }
    const problem = checkAnswer(open ?? null, input.answer);
    if (problem || !open)
      throw new UserError(`${input.projectId}: ${problem ?? 'no open request'}`, {
        hint: 'see the open requests with `autocoder inbox`',
      });
    const stored = storedAnswer(open, input.answer);
    const answered = await answerHumanRequest(trx, {
      projectId: input.projectId,
      requestId: open.requestId,
      answer: stored,
    });
    if (!answered) throw new UserError(`request #${open.requestId} of ${input.projectId} was answered meanwhile`);
    return {
      requestId: open.requestId,
      featureId: open.featureId,
      question: open.question,
      answer: answerText(stored),
    };
  });
}

/** The feature's latest answered request with an answer: what its next agent is told. */
export async function latestAnswer(
  db: Kysely<Database>,
  input: { projectId: string; featureId: number },
): Promise<{ question: string; answer: string } | null> {
  const row = await db
    .selectFrom('human_requests')
    .select(['question', 'answer'])
    .where('project_id', '=', input.projectId)
    .where('feature_id', '=', input.featureId)
    .where('answered_at', 'is not', null)
    .where('answer', 'is not', null)
    .orderBy('answered_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { question: row.question, answer: answerText(row.answer) } : null;
}
