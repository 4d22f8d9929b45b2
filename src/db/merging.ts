/**
 * The feature store's side of the merge queue: which features wait to land (in the order their
 * agents finished, never before their dependencies), and the two ends of a merge: landed
 * (passing, so its dependents become ready) or sent back (pending, a failure counted unless a
 * reviewer rejected it). Each write is conditional on the feature still being `merging`, so a
 * retried activity writes once; each records a feature_events row naming the queue.
 */
import { type Kysely, sql } from 'kysely';
import type { MergeFailure } from '../workflows/vocabulary.ts';
import { recordFeatureEvents } from './feature-edits.ts';
import type { Database } from './tables.ts';

type Db = Kysely<Database>;

/**
 * One entry of the queue: the branch of feature `id` (its worktree), and the merging features
 * whose work is on it (`members`, in dependency order): the feature itself, or a batch's.
 */
export type MergingFeature = { id: number; name: string; failureCount: number; ready: boolean; members: number[] };

type MergingRow = {
  id: number;
  lead: number;
  lead_name: string;
  lead_failures: number;
  lead_busy: boolean;
  dependencies: number[];
  deps_met: boolean;
};

/**
 * Entries in `merging`, in finish order (their first member's). `ready` when every dependency of
 * every member passes or is a member of the same entry, and no agent works in the branch's
 * worktree (a batch's first feature that did not pass may be coded again there).
 */
export async function mergingFeatures(db: Db, projectId: string): Promise<MergingFeature[]> {
  const { rows } = await sql<MergingRow>`
    SELECT f.id, coalesce(f.merge_with, f.id) AS lead, l.name AS lead_name, l.failure_count AS lead_failures,
           l.in_progress AND l.merging_since IS NULL AS lead_busy, f.dependencies,
           NOT EXISTS (
             SELECT 1 FROM unnest(f.dependencies) AS d(id)
             WHERE NOT EXISTS (SELECT 1 FROM features p
                               WHERE p.project_id = f.project_id AND p.id = d.id
                                 AND (p.passes OR (p.merging_since IS NOT NULL
                                                   AND coalesce(p.merge_with, p.id) = coalesce(f.merge_with, f.id))))
           ) AS deps_met
    FROM features f
    JOIN features l ON l.project_id = f.project_id AND l.id = coalesce(f.merge_with, f.id)
    WHERE f.project_id = ${projectId} AND f.merging_since IS NOT NULL AND NOT f.passes
    ORDER BY f.merging_since, f.id`.execute(db);
  const entries = new Map<number, { first: MergingRow; rows: MergingRow[] }>();
  for (const r of rows) {
    const entry = entries.get(r.lead) ?? { first: r, rows: [] };
    entry.rows.push(r);
    entries.set(r.lead, entry);
  }
  return [...entries.values()].map(({ first, rows: members }) => ({
    id: first.lead,
    name: first.lead_name,
    failureCount: first.lead_failures,
    ready: !first.lead_busy && members.every((m) => m.deps_met),
    members: dependencyOrder(members),
  }));
}

/** Members so that each comes after the members it depends on (lowest id first among those free to go). */
function dependencyOrder(members: readonly MergingRow[]): number[] {
  const ids = new Set(members.map((m) => m.id));
  const left = [...members].sort((a, b) => a.id - b.id);
  const order: number[] = [];
  while (left.length > 0) {
    const i = Math.max(
      0,
      left.findIndex((m) => m.dependencies.every((d) => !ids.has(d) || order.includes(d))),
    );
    order.push(left.splice(i, 1)[0]!.id);
  }
  return order;
}

/**
 * The project's isolation for the run starting now: an agent's "passing" means merging under
 * `worktree`. A shared run has no queue, so features an earlier worktree run left merging are
 * pending again (their work stays on their branches).
 */
export async function setProjectIsolation(db: Db, projectId: string, isolation: 'worktree' | 'shared'): Promise<void> {
  await db.updateTable('projects').set({ isolation }).where('id', '=', projectId).execute();
  if (isolation === 'shared')
    await db
      .updateTable('features')
      .set({ merging_since: null, merge_with: null })
      .where('project_id', '=', projectId)
      .where('merging_since', 'is not', null)
      .execute();
}

/**
 * Marks a landed feature passing (its dependents' ready count drops through the triggers). The
 * project row lock first, as markFeature takes it. True when this call landed it.
 */
export async function markLanded(
  db: Db,
  input: { projectId: string; featureId: number; commit: string; actor: string },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom('projects').select('id').where('id', '=', input.projectId).forNoKeyUpdate().execute();
    const row = await trx
      .updateTable('features')
      .set({ passes: true, merging_since: null, merge_with: null, updated_at: sql`now()` })
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .where('merging_since', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    if (!row) return false;
    await recordFeatureEvents(trx, [
      {
        projectId: input.projectId,
        featureId: input.featureId,
        runId: input.actor,
        action: 'landed',
        detail: { commit: input.commit },
      },
    ]);
    return true;
  });
}

export const REVIEW_REJECTED = 'rejected in review: ';

/**
 * Sends a feature back to pending: a merge failure counts (the feature fails at maxRetries, as
 * any failed attempt), a review rejection or work lost with its host does not; either way last_error says why, and the next
 * agent is told (superviseAgent reads it). True when this call sent it back.
 */
export async function sendBack(
  db: Db,
  input: { projectId: string; featureId: number; actor: string } & (
    { failure: MergeFailure; outputTail: string } | { rejected: string } | { lost: string }
  ),
): Promise<boolean> {
  const counted = 'failure' in input;
  const error =
    'failure' in input
      ? `${input.failure}: ${input.outputTail}`
      : 'rejected' in input
        ? `${REVIEW_REJECTED}${input.rejected}`
        : input.lost;
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('features')
      .set({
        merging_since: null,
        merge_with: null,
        failure_count: sql`failure_count + ${counted ? 1 : 0}::int`,
        last_error: error,
        updated_at: sql`now()`,
      })
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .where('merging_since', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    if (!row) return false;
    await recordFeatureEvents(trx, [
      {
        projectId: input.projectId,
        featureId: input.featureId,
        runId: input.actor,
        action: 'failure' in input ? 'merge failed' : 'rejected' in input ? 'review rejected' : 'work lost',
        detail:
          'failure' in input
            ? { failure: input.failure, outputTail: input.outputTail }
            : { reason: 'rejected' in input ? input.rejected : input.lost },
      },
    ]);
    return true;
  });
}

/** What a reviewer said when rejecting the feature's last attempt, for its next agent; null if not rejected. */
export async function reviewNoteOf(db: Db, projectId: string, featureId: number): Promise<string | null> {
  const row = await db
    .selectFrom('features')
    .select('last_error')
    .where('project_id', '=', projectId)
    .where('id', '=', featureId)
    .executeTakeFirst();
  const error = row?.last_error ?? '';
  return error.startsWith(REVIEW_REJECTED) ? error.slice(REVIEW_REJECTED.length) : null;
}
