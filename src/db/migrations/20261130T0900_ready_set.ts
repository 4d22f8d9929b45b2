/**
 * The ready set (issue 17): `features.unmet_deps` counts the dependency ids of a feature that do
 * not name a passing feature of its project (a missing id never passes, so it counts). A feature
 * is ready to claim when it does not pass, is not in progress and `unmet_deps = 0`, and the
 * partial index features_claim_order now holds exactly those rows, so a claim when nothing is
 * ready reads an empty index range instead of probing every waiting feature's dependencies.
 * Frozen in time: typed `Kysely<any>`, never the app's Database.
 *
 * The count is kept by Postgres, not by the writers: statement-level AFTER INSERT/UPDATE/DELETE
 * triggers on features read the transition tables, find the features whose passing-ness changed
 * (flipped, inserted passing, deleted passing, or whose key moved) and the features whose own
 * dependencies are new or changed, and recount those and every dependent of the first kind from
 * scratch with features_unmet_deps(). A recount, not a ±1, so it cannot accumulate an error.
 *
 * Concurrency: a recount reads other rows, so two transactions recounting at once from their own
 * snapshots could each miss the other's change (write skew). The trigger first locks the
 * projects it touches (FOR NO KEY UPDATE: conflicts with the FOR UPDATE of imports and
 * structural edits, not with the FOR KEY SHARE of foreign-key checks) and then recounts in a new
 * statement, whose READ COMMITTED snapshot sees every transaction that changed the project before
 * it; one that changes it later waits for the lock and recounts after. Claims and leases never
 * change `passes` or `dependencies`, so they never take it. Writers that change `passes` should
 * take the same lock before touching the row (markFeature does), else a deadlock with a
 * concurrent recount is possible (Postgres detects it and fails one transaction; the count stays
 * right). This assumes READ COMMITTED, the default, which the application never changes.
 *
 * Transition tables rule out `UPDATE OF passes, dependencies`, so the update trigger runs on every
 * UPDATE of features; for the one-row updates of claims and leases it compares two one-row tables
 * and returns. A directly written unmet_deps is recounted (so a stray write heals at once); the
 * recount's own UPDATE re-fires the trigger, which sees no change of passes or dependencies.
 * A GIN index on dependencies (fastupdate off: a search would otherwise read the whole pending
 * list an import leaves) finds the dependents of a flipped feature without reading the project.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE features ADD COLUMN unmet_deps integer NOT NULL DEFAULT 0
    CONSTRAINT features_unmet_deps_check CHECK (unmet_deps >= 0)`.execute(db);

  // One scalar primary-key probe per dependency (a join invites a hash anti-join over the
  // project). A bare `SELECT (subquery)` so the planner inlines it: no function call per row.
  await sql`CREATE FUNCTION features_unmet_deps(p_project text, p_dependencies integer[]) RETURNS integer
    LANGUAGE sql STABLE AS $$
      SELECT (SELECT count(DISTINCT d.id)::integer FROM unnest(p_dependencies) AS d(id)
              WHERE (SELECT p.passes FROM features p WHERE p.project_id = p_project AND p.id = d.id) IS NOT TRUE)
    $$`.execute(db);

  // enable_seqscan = off for the trigger's statements only: the planner cannot estimate `&&` with
  // an array known only at run time and prefers reading the whole table (2-4 ms at 10k features)
  // to the GIN index (0.1 ms); every other lookup here is by primary key anyway.
  await sql`CREATE FUNCTION features_track_unmet() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
    DECLARE
      -- Features whose passing-ness changed: their dependents are recounted.
      flip_p text[]; flip_i integer[];
      -- Features whose own dependencies (or count) are new or changed: recounted themselves.
      self_p text[]; self_i integer[];
    BEGIN
      IF TG_OP = 'INSERT' THEN
        SELECT array_agg(project_id) FILTER (WHERE passes), array_agg(id) FILTER (WHERE passes),
               array_agg(project_id), array_agg(id)
          INTO flip_p, flip_i, self_p, self_i FROM new_rows;
      ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(project_id), array_agg(id) INTO flip_p, flip_i FROM old_rows WHERE passes;
      ELSE
        SELECT array_agg(x.project_id), array_agg(x.id) INTO flip_p, flip_i FROM (
          (SELECT project_id, id FROM new_rows WHERE passes EXCEPT SELECT project_id, id FROM old_rows WHERE passes)
          UNION
          (SELECT project_id, id FROM old_rows WHERE passes EXCEPT SELECT project_id, id FROM new_rows WHERE passes)
        ) x;
        -- A direct write of unmet_deps is recounted too, so not even a stray UPDATE can skew it;
        -- not the recount's own write (trigger depth 2), which is right by construction.
        SELECT array_agg(x.project_id), array_agg(x.id) INTO self_p, self_i FROM (
          SELECT project_id, id, dependencies, CASE WHEN pg_trigger_depth() = 1 THEN unmet_deps END FROM new_rows
          EXCEPT SELECT project_id, id, dependencies, CASE WHEN pg_trigger_depth() = 1 THEN unmet_deps END FROM old_rows
        ) x;
      END IF;
      IF flip_i IS NULL AND self_i IS NULL THEN
        RETURN NULL;
      END IF;

      PERFORM 1 FROM projects
        WHERE id IN (SELECT unnest(flip_p) UNION SELECT unnest(self_p))
        ORDER BY id FOR NO KEY UPDATE;

      -- A new statement: its snapshot sees every change committed before the lock was granted.
      UPDATE features f SET unmet_deps = c.n
      FROM (
        SELECT t.project_id, t.id, features_unmet_deps(t.project_id, t.dependencies) AS n
        FROM features t
        JOIN (
          SELECT s.project_id, s.id FROM unnest(self_p, self_i) AS s(project_id, id)
          UNION
          SELECT d.project_id, d.id
          FROM (SELECT x.p, array_agg(x.i) AS ids FROM unnest(flip_p, flip_i) AS x(p, i) GROUP BY x.p) g
          -- Per project, through the GIN index (OFFSET 0 keeps it a parameterised scan, not a
          -- join over the whole table).
          CROSS JOIN LATERAL (
            SELECT d.project_id, d.id FROM features d WHERE d.dependencies && g.ids AND d.project_id = g.p OFFSET 0
          ) d
        ) k ON k.project_id = t.project_id AND k.id = t.id
      ) c
      WHERE f.project_id = c.project_id AND f.id = c.id AND f.unmet_deps <> c.n;
      RETURN NULL;
    END
    $$`.execute(db);

  await sql`UPDATE features SET unmet_deps = features_unmet_deps(project_id, dependencies)`.execute(db);

  await sql`CREATE TRIGGER features_unmet_on_insert AFTER INSERT ON features
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION features_track_unmet()`.execute(db);
  await sql`CREATE TRIGGER features_unmet_on_update AFTER UPDATE ON features
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION features_track_unmet()`.execute(db);
  await sql`CREATE TRIGGER features_unmet_on_delete AFTER DELETE ON features
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION features_track_unmet()`.execute(db);

  await sql`CREATE INDEX features_dependents ON features USING gin (dependencies) WITH (fastupdate = off)`.execute(db);
  await sql`DROP INDEX features_claim_order`.execute(db);
  await sql`CREATE INDEX features_claim_order ON features (project_id, score DESC, priority, id)
    WHERE NOT passes AND NOT in_progress AND unmet_deps = 0`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX features_claim_order`.execute(db);
  await sql`CREATE INDEX features_claim_order ON features (project_id, score DESC, priority, id)
    WHERE passes = false AND in_progress = false`.execute(db);
  await sql`DROP INDEX features_dependents`.execute(db);
  await sql`DROP TRIGGER features_unmet_on_delete ON features`.execute(db);
  await sql`DROP TRIGGER features_unmet_on_update ON features`.execute(db);
  await sql`DROP TRIGGER features_unmet_on_insert ON features`.execute(db);
  await sql`DROP FUNCTION features_track_unmet()`.execute(db);
  await sql`DROP FUNCTION features_unmet_deps(text, integer[])`.execute(db);
  await sql`ALTER TABLE features DROP COLUMN unmet_deps`.execute(db);
}
