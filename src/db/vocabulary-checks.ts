/**
 * CHECK constraints for the vocabularies the database stores, derived from
 * src/workflows/vocabulary.ts so a new name is added in one place. The migrations created these
 * constraints with literal lists (frozen, as migrations are); after migrating, migrateToLatest
 * runs syncVocabularyChecks, which compares each constraint's definition (pg_get_constraintdef)
 * with the one the lists give and replaces it only when they differ, so a name added to a list
 * reaches the database at the next start and a name outside the lists is refused by Postgres.
 *
 * The sync only adds names: a name the database allows and the lists no longer have stays allowed
 * (an older worker beside newer ones in a rolling upgrade must not narrow what they write).
 * Removing a name is a migration's job: migrate the rows that use it, then drop it there.
 */
import { type Kysely, sql } from 'kysely';
import { agentKinds, agentRunOutcomes, humanRequestKinds } from '../workflows/vocabulary.ts';
import type { Database } from './tables.ts';

export type VocabularyCheck = {
  table: string;
  column: string;
  /** The constraint's name (the one Postgres gave the migration's inline CHECK). */
  constraint: string;
  values: readonly string[];
};

export const VOCABULARY_CHECKS: readonly VocabularyCheck[] = [
  { table: 'agent_runs', column: 'kind', constraint: 'agent_runs_kind_check', values: agentKinds },
  { table: 'agent_runs', column: 'outcome', constraint: 'agent_runs_outcome_check', values: agentRunOutcomes },
  { table: 'human_requests', column: 'kind', constraint: 'human_requests_kind_check', values: humanRequestKinds },
];

const NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The definition as pg_get_constraintdef prints it (Postgres deparses `col IN (...)` this way), so
 * an up-to-date constraint compares equal and is left alone. NULL passes a CHECK, so a nullable
 * column (agent_runs.outcome) still allows NULL.
 */
export function checkDefinition(check: VocabularyCheck): string {
  if (!NAME.test(check.column)) throw new Error(`not a plain column name: ${check.column}`);
  if (check.values.length === 0) throw new Error(`${check.table}.${check.column}: an empty vocabulary`);
  for (const v of check.values) {
    if (!NAME.test(v))
      throw new Error(`${check.table}.${check.column}: not a plain vocabulary name: ${JSON.stringify(v)}`);
  }
  return `CHECK ((${check.column} = ANY (ARRAY[${check.values.map((v) => `'${v}'::text`).join(', ')}])))`;
}

export type VocabularySyncReport = { replaced: string[] };

/**
 * Makes every vocabulary CHECK constraint match `checks` (default: the lists in vocabulary.ts).
 * Idempotent; one transaction, serialised by an advisory lock so two workers starting at once do
 * not both replace a constraint. Returns the constraints it replaced (or created).
 */
export async function syncVocabularyChecks(
  db: Kysely<Database>,
  checks: readonly VocabularyCheck[] = VOCABULARY_CHECKS,
): Promise<VocabularySyncReport> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('autocoder.vocabulary-checks'))`.execute(trx);
    const { rows } = await sql<{ table: string; name: string; def: string }>`
      SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS def
      FROM pg_constraint con
      JOIN pg_class c ON c.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND con.contype = 'c'
        AND con.conname = ANY(${checks.map((c) => c.constraint)}::text[])`.execute(trx);
    const replaced: string[] = [];
    for (const check of checks) {
      const current = rows.find((r) => r.table === check.table && r.name === check.constraint);
      // Names are only ever added: during a rolling upgrade an older worker starting beside newer
      // ones must not take back a name they write (an outcome such as host_lost).
      const known = current ? [...current.def.matchAll(/'([a-z_][a-z0-9_]*)'::text/g)].map((m) => m[1] as string) : [];
      const values = [...check.values, ...known.filter((v) => !check.values.includes(v))];
      const wanted = checkDefinition({ ...check, values });
      if (current?.def === wanted) continue;
      const table = sql.id(check.table);
      const name = sql.id(check.constraint);
      await sql`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${name}, ADD CONSTRAINT ${name} ${sql.raw(wanted)}`.execute(
        trx,
      );
      replaced.push(check.constraint);
    }
    return { replaced };
  });
}
