import { type Kysely, sql } from 'kysely';
import { DEFAULT_TESTING_LEASE_MS } from './claims.ts';
import { DEFAULT_MAX_RETRIES, featureCounts, type FeatureCounts } from './features.ts';
import type { Database } from './tables.ts';

export type ReconcileInput = {
  projectId: string;
  /** Claim owners (agentRun workflow IDs) the caller knows are not alive. */
  deadOwners?: readonly string[];
  /**
   * Alternatively, the owners that are alive: when given, every other owner counts as dead.
   * (Use one or the other; with both, an owner is dead if either says so.)
   */
  liveOwners?: readonly string[];
  /** Testing leases older than this by the database clock are released. Default 30 minutes. */
  testingLeaseMs?: number;
  maxRetries?: number;
};

export type ReconcileResult = {
  /**
   * Features whose coding claim was released because its owner is dead (or that were left in
   * progress with no owner, e.g. by an import from AutoCoder), which still need work: not passing,
   * under the retry cap. In scheduling order. Resume first: pass them to claimFeaturesByIds
   * before claiming new work.
   */
  releasedCoding: number[];
  /** Every coding claim released, with the owner it had (null: in progress without owner). */
  releasedClaims: Array<{ featureId: number; owner: string | null }>;
  /** Testing leases released: expired by the lease time, or held by a dead owner. */
  releasedTesting: Array<{ featureId: number; owner: string; reason: 'expired' | 'dead-owner' }>;
  counts: FeatureCounts;
};

/**
 * Puts the project's claims back in order after a crash or restart (SPEC Scheduling §1 and §3):
 * - testing leases older than the lease, by the database clock, or held by dead owners, are
 *   released (the original cleared every testing flag at startup; a lease lets a second worker
 *   keep its live testers);
 * - coding claims of dead owners, and features in progress with no owner, are released and
 *   returned for resume-first. A crash between claim and spawn leaves exactly such a claim.
 * The released rows are locked with SKIP LOCKED, so a claim being written right now is left for
 * the next pass rather than waited on. Failure counts are not touched: nothing ran, or the
 * agent's own outcome (crashed) was recorded by its run.
 */
export async function reconcile(db: Kysely<Database>, input: ReconcileInput): Promise<ReconcileResult> {
  const dead = [...(input.deadOwners ?? [])];
  const live = input.liveOwners === undefined ? null : [...input.liveOwners];
  const leaseMs = input.testingLeaseMs ?? DEFAULT_TESTING_LEASE_MS;
  const maxRetries = input.maxRetries ?? DEFAULT_MAX_RETRIES;
  const isDead = (column: string) =>
    sql<boolean>`(${sql.ref(column)} = ANY(${dead}::text[]) OR (${live}::text[] IS NOT NULL AND ${sql.ref(column)} <> ALL(${live}::text[])))`;

  const testing = await sql<{ id: number; owner: string; expired: boolean }>`
    WITH stale AS (
      SELECT f.project_id, f.id, f.testing_claimed_by AS owner,
             f.testing_claimed_at < now() - ${leaseMs}::float8 * interval '1 millisecond' AS expired
      FROM features f
      WHERE f.project_id = ${input.projectId} AND f.testing_claimed_by IS NOT NULL
        AND (f.testing_claimed_at < now() - ${leaseMs}::float8 * interval '1 millisecond' OR ${isDead('f.testing_claimed_by')})
      FOR UPDATE OF f SKIP LOCKED
    )
    UPDATE features f SET testing_claimed_by = NULL, testing_claimed_at = NULL
    FROM stale s WHERE f.project_id = s.project_id AND f.id = s.id
    RETURNING s.id, s.owner, s.expired`.execute(db);

  const coding = await sql<{ id: number; owner: string | null; resume: boolean }>`
    WITH orphaned AS (
      SELECT f.project_id, f.id, f.claimed_by AS owner, f.score, f.priority,
             NOT f.passes AND f.failure_count < ${maxRetries}::int AS resume
      FROM features f
      WHERE f.project_id = ${input.projectId} AND f.in_progress
        AND (f.claimed_by IS NULL OR ${isDead('f.claimed_by')})
      FOR UPDATE OF f SKIP LOCKED
    ), released AS (
      UPDATE features f SET in_progress = false, claimed_by = NULL, claimed_at = NULL, updated_at = now()
      FROM orphaned o WHERE f.project_id = o.project_id AND f.id = o.id
      RETURNING o.id, o.owner, o.resume, o.score, o.priority
    )
    SELECT id, owner, resume FROM released ORDER BY score DESC, priority, id`.execute(db);

  return {
    releasedCoding: coding.rows.filter((r) => r.resume).map((r) => r.id),
    releasedClaims: coding.rows.map((r) => ({ featureId: r.id, owner: r.owner })),
    releasedTesting: testing.rows
      .map((r) => ({
        featureId: r.id,
        owner: r.owner,
        reason: r.expired ? ('expired' as const) : ('dead-owner' as const),
      }))
      .sort((a, b) => a.featureId - b.featureId),
    counts: await featureCounts(db, input.projectId, { maxRetries }),
  };
}
