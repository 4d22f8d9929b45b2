/**
 * Claims: the atomic transitions that give one agent run the right to a feature. Each claim is
 * one statement, stamps the owner (the agentRun workflow ID) and the database clock, and every
 * later write on the feature is fenced by that owner (see transitions.ts).
 */
import { type Kysely, sql } from 'kysely';
import { dependenciesPass } from './features.ts';
import type { Database } from './tables.ts';

export type ClaimedFeature = {
  id: number;
  name: string;
  priority: number;
  /** 1 for the first coding claim of this feature, then 2, 3, … (the owner's last segment). */
  attempt: number;
  /** `<ownerPrefix><featureId>/<attempt>`: the agentRun workflow ID. */
  claimedBy: string;
};

export type ClaimReadyInput = {
  projectId: string;
  limit: number;
  /** `autocoder/<projectId>/coding/`; the owner becomes `<ownerPrefix><featureId>/<attempt>`. */
  ownerPrefix: string;
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
  previous_owner: string | null;
};

/*
 * Claim strategy (graphile-worker's getJobs): one statement, a CTE that picks the ready
 * candidates in scheduling order and locks them with FOR UPDATE SKIP LOCKED, then an UPDATE …
 * RETURNING that stamps them. Concurrent claimers never wait on each other and never get the
 * same row: a row another claimer holds is skipped, and a row it claimed and committed meanwhile
 * fails the re-check of `NOT in_progress` (READ COMMITTED re-evaluates a locked row's WHERE).
 * The order is src/graph's (score desc, priority, id) because the score column is exactly
 * src/graph's score (recomputeScores keeps it current), and the result is sorted the same way.
 *
 * Cost: the partial index features_claim_order (project_id, score desc, priority, id WHERE not
 * passes and not in progress) hands out candidates in claim order, so the scan stops after
 * `limit` ready rows; readiness is one primary-key probe per dependency (see dependenciesPass).
 * Ready features sit at the top of the order (they unblock the most), so a claim reads a few
 * rows. Numbers from bench/claim.ts (2 shared cores, Postgres 18, fsync on, layered DAG):
 * p50 1.4 ms, p95 3.0 ms, p99 5.7 ms at 10k features. The worst case is a claim when nothing is
 * ready: it probes every waiting feature and returns nothing, ~20 ms at 10k features (5.6k
 * waiting), linear in waiting features. If that ever matters, keep a count of unmet dependencies
 * per feature (maintained where `passes` changes) and add `unmet = 0` to the index predicate.
 *
 * Rejected: SELECT then UPDATE (needs a transaction and a retry on conflict); an advisory lock
 * per feature (leaks with its session, invisible in the table); computing the ready set in Node
 * (reads the whole project per claim and still needs a fenced write).
 */
/** The features of `f` (an alias of features) that a coding agent may claim now. */
function readyToClaim(input: Omit<ClaimReadyInput, 'limit' | 'ownerPrefix'>) {
  return sql<boolean>`f.project_id = ${input.projectId}
        AND NOT f.passes AND NOT f.in_progress
        AND f.failure_count < ${input.maxRetries}::int
        AND f.id <> ALL(${[...(input.exclude ?? [])]}::int[])
        AND ${dependenciesPass}`;
}

