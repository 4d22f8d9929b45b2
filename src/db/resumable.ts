/**
 * Features left in progress by agent runs a project run does not track (an earlier run, a crash
 * between claim and start, an import of features marked in_progress): the original resumes these
 * first, before any new work and whatever their dependencies, in scheduling order.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './tables.ts';

export type StrandedFeature = {
  id: number;
  name: string;
  owner: string | null;
  overRetryCap: boolean;
  claimedAt: Date | null;
};

export async function strandedFeatures(
  db: Kysely<Database>,
  input: { projectId: string; known: readonly string[]; maxRetries: number },
): Promise<StrandedFeature[]> {
  const { rows } = await sql<{
    id: number;
    name: string;
    owner: string | null;
    over_cap: boolean;
    claimed_at: Date | null;
  }>`
    SELECT f.id, f.name, f.claimed_by AS owner, f.failure_count >= ${input.maxRetries}::int AS over_cap, f.claimed_at
    FROM features f
    WHERE f.project_id = ${input.projectId} AND f.in_progress AND NOT f.passes
      AND (f.claimed_by IS NULL OR f.claimed_by <> ALL(${[...input.known]}::text[]))
    ORDER BY f.score DESC, f.priority, f.id`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    owner: r.owner,
    overRetryCap: r.over_cap,
    claimedAt: r.claimed_at,
  }));
}

/** Takes a stranded feature that is over the retry cap out of progress: it is given up, not resumed. */
export async function releaseStranded(
  db: Kysely<Database>,
  input: { projectId: string; featureId: number; owner: string | null },
): Promise<void> {
  await db
    .updateTable('features')
    .set({ in_progress: false, claimed_by: null, claimed_at: null, updated_at: sql`now()` })
    .where('project_id', '=', input.projectId)
    .where('id', '=', input.featureId)
    .where('in_progress', '=', true)
    .where(input.owner === null ? sql<boolean>`claimed_by IS NULL` : sql<boolean>`claimed_by = ${input.owner}`)
    .execute();
}
