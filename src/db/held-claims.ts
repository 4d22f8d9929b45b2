import { type Kysely, sql } from 'kysely';
import { parseAgentRunId } from '../workflows/run-ids.ts';
import type { Database } from './tables.ts';

export type HeldClaim = {
  /** The agentRun workflow ID that holds it. */
  owner: string;
  kind: 'coding' | 'testing';
  /** The owner's first feature (the one its ID names). */
  featureId: number;
  featureName: string;
  /** Every feature the owner holds (a batch), the first first and each after its dependencies. */
  featureIds: number[];
  /** Database clock at the claim. */
  claimedAt: Date;
};

type HeldRow = {
  owner: string;
  kind: 'coding' | 'testing';
  feature_id: number;
  feature_name: string;
  dependencies: number[];
  claimed_at: Date;
};

/**
 * Every claim currently held in a project: coding claims and testing leases, one per owner (an
 * owner of a batch holds several features). The caller asks Temporal which owners still run,
 * adopts those and frees the rest (the schedule activity).
 */
export async function heldClaims(db: Kysely<Database>, projectId: string): Promise<HeldClaim[]> {
  const { rows } = await sql<HeldRow>`
    SELECT f.claimed_by AS owner, 'coding' AS kind, f.id AS feature_id, f.name AS feature_name, f.dependencies, f.claimed_at
    FROM features f WHERE f.project_id = ${projectId} AND f.in_progress AND f.claimed_by IS NOT NULL
    UNION ALL
    SELECT f.testing_claimed_by, 'testing', f.id, f.name, f.dependencies, f.testing_claimed_at
    FROM features f WHERE f.project_id = ${projectId} AND f.testing_claimed_by IS NOT NULL
    ORDER BY claimed_at, owner, feature_id`.execute(db);
  const byOwner = new Map<string, HeldRow[]>();
  for (const r of rows) byOwner.set(r.owner, [...(byOwner.get(r.owner) ?? []), r]);
  return [...byOwner.values()].map((members) => {
    const named = parseAgentRunId(members[0]!.owner)?.featureId;
    const lead = members.find((m) => m.feature_id === named) ?? members[0]!;
    return {
      owner: lead.owner,
      kind: lead.kind,
      featureId: lead.feature_id,
      featureName: lead.feature_name,
      featureIds: batchOrder(lead.feature_id, members),
      claimedAt: lead.claimed_at,
    };
  });
}

/**
 * The order of a batch read back from the store: its first feature, then each feature after the
 * batch's features it depends on (lowest id first among those free to go), as the batch was built.
 */
export function batchOrder(
  first: number,
  members: ReadonlyArray<{ feature_id: number; dependencies: number[] }>,
): number[] {
  const ids = new Set(members.map((m) => m.feature_id));
  const order = [first];
  const placed = new Set(order);
  const rest = members.filter((m) => m.feature_id !== first).sort((a, b) => a.feature_id - b.feature_id);
  while (order.length < ids.size) {
    const next =
      rest.find((m) => !placed.has(m.feature_id) && m.dependencies.every((d) => !ids.has(d) || placed.has(d))) ??
      rest.find((m) => !placed.has(m.feature_id))!;
    order.push(next.feature_id);
    placed.add(next.feature_id);
  }
  return order;
}
