/**
 * Claims: the atomic transitions that give one agent run the right to a feature. Each claim is
 * one statement, stamps the owner (the agentRun workflow ID) and the database clock, and every
 * later write on the feature is fenced by that owner (see transitions.ts).
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { agentRunPrefix } from '../workflows/run-ids.ts';
import { awaitsHuman } from './features.ts';
import type { Database } from './tables.ts';

export type ClaimedFeature = {
  id: number;
  name: string;
  priority: number;
  /** 1 for the first coding claim of this feature, then 2, 3, … (the owner's last segment). */
  attempt: number;
  /** `agentRunId({ projectId, kind: 'coding', featureId, attempt })`: the agentRun workflow ID. */
  claimedBy: string;
};

export type ClaimReadyInput = {
  projectId: string;
  limit: number;
  maxRetries: number;
  /** Ids not to claim (e.g. features the caller is about to resume). */
  exclude?: readonly number[];
};

type ClaimRow = {
  id: number;
  name: string;
  priority: number;
  attempt: number;
  claimed_by: string;
};

/**
 * The owner a claim stamps on feature `f`, built in SQL: `agentRunPrefix(projectId, kind)`
 * followed by `<featureId>/<attempt>`, the shape src/workflows/run-ids.ts `agentRunId` builds
 * and `parseAgentRunId` reads (test/db/claims.test.ts checks the round trip). The one place SQL
 * spells a run ID; `attempt` is the new attempt number (e.g. `f.attempts + 1`).
 */
function ownerIdSql(prefix: string, attempt: RawBuilder<number>): RawBuilder<string> {
  return sql<string>`${prefix}::text || f.id::text || '/' || (${attempt})::text`;
}

/*
 * Claim strategy (graphile-worker's getJobs): one statement, a CTE that picks the ready
 * candidates in scheduling order and locks them with FOR UPDATE SKIP LOCKED, then an UPDATE …
 * RETURNING that stamps them. Concurrent claimers never wait on each other and never get the
 * same row: a row another claimer holds is skipped, and a row it claimed and committed meanwhile
 * fails the re-check of `NOT in_progress` (READ COMMITTED re-evaluates a locked row's WHERE).
 * The order is src/graph's (score desc, priority, id) because the score column is exactly
 * src/graph's score (recomputeScores keeps it current), and the result is sorted the same way.
 *
 * Cost: readiness is stored. `unmet_deps` counts a feature's dependency ids that do not name a
 * passing feature (a missing id counts), kept by triggers on features (migration
 * 20261130T0900_ready_set: every insert, delete and change of `passes` or `dependencies`
 * recounts the features it affects, under a per-project lock, so no writer can forget it). The
 * partial index features_claim_order (project_id, score desc, priority, id WHERE not passes and
 * not in progress and unmet_deps = 0) holds exactly the ready features in claim order, so a claim
 * reads `limit` index entries (plus any over the retry cap or excluded), and a claim when nothing
 * is ready reads an empty range. Numbers from `npm run bench:claim` (bench/results/claim.md; 2
 * shared cores at load average ~10, Postgres 18, fsync on, layered DAG, 10k features, before and
 * after in one sitting): nothing ready p50 19-35 ms → 0.5 ms, p95 23-76 ms → 1.1-6.1 ms (the
 * outliers are the loaded machine; the statement reads no rows); a normal claim unchanged within
 * noise (p95 8.0-8.4 → 4.1-9.0 ms; an interleaved A/B with the update trigger on vs off: p50 1.3 vs
 * 1.5 ms, the trigger itself 0.06 ms). The price is on writes: marking a feature passing
 * recounts its dependents, ~1 ms more (trigger 0.6-1.5 ms by EXPLAIN ANALYZE under that load),
 * and importing 10k features takes 1.9-2.9 s instead of 0.8-1.0 s (the recount and the GIN
 * index's upkeep).
 *
 * Rejected: SELECT then UPDATE (needs a transaction and a retry on conflict); an advisory lock
 * per feature (leaks with its session, invisible in the table); computing the ready set in Node
 * (reads the whole project per claim and still needs a fenced write); maintaining the count in
 * each writer (the next writer forgets; the triggers cover import, edits, marks and deletes).
 */
/** The features of `f` (an alias of features) that a coding agent may claim now. */
function readyToClaim(input: Omit<ClaimReadyInput, 'limit'>) {
  return sql<boolean>`f.project_id = ${input.projectId}
        AND NOT f.passes AND NOT f.in_progress AND f.unmet_deps = 0 AND f.merging_since IS NULL
        AND f.failure_count < ${input.maxRetries}::int
        AND f.id <> ALL(${[...(input.exclude ?? [])]}::int[])
        AND NOT ${awaitsHuman}`;
}

export async function claimReadyFeatures(db: Kysely<Database>, input: ClaimReadyInput): Promise<ClaimedFeature[]> {
  const prefix = agentRunPrefix(input.projectId, 'coding');
  if (input.limit <= 0) return [];
  const { rows } = await sql<ClaimRow>`
    WITH candidates AS (
      SELECT f.project_id, f.id
      FROM features f
      WHERE ${readyToClaim(input)}
      ORDER BY f.score DESC, f.priority, f.id
      LIMIT ${input.limit}::int
      FOR UPDATE OF f SKIP LOCKED
    ), claimed AS (
      UPDATE features f
      SET in_progress = true,
          attempts = f.attempts + 1,
          claimed_by = ${ownerIdSql(prefix, sql`f.attempts + 1`)},
          claimed_at = now(),
          updated_at = now()
      FROM candidates c
      WHERE f.project_id = c.project_id AND f.id = c.id
      RETURNING f.id, f.name, f.priority, f.attempts AS attempt, f.claimed_by, f.score
    )
    SELECT * FROM claimed ORDER BY score DESC, priority, id`.execute(db);
  return rows.map(toClaimed);
}