export async function claimReadyFeatures(db: Kysely<Database>, input: ClaimReadyInput): Promise<ClaimedFeature[]> {
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
          claimed_by = ${input.ownerPrefix}::text || f.id::text || '/' || (f.attempts + 1)::text,
          claimed_at = now(),
          updated_at = now()
      FROM candidates c
      WHERE f.project_id = c.project_id AND f.id = c.id
      RETURNING f.id, f.name, f.priority, f.attempts AS attempt, f.claimed_by, f.score, NULL::text AS previous_owner
    )
    SELECT * FROM claimed ORDER BY score DESC, priority, id`.execute(db);
  return rows.map(toClaimed);
}

/** Whether a feature is ready to claim (a candidate of claimReadyFeatures), claiming nothing. */
export async function readyFeatureExists(
  db: Kysely<Database>,
  input: Omit<ClaimReadyInput, 'limit' | 'ownerPrefix'>,
): Promise<boolean> {
  const { rows } = await sql<{
    ready: number;
  }>`SELECT 1 AS ready FROM features f WHERE ${readyToClaim(input)} LIMIT 1`.execute(db);
  return rows.length > 0;
}

export type ClaimByIdsInput = {
  projectId: string;
  featureIds: readonly number[];
  ownerPrefix: string;
  maxRetries: number;
  /**
   * Owners the caller knows are dead (from reconcile's orphans). A feature still claimed by one
   * of them, or left in progress with no owner, is re-claimed for the new owner.
   */
  staleOwners?: readonly string[];
};

export type ResumedFeature = ClaimedFeature & { previousOwner: string | null };

/**
 * Claims specific features, for resuming first (SPEC Scheduling §3): each listed feature that
 * does not pass and is under the retry cap is claimed if it is ready, or if it is in progress
 * with no owner or a stale one. One statement, same locking as claimReadyFeatures, so a feature
 * is never handed to two runs even if two callers resume at once. Returns them in scheduling
 * order; ids that could not be claimed are simply absent.
 */
export async function claimFeaturesByIds(db: Kysely<Database>, input: ClaimByIdsInput): Promise<ResumedFeature[]> {
  if (input.featureIds.length === 0) return [];
  const stale = [...(input.staleOwners ?? [])];
  const { rows } = await sql<ClaimRow>`
    WITH candidates AS (
      SELECT f.project_id, f.id, CASE WHEN f.in_progress THEN f.claimed_by END AS previous_owner
      FROM features f
      WHERE f.project_id = ${input.projectId}
        AND f.id = ANY(${[...input.featureIds]}::int[])
        AND NOT f.passes
        AND f.failure_count < ${input.maxRetries}::int
        AND CASE WHEN f.in_progress THEN f.claimed_by IS NULL OR f.claimed_by = ANY(${stale}::text[])
                 ELSE ${dependenciesPass} END
      ORDER BY f.score DESC, f.priority, f.id
      FOR UPDATE OF f SKIP LOCKED
    ), claimed AS (
      UPDATE features f
      SET in_progress = true,
          attempts = f.attempts + 1,
          claimed_by = ${input.ownerPrefix}::text || f.id::text || '/' || (f.attempts + 1)::text,
          claimed_at = now(),
          updated_at = now()
      FROM candidates c
      WHERE f.project_id = c.project_id AND f.id = c.id
      RETURNING f.id, f.name, f.priority, f.attempts AS attempt, f.claimed_by, f.score, c.previous_owner
    )
    SELECT * FROM claimed ORDER BY score DESC, priority, id`.execute(db);
  return rows.map((r) => ({ ...toClaimed(r), previousOwner: r.previous_owner }));
}

export type ClaimTestingInput = {
  projectId: string;
  /** `autocoder/<projectId>/testing/`; the owner becomes `<ownerPrefix><featureId>/<n>`. */
  ownerPrefix: string;
  /** A lease older than this (database clock) is free to take over. Default 30 minutes. */
  leaseMs?: number;
  exclude?: readonly number[];
};

export type TestingClaim = { id: number; name: string; attempt: number; owner: string };

export const DEFAULT_TESTING_LEASE_MS = 30 * 60 * 1000;

/**
 * Claims a random passing feature for a testing agent: not in progress, not leased to another
 * tester (or its lease expired). One statement, FOR UPDATE SKIP LOCKED, so two testers never get
 * the same feature. Random like the original, so regressions anywhere get found eventually.
 * Returns undefined when there is nothing to test.
 */
export async function claimFeatureForTesting(
  db: Kysely<Database>,
  input: ClaimTestingInput,
): Promise<TestingClaim | undefined> {
  const leaseMs = input.leaseMs ?? DEFAULT_TESTING_LEASE_MS;
  const exclude = [...(input.exclude ?? [])];
  const { rows } = await sql<{ id: number; name: string; attempt: number; owner: string }>`
    WITH candidate AS (
      SELECT f.project_id, f.id
      FROM features f
      WHERE f.project_id = ${input.projectId}
        AND f.passes AND NOT f.in_progress
        AND (f.testing_claimed_by IS NULL OR f.testing_claimed_at < now() - ${leaseMs}::float8 * interval '1 millisecond')
        AND f.id <> ALL(${exclude}::int[])
      ORDER BY random()
      LIMIT 1
      FOR UPDATE OF f SKIP LOCKED
    )
    UPDATE features f
    SET testing_attempts = f.testing_attempts + 1,
        testing_claimed_by = ${input.ownerPrefix}::text || f.id::text || '/' || (f.testing_attempts + 1)::text,
        testing_claimed_at = now()
    FROM candidate c
    WHERE f.project_id = c.project_id AND f.id = c.id
    RETURNING f.id, f.name, f.testing_attempts AS attempt, f.testing_claimed_by AS owner`.execute(db);
  return rows[0];
}

function toClaimed(r: ClaimRow): ClaimedFeature {
  return { id: r.id, name: r.name, priority: r.priority, attempt: r.attempt, claimedBy: r.claimed_by };
}
