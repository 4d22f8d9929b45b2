import { type Kysely, sql } from 'kysely';
import { UserError, showValue } from '../errors.ts';
import { requireProject, upsertProject } from './projects.ts';
import { recomputeScores } from './scores.ts';
import type { Database } from './tables.ts';

/** One feature as the feature-file loader returns it (snake_case, AutoCoder's field names). */
export type FeatureEntry = {
  id: number;
  priority?: number;
  category?: string;
  name: string;
  description?: string;
  steps?: readonly string[];
  dependencies?: readonly number[] | null;
  passes?: boolean;
  in_progress?: boolean;
};

export type ImportOptions = {
  /** Take the file's `passes` as the truth even for passing features, and clear failure counts. */
  reset?: boolean;
  /**
   * Create the project with this directory (or move an existing one there) in the same
   * transaction, so a failed import does not leave an empty project behind.
   */
  dir?: string;
};

export type ImportCounts = {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Features of the project the file does not mention; import never deletes them. */
  notInFile: number;
};

const INT4_MAX = 2_147_483_647;
const ROWS_PER_STATEMENT = 1000;

/**
 * Imports a validated feature list into a project, in one transaction: any error leaves the
 * database as it was. Features are matched by id:
 * - new ids are inserted (with `passes`/`in_progress` from the file; an imported `in_progress`
 *   without an owner is an orphan that the run resumes first, as AutoCoder does);
 * - known ids get the file's text, priority and dependencies; a passing feature stays passing
 *   unless `reset` (then the file's `passes` wins and failure counts are cleared);
 *   runtime state (claims, leases, attempts) is never touched;
 * - the file's order becomes the list order, and scores are recomputed for the whole project.
 */
export async function importFeatures(
  db: Kysely<Database>,
  projectId: string,
  entries: readonly FeatureEntry[],
  options: ImportOptions = {},
): Promise<ImportCounts> {
  checkEntries(entries);
  const reset = options.reset ?? false;
  return db.transaction().execute(async (trx) => {
    if (options.dir === undefined) await requireProject(trx, projectId);
    else await upsertProject(trx, { id: projectId, dir: options.dir });
    // Structural changes to one project are serialised on its row, so two imports (or an import
    // and a dependency edit) never compute scores from each other's half-written lists.
    await trx.selectFrom('projects').select('id').where('id', '=', projectId).forUpdate().execute();

    let inserted = 0;
    let updated = 0;
    for (let start = 0; start < entries.length; start += ROWS_PER_STATEMENT) {
      const chunk = entries.slice(start, start + ROWS_PER_STATEMENT);
      const rows = chunk.map((e, i) => ({
        project_id: projectId,
        id: e.id,
        priority: e.priority ?? 999,
        category: e.category ?? '',
        name: e.name,
        description: e.description ?? '',
        steps: JSON.stringify(e.steps ?? []),
        dependencies: [...(e.dependencies ?? [])],
        passes: e.passes ?? false,
        in_progress: e.in_progress ?? false,
        position: start + i,
      }));
      const changed = await trx
        .insertInto('features')
        .values(rows)
        .onConflict((oc) =>
          oc
            .columns(['project_id', 'id'])
            .doUpdateSet({
              priority: sql`excluded.priority`,
              category: sql`excluded.category`,
              name: sql`excluded.name`,
              description: sql`excluded.description`,
              steps: sql`excluded.steps`,
              dependencies: sql`excluded.dependencies`,
              passes: reset ? sql`excluded.passes` : sql`features.passes OR excluded.passes`,
              failure_count: reset ? 0 : sql`features.failure_count`,
              last_error: reset ? null : sql`features.last_error`,
              updated_at: sql`now()`,
            })
            // Rows whose content would not change are left alone and not returned: "unchanged".
            .where(
              reset
                ? sql<boolean>`(features.priority, features.category, features.name, features.description,
                     features.steps, features.dependencies, features.passes, features.failure_count, features.last_error)
                   IS DISTINCT FROM (excluded.priority, excluded.category, excluded.name, excluded.description,
                     excluded.steps, excluded.dependencies, excluded.passes, 0, NULL::text)`
                : sql<boolean>`(features.priority, features.category, features.name, features.description,
                     features.steps, features.dependencies, features.passes)
                   IS DISTINCT FROM (excluded.priority, excluded.category, excluded.name, excluded.description,
                     excluded.steps, excluded.dependencies, features.passes OR excluded.passes)`,
            ),
        )
        // xmax = 0 only on a freshly inserted row version: tells inserts from updates.
        .returning(sql<boolean>`xmax = 0`.as('inserted'))
        .execute();
      for (const row of changed) {
        if (row.inserted) inserted += 1;
        else updated += 1;
      }
    }

    await recomputeScores(
      trx,
      projectId,
      entries.map((e) => e.id),
    );
    const total = await trx
      .selectFrom('features')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return {
      inserted,
      updated,
      unchanged: entries.length - inserted - updated,
      notInFile: Number(total.n) - entries.length,
    };
  });
}

/**
 * The loader validates files fully; these are the limits of the table itself, checked again here
 * so that no caller can turn a bad entry into a half-done import or a database error.
 */
function checkEntries(entries: readonly FeatureEntry[]): void {
  const problems: string[] = [];
  const seen = new Set<number>();
  entries.forEach((e, i) => {
    if (!Number.isInteger(e.id) || e.id < 1 || e.id > INT4_MAX)
      problems.push(`features[${i}].id: must be an integer 1..${INT4_MAX}, got ${showValue(e.id)}`);
    else if (seen.has(e.id)) problems.push(`features[${i}].id: duplicate id ${e.id}`);
    seen.add(e.id);
    const p = e.priority ?? 999;
    if (!Number.isInteger(p) || Math.abs(p) > INT4_MAX)
      problems.push(`features[${i}].priority: must be an integer, got ${showValue(p)}`);
    (e.dependencies ?? []).forEach((d, j) => {
      if (!Number.isInteger(d) || Math.abs(d) > INT4_MAX)
        problems.push(`features[${i}].dependencies[${j}]: must be an integer, got ${showValue(d)}`);
    });
    if (typeof e.name !== 'string' || e.name.length === 0)
      problems.push(`features[${i}].name: must be a non-empty string, got ${showValue(e.name)}`);
    // Postgres text and jsonb cannot hold NUL characters.
    const texts: Array<[string, unknown]> = [
      ['name', e.name],
      ['category', e.category],
      ['description', e.description],
    ];
    (e.steps ?? []).forEach((step, j) => texts.push([`steps[${j}]`, step]));
    for (const [field, text] of texts) {
      if (typeof text === 'string' && text.includes('\u0000'))
        problems.push(`features[${i}].${field}: must not contain NUL characters`);
    }
  });
  if (problems.length > 0) {
    throw new UserError(
      `feature list rejected (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`,
      {
        hint: 'fix the entries listed and import again; nothing was changed',
      },
    );
  }
}