/** Whether a feature is ready to claim (a candidate of claimReadyFeatures), claiming nothing. */
export async function readyFeatureExists(
  db: Kysely<Database>,
  input: Omit<ClaimReadyInput, 'limit'>,
): Promise<boolean> {
  const { rows } = await sql<{
    ready: number;
  }>`SELECT 1 AS ready FROM features f WHERE ${readyToClaim(input)} LIMIT 1`.execute(db);
  return rows.length > 0;
}

export type ClaimByIdsInput = {
  projectId: string;
  featureIds: readonly number[];
  maxRetries: number;
};

/**
 * Claims specific features, for resuming first (SPEC Scheduling §3): each listed feature that
 * does not pass and is under the retry cap is claimed if it is ready, or if it is in progress
 * with no owner (an import, an earlier session: an owner's claim is settled or started by the
 * scheduling pass, never taken over). One statement, same locking as claimReadyFeatures, so a feature
 * is never handed to two runs even if two callers resume at once. Returns them in scheduling
 * order; ids that could not be claimed are simply absent.
 */
export async function claimFeaturesByIds(db: Kysely<Database>, input: ClaimByIdsInput): Promise<ClaimedFeature[]> {
  const prefix = agentRunPrefix(input.projectId, 'coding');
  if (input.featureIds.length === 0) return [];
  const { rows } = await sql<ClaimRow>`
    WITH candidates AS (
      SELECT f.project_id, f.id
      FROM features f
      WHERE f.project_id = ${input.projectId}
        AND f.id = ANY(${[...input.featureIds]}::int[])
        AND NOT f.passes AND f.merging_since IS NULL
        AND f.failure_count < ${input.maxRetries}::int
        AND CASE WHEN f.in_progress THEN f.claimed_by IS NULL
                 ELSE f.unmet_deps = 0 END
        AND NOT ${awaitsHuman}
      ORDER BY f.score DESC, f.priority, f.id
      FOR UPDATE OF f SKIP LOCKED
    ), claimed AS (
      UPDATE features f
      SET in_progress = true,
          attempts = f.attempts + 1,
          claimed_by = ${ownerIdSql(prefix, sql`f.attempts + 1`)},
          claimed_at = now(),
          updated_at = now()
      FROM candidates c
      WHERE f.project_id = c.project_id AND f.id = c.id
      RETURNING f.id, f.name, f.priority, f.attempts AS attempt, f.claimed_by, f.score
    )
    SELECT * FROM claimed ORDER BY score DESC, priority, id`.execute(db);
  return rows.map(toClaimed);
}

export type ClaimTestingInput = {
  projectId: string;
  /** A lease older than this (database clock) is free to take over. Default 30 minutes. */
  leaseMs?: number;
  exclude?: readonly number[];
};

export type ClaimTestersInput = ClaimTestingInput & {
  /** At most this many features (0 or less claims nothing). */
  limit: number;
};

/** A testing lease; `owner` is `agentRunId({ projectId, kind: 'testing', featureId: id, attempt })`. */
export type TestingClaim = { id: number; name: string; attempt: number; owner: string };

export const DEFAULT_TESTING_LEASE_MS = 30 * 60 * 1000;

/**
 * Claims up to `limit` random passing features for testing agents, one per feature, in ONE
 * statement: each candidate is passing, not in progress, and not leased to another tester (or
 * its lease expired). FOR UPDATE SKIP LOCKED, so concurrent claimers never get the same feature
 * (a row another claimer holds is skipped; one it leased and committed fails the lease re-check).
 * Random like the original, so regressions anywhere get found eventually; the result is in that
 * random order. Fewer than `limit` (or none) when fewer features are free.
 */
export async function claimFeaturesForTesting(db: Kysely<Database>, input: ClaimTestersInput): Promise<TestingClaim[]> {
  const prefix = agentRunPrefix(input.projectId, 'testing');
  if (input.limit <= 0) return [];
  const leaseMs = input.leaseMs ?? DEFAULT_TESTING_LEASE_MS;
  const exclude = [...(input.exclude ?? [])];
  const { rows } = await sql<TestingClaim & { pick: number }>`
    WITH candidates AS (
      SELECT f.project_id, f.id, random() AS pick
      FROM features f
      WHERE f.project_id = ${input.projectId}
        AND f.passes AND NOT f.in_progress
        AND (f.testing_claimed_by IS NULL OR f.testing_claimed_at < now() - ${leaseMs}::float8 * interval '1 millisecond')
        AND f.id <> ALL(${exclude}::int[])
      ORDER BY pick
      LIMIT ${input.limit}::int
      FOR UPDATE OF f SKIP LOCKED
    )
    UPDATE features f
    SET testing_attempts = f.testing_attempts + 1,
        testing_claimed_by = ${ownerIdSql(prefix, sql`f.testing_attempts + 1`)},
        testing_claimed_at = now()
    FROM candidates c
    WHERE f.project_id = c.project_id AND f.id = c.id
    RETURNING f.id, f.name, f.testing_attempts AS attempt, f.testing_claimed_by AS owner, c.pick`.execute(db);
  return rows.sort((a, b) => a.pick - b.pick).map(({ id, name, attempt, owner }) => ({ id, name, attempt, owner }));
}

function toClaimed(r: ClaimRow): ClaimedFeature {
  return { id: r.id, name: r.name, priority: r.priority, attempt: r.attempt, claimedBy: r.claimed_by };
}
