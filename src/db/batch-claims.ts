/**
 * Batch claims: several features for one agent run (AutoCoder's `--batch-size` and
 * `--testing-batch-size`). The batch rules are src/graph's (`buildFeatureBatches`,
 * `selectTestBatch`); this file reads what they need and claims each batch in ONE statement, all
 * of its features or none, with one owner: the agent run ID of its first feature
 * (`autocoder/<project>/<kind>/<first>/<attempt>`). Every feature of the batch counts an attempt.
 */
import { type Kysely, sql } from 'kysely';
import { buildFeatureBatches, selectTestBatch, type BatchFeature } from '../graph/index.ts';
import { agentRunPrefix } from '../workflows/run-ids.ts';
import {
  claimFeaturesForTesting,
  claimReadyFeatures,
  DEFAULT_TESTING_LEASE_MS,
  type ClaimedFeature,
  type ClaimReadyInput,
  type TestingClaim,
} from './claims.ts';
import { awaitsHuman } from './features.ts';
import type { Database } from './tables.ts';

/** A coding claim of one agent run: its first feature's fields, and every feature, in order. */
export type ClaimedBatch = ClaimedFeature & { featureIds: number[] };
/** A testing lease of one agent run over one or more passing features. */
export type TestingBatch = TestingClaim & { featureIds: number[] };

/** The batch fields of a claim, report or running agent: only for more than one feature, so single ones look as before. */
export const batchOf = (featureIds: readonly number[]): { featureIds?: number[] } =>
  featureIds.length > 1 ? { featureIds: [...featureIds] } : {};

export type ClaimBatchesInput = ClaimReadyInput & {
  /** Features per agent run, 1..3; 1 claims exactly as claimReadyFeatures does. */
  batchSize: number;
};

type FeatureRow = {
  id: number;
  name: string;
  priority: number;
  dependencies: number[];
  passes: boolean;
  in_progress: boolean;
  category: string;
  score: number;
  claimable: boolean;
  ready: boolean;
};

/**
 * Claims up to `limit` batches (one per agent run) of up to `batchSize` features, built by
 * src/graph's buildFeatureBatches from the project as read now: ready features in scheduling
 * order, each extended along its dependency chain, then filled with ready features of its
 * category. A feature that is not claimable (held, over the retry cap, merging, parked) joins no
 * batch. A batch one of whose features another claimer took meanwhile is skipped, whole.
 */
export async function claimReadyBatches(db: Kysely<Database>, input: ClaimBatchesInput): Promise<ClaimedBatch[]> {
  if (input.limit <= 0) return [];
  if (input.batchSize <= 1) {
    return (await claimReadyFeatures(db, input)).map((f) => ({ ...f, featureIds: [f.id] }));
  }
  const exclude = [...(input.exclude ?? [])];
  const { rows } = await sql<FeatureRow>`
    SELECT f.id, f.name, f.priority, f.dependencies, f.passes, f.in_progress, f.category, f.score,
           c.claimable, c.claimable AND f.unmet_deps = 0 AS ready
    FROM features f,
    LATERAL (SELECT NOT f.passes AND NOT f.in_progress AND f.merging_since IS NULL
                    AND f.failure_count < ${input.maxRetries}::int
                    AND f.id <> ALL(${exclude}::int[]) AND NOT ${awaitsHuman} AS claimable) c
    WHERE f.project_id = ${input.projectId}
    ORDER BY f.score DESC, f.priority, f.id`.execute(db);
  // What cannot be claimed counts as taken: no batch reaches for it.
  const all: Array<BatchFeature & { name: string }> = rows.map((r) => ({
    id: r.id,
    name: r.name,
    priority: r.priority,
    dependencies: r.dependencies,
    passes: r.passes,
    inProgress: r.in_progress || (!r.passes && !r.claimable),
    category: r.category,
  }));
  const readyIds = new Set(rows.filter((r) => r.ready).map((r) => r.id));
  const ready = all.filter((f) => readyIds.has(f.id));
  const scores = new Map(rows.map((r) => [r.id, r.score]));
  const claimed: ClaimedBatch[] = [];
  for (const batch of buildFeatureBatches(ready, all, scores, input.batchSize)) {
    if (claimed.length >= input.limit) break;
    const got = await claimBatch(db, {
      projectId: input.projectId,
      featureIds: batch.map((f) => f.id),
      maxRetries: input.maxRetries,
    });
    if (got) claimed.push(got);
  }
  return claimed;
}

/**
 * Claims exactly these features (the first one ready, the rest claimable) for one coding agent
 * run, owned by the first's next attempt; null when any of them is no longer claimable.
 */
