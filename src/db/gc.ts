/**
 * Retention queries for `autocoder gc`: feature events older than a cutoff (counted, or deleted in
 * batches so no statement holds many rows for long), and the agent runs still live (whose logs
 * must stay whatever their age).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './tables.ts';

export type RowsAndBytes = { rows: number; bytes: number };

/** Feature events created before `before` (all projects, or one): how many, and their size. */
export async function oldFeatureEvents(db: Kysely<Database>, before: Date, projectId?: string): Promise<RowsAndBytes> {
  const result = await sql<{ rows: number; bytes: number }>`
    SELECT count(*)::int AS rows, coalesce(sum(pg_column_size(e.*)), 0)::bigint AS bytes
    FROM feature_events e
    WHERE e.created_at < ${before} ${projectId === undefined ? sql`` : sql`AND e.project_id = ${projectId}`}`.execute(
    db,
  );
  const row = result.rows[0];
  return { rows: Number(row?.rows ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/**
 * Deletes the feature events created before `before`, `batchSize` rows per statement (oldest
 * first), calling `onBatch` with the running totals after each. Returns what was deleted.
 */
export async function deleteOldFeatureEvents(
  db: Kysely<Database>,
  before: Date,
  options: { projectId?: string; batchSize?: number; onBatch?: (done: RowsAndBytes) => void } = {},
): Promise<RowsAndBytes> {
  const batchSize = options.batchSize ?? 5000;
  const done: RowsAndBytes = { rows: 0, bytes: 0 };
  const project = options.projectId === undefined ? sql`` : sql`AND project_id = ${options.projectId}`;
  for (;;) {
    const result = await sql<{ bytes: number }>`
      DELETE FROM feature_events e
      WHERE e.id IN (
        SELECT id FROM feature_events WHERE created_at < ${before} ${project} ORDER BY id LIMIT ${batchSize}
      )
      RETURNING pg_column_size(e.*) AS bytes`.execute(db);
    if (result.rows.length === 0) return done;
    done.rows += result.rows.length;
    for (const r of result.rows) done.bytes += Number(r.bytes);
    options.onBatch?.({ ...done });
    if (result.rows.length < batchSize) return done;
  }
}

/** Workflow IDs of agent runs that have not ended, on any host (their logs are still written). */
export async function liveAgentRunIds(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db.selectFrom('agent_runs').select('id').where('ended_at', 'is', null).execute();
  return new Set(rows.map((r) => r.id));
}

/** Every project with its directory, for the branch part of gc. */
export async function projectDirs(db: Kysely<Database>, projectId?: string): Promise<{ id: string; dir: string }[]> {
  let query = db.selectFrom('projects').select(['id', 'dir']).orderBy('id');
  if (projectId !== undefined) query = query.where('id', '=', projectId);
  return query.execute();
}
