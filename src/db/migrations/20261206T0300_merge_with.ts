/**
 * Batches under worktree isolation (issue 24): a batch's agent works in one worktree, on the
 * branch of the batch's first feature. A feature it marks passing is merging like any other, and
 * `merge_with` names the feature whose branch holds its work (null: its own), so the merge queue
 * lands the batch's features together, as one entry, when that branch lands.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE features ADD COLUMN merge_with integer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE features DROP COLUMN merge_with`.execute(db);
}