export async function claimBatch(
  db: Kysely<Database>,
  input: { projectId: string; featureIds: readonly number[]; maxRetries: number },
): Promise<ClaimedBatch | null> {
  const ids = [...input.featureIds];
  const first = ids[0];
  if (first === undefined) return null;
  const prefix = agentRunPrefix(input.projectId, 'coding');
  const { rows } = await sql<{ id: number; name: string; priority: number; attempt: number; claimed_by: string }>`
    WITH candidates AS (
      SELECT f.project_id, f.id, f.attempts
      FROM features f
      WHERE f.project_id = ${input.projectId} AND f.id = ANY(${ids}::int[])
        AND NOT f.passes AND NOT f.in_progress AND f.merging_since IS NULL
        AND f.failure_count < ${input.maxRetries}::int
        AND (f.id <> ${first}::int OR f.unmet_deps = 0)
        AND NOT ${awaitsHuman}
      FOR UPDATE OF f SKIP LOCKED
    ), whole AS (
      SELECT count(*) = ${ids.length}::int AS ok FROM candidates
    ), lead AS (
      SELECT c.attempts + 1 AS attempt FROM candidates c WHERE c.id = ${first}::int
    )
    UPDATE features f
    SET in_progress = true,
        attempts = f.attempts + 1,
        claimed_by = ${batchOwnerSql(prefix, first)},
        claimed_at = now(),
        updated_at = now()
    FROM candidates c, whole, lead
    WHERE whole.ok AND f.project_id = c.project_id AND f.id = c.id
    RETURNING f.id, f.name, f.priority, f.attempts AS attempt, f.claimed_by`.execute(db);
  const lead = rows.find((r) => r.id === first);
  if (!lead || rows.length !== ids.length) return null;
  return {
    id: lead.id,
    name: lead.name,
    priority: lead.priority,
    attempt: lead.attempt,
    claimedBy: lead.claimed_by,
    featureIds: ids,
  };
}

/** The owner of a batch: its first feature's agent run ID (`lead.attempt` is that feature's new attempt). */
function batchOwnerSql(prefix: string, first: number) {
  return sql<string>`${prefix}::text || ${first}::int::text || '/' || lead.attempt::text`;
}

export type ClaimTestingBatchesInput = {
  projectId: string;
  /** Testing agents to start: at most this many batches. */
  limit: number;
  /** Features per testing agent, 1..5; 1 leases at random as claimFeaturesForTesting does. */
  batchSize: number;
  /** Features tested recently in this run chain (selectTestBatch's memory). */
  recentlyTested: readonly number[];
  leaseMs?: number;
};

/**
 * Testing batches chosen by AutoCoder's weighting (src/graph selectTestBatch): passing features
 * not being coded, weighted by their passing dependents, their own dependencies and whether this
 * run chain tested them recently; features under a live lease are left out, so no feature is
 * tested twice at once. Each batch is leased in one statement with the database clock, all or
 * nothing. Returns the leases and the new memory (cleared when every passing feature was tested).
 */
export async function claimTestingBatches(
  db: Kysely<Database>,
  input: ClaimTestingBatchesInput,
): Promise<{ claims: TestingBatch[]; recentlyTested: number[] }> {
  if (input.limit <= 0) return { claims: [], recentlyTested: [...input.recentlyTested] };
  if (input.batchSize <= 1) {
    const leases = await claimFeaturesForTesting(db, { projectId: input.projectId, limit: input.limit });
    return { claims: leases.map((l) => ({ ...l, featureIds: [l.id] })), recentlyTested: [...input.recentlyTested] };
  }
  const leaseMs = input.leaseMs ?? DEFAULT_TESTING_LEASE_MS;
  const { rows } = await sql<{ id: number; dependencies: number[]; leased: boolean }>`
    SELECT f.id, f.dependencies,
           f.testing_claimed_by IS NOT NULL
             AND f.testing_claimed_at >= now() - ${leaseMs}::float8 * interval '1 millisecond' AS leased
    FROM features f
    WHERE f.project_id = ${input.projectId} AND f.passes AND NOT f.in_progress
    ORDER BY f.id`.execute(db);
  const testing = new Set(rows.filter((r) => r.leased).map((r) => r.id));
  let memory: ReadonlySet<number> = new Set(input.recentlyTested);
  const claims: TestingBatch[] = [];
  for (let n = 0; n < input.limit; n++) {
    const pick = selectTestBatch(rows, testing, memory, input.batchSize);
    if (pick.selected.length === 0) break;
    const lease = await leaseBatch(db, input.projectId, pick.selected, leaseMs);
    for (const id of pick.selected) testing.add(id);
    if (!lease) continue; // another claimer leased one of them meanwhile: the memory keeps this pick
    memory = pick.recentlyTested;
    claims.push(lease);
  }
  return { claims, recentlyTested: [...memory] };
}

async function leaseBatch(
  db: Kysely<Database>,
  projectId: string,
  ids: readonly number[],
  leaseMs: number,
): Promise<TestingBatch | null> {
  const first = ids[0];
  if (first === undefined) return null;
  const prefix = agentRunPrefix(projectId, 'testing');
  const { rows } = await sql<{ id: number; name: string; attempt: number; owner: string }>`
    WITH candidates AS (
      SELECT f.project_id, f.id, f.testing_attempts
      FROM features f
      WHERE f.project_id = ${projectId} AND f.id = ANY(${[...ids]}::int[])
        AND f.passes AND NOT f.in_progress
        AND (f.testing_claimed_by IS NULL OR f.testing_claimed_at < now() - ${leaseMs}::float8 * interval '1 millisecond')
      FOR UPDATE OF f SKIP LOCKED
    ), whole AS (
      SELECT count(*) = ${ids.length}::int AS ok FROM candidates
    ), lead AS (
      SELECT c.testing_attempts + 1 AS attempt FROM candidates c WHERE c.id = ${first}::int
    )
    UPDATE features f
    SET testing_attempts = f.testing_attempts + 1,
        testing_claimed_by = ${batchOwnerSql(prefix, first)},
        testing_claimed_at = now()
    FROM candidates c, whole, lead
    WHERE whole.ok AND f.project_id = c.project_id AND f.id = c.id
    RETURNING f.id, f.name, f.testing_attempts AS attempt, f.testing_claimed_by AS owner`.execute(db);
  const lead = rows.find((r) => r.id === first);
  if (!lead || rows.length !== ids.length) return null;
  return { ...lead, featureIds: [...ids] };
}
