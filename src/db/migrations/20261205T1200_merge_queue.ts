/**
 * Worktree isolation (issue 18): a feature whose coding agent passed it under worktree isolation
 * is `merging` (merging_since set) until the merge queue lands it; it does not pass yet, so its
 * dependents stay unready, and it is not claimable, so the claim index leaves it out. A project
 * records the isolation of its current run, so an agent's "mark passing" knows which it means.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE features ADD COLUMN merging_since timestamptz`.execute(db);
  await sql`ALTER TABLE projects ADD COLUMN isolation text NOT NULL DEFAULT 'shared'
    CHECK (isolation IN ('shared', 'worktree'))`.execute(db);
  await sql`DROP INDEX features_claim_order`.execute(db);
  await sql`CREATE INDEX features_claim_order ON features (project_id, score DESC, priority, id)
    WHERE NOT passes AND NOT in_progress AND unmet_deps = 0 AND merging_since IS NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX features_claim_order`.execute(db);
  await sql`CREATE INDEX features_claim_order ON features (project_id, score DESC, priority, id)
    WHERE NOT passes AND NOT in_progress AND unmet_deps = 0`.execute(db);
  await sql`ALTER TABLE projects DROP COLUMN isolation`.execute(db);
  await sql`ALTER TABLE features DROP COLUMN merging_since`.execute(db);
}
