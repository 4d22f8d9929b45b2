import { type Kysely, sql, type Transaction } from 'kysely';
import { schedulingScores } from '../graph/index.ts';
import type { Database } from './tables.ts';

/**
 * Recomputes the scheduling score of every feature of a project with src/graph, over the
 * features in list order (`position`), and writes the scores that changed in one statement.
 *
 * Call it inside the transaction of every structural change (import, create, dependency edit,
 * priority change, reordering). Scores depend on structure only, never on passes or claims, so
 * between structural changes the stored score is exactly what src/graph would compute, and the
 * claim can order in SQL (score desc, priority, id) the way `readyFeatures` orders in memory.
 *
 * `order`, when given, is the new list order (feature ids); features it leaves out follow it in
 * their previous order. Returns how many rows changed.
 */
export async function recomputeScores(
  trx: Transaction<Database> | Kysely<Database>,
  projectId: string,
  order?: readonly number[],
): Promise<number> {
  const rows = await trx
    .selectFrom('features')
    .select(['id', 'priority', 'dependencies', 'position', 'score'])
    .where('project_id', '=', projectId)
    .orderBy('position')
    .orderBy('id')
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const listed: typeof rows = [];
  const placed = new Set<number>();
  for (const id of order ?? []) {
    const row = byId.get(id);
    if (row && !placed.has(id)) {
      listed.push(row);
      placed.add(id);
    }
  }
  for (const row of rows) if (!placed.has(row.id)) listed.push(row);

  const scores = schedulingScores(
    listed.map((r) => ({
      id: r.id,
      priority: r.priority,
      dependencies: r.dependencies,
      passes: false,
      inProgress: false,
    })),
  );
  const ids: number[] = [];
  const positions: number[] = [];
  const newScores: number[] = [];
  listed.forEach((row, position) => {
    const score = scores.get(row.id) ?? 0;
    if (row.position !== position || row.score !== score) {
      ids.push(row.id);
      positions.push(position);
      newScores.push(score);
    }
  });
  if (ids.length === 0) return 0;
  // float8 parameters travel as text; JS prints the shortest exact form and Postgres reads it
  // back to the same double, so stored scores are bit-identical to src/graph's.
  const result = await sql`
    UPDATE features AS f SET score = v.score, position = v.position
    FROM unnest(${ids}::int[], ${positions}::int[], ${newScores}::float8[]) AS v(id, position, score)
    WHERE f.project_id = ${projectId} AND f.id = v.id`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}
