/**
 * Initial schema (DESIGN.md §4). Frozen in time: typed `Kysely<any>`, never the app's Database.
 *
 * Choices worth knowing:
 * - Testing leases live in their own columns (`testing_claimed_by/_at`) apart from the coding
 *   claim (`claimed_by/_at`): a passing feature can be under test while nothing codes on it, and
 *   each kind of owner fences its own writes. `testing_in_progress` is generated from the lease
 *   so the flag AutoCoder's tools read can never disagree with it.
 * - `score` is the scheduling score (SPEC.md Scheduling §5). It depends on structure only
 *   (ids, priorities, dependencies), so it is recomputed with src/graph in the transaction that
 *   changes structure, and the claim can order by it in SQL.
 * - `position` is the feature's place in the project's feature list. AutoCoder's scores depend on
 *   list order (its BFS visits features in list order), so the list order is part of the structure.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey().check(sql`id ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('dir', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();

  await db.schema
    .createTable('features')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('id', 'integer', (c) => c.notNull().check(sql`id >= 1`))
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(999))
    .addColumn('category', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('steps', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('dependencies', sql`integer[]`, (c) => c.notNull().defaultTo(sql`'{}'::integer[]`))
    .addColumn('passes', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('in_progress', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('testing_claimed_by', 'text')
    .addColumn('testing_claimed_at', 'timestamptz')
    .addColumn('testing_in_progress', 'boolean', (c) =>
      c
        .notNull()
        .generatedAlwaysAs(sql`testing_claimed_by IS NOT NULL`)
        .stored(),
    )
    .addColumn('testing_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_tested_at', 'timestamptz')
    .addColumn('failure_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('score', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('features_pkey', ['project_id', 'id'])
    // A claim without its flag would be invisible to the claim query's filters.
    .addCheckConstraint('features_claim_sets_in_progress', sql`claimed_by IS NULL OR in_progress`)
    .execute();

  // The coding claim walks this index in claim order and stops after LIMIT ready rows; the
  // partial predicate keeps passing and running features (most of a mature project) out of it.
  await db.schema
    .createIndex('features_claim_order')
    .on('features')
    .columns(['project_id', 'score desc', 'priority', 'id'])
    .where(sql.ref('passes'), '=', false)
    .where(sql.ref('in_progress'), '=', false)
    .execute();
  // Testing claims pick among passing features that are not being tested.
  await db.schema
    .createIndex('features_testing_candidates')
    .on('features')
    .columns(['project_id', 'id'])
    .where(sql.ref('passes'), '=', true)
    .where(sql.ref('testing_claimed_by'), 'is', null)
    .execute();
  // Claims whose owners may be gone (strandedFeatures, heldClaims).
  await db.schema
    .createIndex('features_claimed')
    .on('features')
    .columns(['project_id', 'claimed_by'])
    .where(sql.ref('in_progress'), '=', true)
    .execute();
  await db.schema
    .createIndex('features_testing_leases')
    .on('features')
    .columns(['project_id', 'testing_claimed_at'])
    .where(sql.ref('testing_claimed_by'), 'is not', null)
    .execute();

  await db.schema
    .createTable('agent_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('feature_id', 'integer')
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('initializer', 'coding', 'testing')`))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('host', 'text')
    .addColumn('pid', 'integer')
    .addColumn('pgid', 'integer')
    .addColumn('proc_start_time', 'bigint')
    .addColumn('status_path', 'text')
    .addColumn('session_id', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ended_at', 'timestamptz')
    .addColumn('exit_code', 'integer')
    .addColumn('signal', 'text')
    .addColumn('outcome', 'text', (c) =>
      c.check(sql`outcome IN ('passed', 'failed', 'crashed', 'timed_out', 'stopped')`),
    )
    .addColumn('error', 'text')
    .addColumn('log_path', 'text')
    .addColumn('output_tail', 'text')
    .addColumn('cost_usd', 'numeric')
    .addColumn('tokens', 'jsonb')
    .execute();
  await db.schema
    .createIndex('agent_runs_feature')
    .on('agent_runs')
    .columns(['project_id', 'feature_id', 'started_at'])
    .execute();
  // Orphan reaping at worker start: processes recorded on this host whose run never ended.
  await db.schema
    .createIndex('agent_runs_live')
    .on('agent_runs')
    .columns(['host'])
    .where(sql.ref('ended_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('agent_runs').execute();
  await db.schema.dropTable('features').execute();
  await db.schema.dropTable('projects').execute();
}
