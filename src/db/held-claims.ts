import { type Kysely, sql } from 'kysely';
import type { Database } from './tables.ts';

export type HeldClaim = {
  /** The agentRun workflow ID that holds it. */
  owner: string;
  kind: 'coding' | 'testing';
  featureId: number;
  featureName: string;
  /** Database clock at the claim. */
  claimedAt: Date;
};

/**
 * Every claim currently held in a project: coding claims and testing leases. The caller asks
 * Temporal which owners still run, adopts those and frees the rest (the schedule activity).
 */
export async function heldClaims(db: Kysely<Database>, projectId: string): Promise<HeldClaim[]> {
  const { rows } = await sql<{
    owner: string;
    kind: 'coding' | 'testing';
    feature_id: number;
    feature_name: string;
    claimed_at: Date;
  }>`
    SELECT f.claimed_by AS owner, 'coding' AS kind, f.id AS feature_id, f.name AS feature_name, f.claimed_at
    FROM features f WHERE f.project_id = ${projectId} AND f.in_progress AND f.claimed_by IS NOT NULL
    UNION ALL
    SELECT f.testing_claimed_by, 'testing', f.id, f.name, f.testing_claimed_at
    FROM features f WHERE f.project_id = ${projectId} AND f.testing_claimed_by IS NOT NULL
    ORDER BY claimed_at, owner`.execute(db);
  return rows.map((r) => ({
    owner: r.owner,
    kind: r.kind,
    featureId: r.feature_id,
    featureName: r.feature_name,
    claimedAt: r.claimed_at,
  }));
}
