/**
 * What agents write besides feature state (the MCP feature server, `autocoder feature`).
 * Frozen in time: typed `Kysely<any>`, never the app's Database.
 *
 * - `feature_events`: one row per write an agent (or an operator's session) made through the
 *   feature tools, naming the agent run (`run_id`, AUTOCODER_RUN_ID). Append-only, so "who marked
 *   #12 failing, and when" has an answer after the claim that fenced the write is long gone.
 * - `human_requests`: questions for a person (`feature_request_human_input`: kind 'feature',
 *   `ask_user`: kind 'ask'). Open while `answered_at` is null. The workflow side of waiting for
 *   an answer comes later (DESIGN.md §9); recording them now keeps nothing an agent asks lost.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('feature_events')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('feature_id', 'integer')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('feature_events_feature')
    .on('feature_events')
    .columns(['project_id', 'feature_id', 'id'])
    .execute();

  await db.schema
    .createTable('human_requests')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('feature_id', 'integer')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('feature', 'ask')`))
    .addColumn('question', 'text', (c) => c.notNull())
    .addColumn('options', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('answer', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('answered_at', 'timestamptz')
    .execute();
  // Open requests of a project: what the feature tools show as needs_human_input.
  await db.schema
    .createIndex('human_requests_open')
    .on('human_requests')
    .columns(['project_id', 'feature_id'])
    .where(sql.ref('answered_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('human_requests').execute();
  await db.schema.dropTable('feature_events').execute();
}
