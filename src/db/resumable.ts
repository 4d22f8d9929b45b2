/**
 * Features left in progress with no owner (an import of AutoCoder features marked in_progress, an
 * earlier session): the original resumes these first, before any new work and whatever their
 * dependencies, in scheduling order. A claim that has an owner is the scheduling pass's to adopt,
 * settle or start (src/activities/schedule-steps.ts), never to take over.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './tables.ts';

export type OrphanedFeature = { id: number; overRetryCap: boolean };

export async function orphanedFeatures(
  db: Kysely<Database>,
  input: { projectId: string; maxRetries: number },
): Promise<OrphanedFeature[]> {
  const { rows } = await sql<{ id: number; over_cap: boolean }>`
    SELECT f.id, f.failure_count >= ${input.maxRetries}::int AS over_cap
    FROM features f
    WHERE f.project_id = ${input.projectId} AND f.in_progress AND NOT f.passes AND f.claimed_by IS NULL
    ORDER BY f.score DESC, f.priority, f.id`.execute(db);
  return rows.map((r) => ({ id: r.id, overRetryCap: r.over_cap }));
}

/** Takes an orphaned feature that is over the retry cap out of progress: it is given up, not resumed. */
export async function releaseOrphan(
  db: Kysely<Database>,
  input: { projectId: string; featureId: number },
): Promise<void> {
  await db
    .updateTable('features')
    .set({ in_progress: false, updated_at: sql`now()` })
    .where('project_id', '=', input.projectId)
    .where('id', '=', input.featureId)
    .where('in_progress', '=', true)
    .where('claimed_by', 'is', null)
    .execute();
}
