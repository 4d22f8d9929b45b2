/**
 * Reading features and their state, and the few writes that are not claims: marking a feature
 * passing or failing, and clearing its failure count.
 *
 * State (DESIGN.md §1), from the row alone plus its dependencies:
 *   passing  passes
 *   merging  passed by its agent under worktree isolation, waiting for the merge queue to land it
 *   running  not passing, in progress (claimed by a coding agent, or left in progress)
 *   failed   not passing, not running, failure_count ≥ maxRetries
 *   pending  ready to start: every dependency id names a passing feature (`unmet_deps = 0`)
 *   blocked  waiting on a dependency that is not passing, or on an id that names no feature
 * `unmet_deps` counts the dependency ids that name no passing feature; triggers keep it (see
 * migrations/20261130T0900_ready_set.ts and the claim strategy in claims.ts).
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { ClaimLostError, UserError, showValue } from '../errors.ts';
import type { Database } from './tables.ts';
import { parseAgentRunId } from '../workflows/run-ids.ts';

/** Import lives in import.ts; re-exported here because callers look for it beside the features. */
export { importFeatures, type FeatureEntry, type ImportCounts } from './import.ts';

import { DEFAULT_MAX_RETRIES, type FeatureState } from './states.ts';
export { DEFAULT_MAX_RETRIES, FEATURE_STATES, type FeatureState } from './states.ts';

export type Feature = {
  id: number;
  priority: number;
  category: string;
  name: string;
  description: string;
  steps: string[];
  dependencies: number[];
  passes: boolean;
  inProgress: boolean;
  testingInProgress: boolean;
  testingClaimedBy: string | null;
  lastTestedAt: Date | null;
  failureCount: number;
  lastError: string | null;
  attempts: number;
  claimedBy: string | null;
  claimedAt: Date | null;
  score: number;
  position: number;
  updatedAt: Date;
  state: FeatureState;
  /** Dependencies that exist and do not pass yet. */
  waitingOn: number[];
  /** Dependency ids that name no feature of the project: these never pass. */
  missingDependencies: number[];
};

export type FeatureCounts = {
  total: number;
  passing: number;
  running: number;
  pending: number;
  blocked: number;
  failed: number;
  merging: number;
  needs_human_input: number;
};

/** Feature `f` has an open 'feature' request: parked until a person answers (partial index human_requests_open). */
export const awaitsHuman = sql<boolean>`EXISTS (SELECT 1 FROM human_requests h
    WHERE h.project_id = f.project_id AND h.feature_id = f.id AND h.answered_at IS NULL AND h.kind = 'feature')`;

function stateOf(maxRetries: number): RawBuilder<FeatureState> {
  return sql<FeatureState>`CASE
    WHEN f.passes THEN 'passing'
    WHEN f.merging_since IS NOT NULL THEN 'merging'
    WHEN f.in_progress THEN 'running'
    WHEN ${awaitsHuman} THEN 'needs_human_input'
    WHEN f.failure_count >= ${maxRetries}::int THEN 'failed'
    WHEN f.unmet_deps = 0 THEN 'pending'
    ELSE 'blocked' END`;
}

type FeatureSqlRow = {
  id: number;
  priority: number;
  category: string;
  name: string;
  description: string;
  steps: string[];
  dependencies: number[];
  passes: boolean;
  in_progress: boolean;
  testing_in_progress: boolean;
  testing_claimed_by: string | null;
  last_tested_at: Date | null;
  failure_count: number;
  last_error: string | null;
  attempts: number;
  claimed_by: string | null;
  claimed_at: Date | null;
  score: number;
  position: number;
  updated_at: Date;
  state: FeatureState;
  waiting_on: number[];
  missing: number[];
};

function selectFeatures(projectId: string, maxRetries: number, where: RawBuilder<unknown>): RawBuilder<FeatureSqlRow> {
  return sql<FeatureSqlRow>`
    SELECT f.id, f.priority, f.category, f.name, f.description, f.steps, f.dependencies, f.passes,
      f.in_progress, f.testing_in_progress, f.testing_claimed_by, f.last_tested_at, f.failure_count,
      f.last_error, f.attempts, f.claimed_by, f.claimed_at, f.score, f.position, f.updated_at,
      ${stateOf(maxRetries)} AS state,
      ARRAY(SELECT DISTINCT d.id FROM unnest(f.dependencies) AS d(id)
            JOIN features p ON p.project_id = f.project_id AND p.id = d.id AND NOT p.passes ORDER BY d.id) AS waiting_on,
      ARRAY(SELECT DISTINCT d.id FROM unnest(f.dependencies) AS d(id)
            WHERE NOT EXISTS (SELECT 1 FROM features p WHERE p.project_id = f.project_id AND p.id = d.id) ORDER BY d.id) AS missing
    FROM features f
    WHERE f.project_id = ${projectId} AND ${where}
    ORDER BY f.id`;
}

function toFeature(r: FeatureSqlRow): Feature {
  return {
    id: r.id,
    priority: r.priority,
    category: r.category,
    name: r.name,
    description: r.description,
    steps: r.steps,
    dependencies: r.dependencies,
    passes: r.passes,
    inProgress: r.in_progress,
    testingInProgress: r.testing_in_progress,
    testingClaimedBy: r.testing_claimed_by,
    lastTestedAt: r.last_tested_at,
    failureCount: r.failure_count,
    lastError: r.last_error,
    attempts: r.attempts,
    claimedBy: r.claimed_by,
    claimedAt: r.claimed_at,
    score: r.score,
    position: r.position,
    updatedAt: r.updated_at,
    state: r.state,
    waitingOn: r.waiting_on,
    missingDependencies: r.missing,
  };
}

export type ListOptions = { state?: FeatureState; maxRetries?: number };

/** Features of a project by id, each with its state and what it waits on. */
export async function listFeatures(
  db: Kysely<Database>,
  projectId: string,
  options: ListOptions = {},
): Promise<Feature[]> {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const where = options.state === undefined ? sql`true` : sql`${stateOf(maxRetries)} = ${options.state}`;
  const { rows } = await selectFeatures(projectId, maxRetries, where).execute(db);
  return rows.map(toFeature);
}

export async function getFeature(
  db: Kysely<Database>,
  projectId: string,
  featureId: number,
  options: { maxRetries?: number } = {},
): Promise<Feature | undefined> {
  const { rows } = await selectFeatures(
    projectId,
    options.maxRetries ?? DEFAULT_MAX_RETRIES,
    sql`f.id = ${featureId}`,
  ).execute(db);
  return rows[0] ? toFeature(rows[0]) : undefined;
}

/** Features per state, in one scan; `total` is their sum. */
export async function featureCounts(
  db: Kysely<Database>,
  projectId: string,
  options: { maxRetries?: number } = {},
): Promise<FeatureCounts> {
  const { rows } = await sql<{ state: FeatureState; n: number }>`
    SELECT ${stateOf(options.maxRetries ?? DEFAULT_MAX_RETRIES)} AS state, count(*)::int AS n
    FROM features f WHERE f.project_id = ${projectId} GROUP BY 1`.execute(db);
  const counts: FeatureCounts = {
    total: 0,
    passing: 0,
    running: 0,
    pending: 0,
    blocked: 0,
    failed: 0,
    merging: 0,
    needs_human_input: 0,
  };
  for (const { state, n } of rows) {
    counts[state] = n;
    counts.total += n;
  }
  return counts;
}

export type MarkInput = {
  projectId: string;
  featureId: number;
  passes: boolean;
  /** Why it fails (kept as last_error); ignored when marking passing. */
  reason?: string;
  /**
   * The agent run marking it (AUTOCODER_RUN_ID). When given, the write is fenced: it only lands
   * while that run holds the feature's coding claim or testing lease, else ClaimLostError.
   * Without it (an operator at the CLI) the write is unconditional.
   */
  runId?: string | null;
};

/**
 * Sets `passes` (`autocoder feature pass|fail`, the MCP tools). Claims are left to their owners.
 * Under worktree isolation, a coding agent's "passing" means `merging` (merging_since): the merge
 * queue lands its branch and only then marks it passing (landFeature). An operator's mark, or
 * failing, is what it says and takes the feature out of the queue.
 */
export async function markFeature(
  db: Kysely<Database>,
  input: MarkInput,
): Promise<{ id: number; passes: boolean; merging: boolean }> {
  const runId = input.runId ?? null;
  const reason = input.passes ? null : (input.reason ?? null);
  const toMerge = sql<boolean>`(${input.passes} AND ready_lock.isolation = 'worktree' AND ${runId}::text IS NOT NULL
    AND f.claimed_by IS NOT DISTINCT FROM ${runId}::text)`;
  const row = await db
    // The project's ready-set lock first (see migrations/20261130T0900_ready_set.ts): the trigger
    // that recounts the dependents takes it anyway, and taking it after the row lock could
    // deadlock with a concurrent recount that needs this row.
    .with('ready_lock', (q) =>
      q.selectFrom('projects').select(['id', 'isolation']).where('id', '=', input.projectId).forNoKeyUpdate(),
    )
    .updateTable('features as f')
    .from('ready_lock')
    .set({
      passes: sql<boolean>`CASE WHEN ${toMerge} THEN false ELSE ${input.passes} END`,
      merging_since: sql`CASE WHEN ${toMerge} THEN coalesce(f.merging_since, now()) ELSE NULL END`,
      // A batch's work is on its first feature's branch (the one its agent run ID names).
      merge_with: sql`CASE WHEN ${toMerge} THEN ${batchLeadOf(runId)}::int ELSE NULL END`,
      last_error: sql`coalesce(${reason}::text, f.last_error)`,
      updated_at: sql`now()`,
    })
    .whereRef('f.project_id', '=', 'ready_lock.id')
    .where('f.id', '=', input.featureId)
    .where(
      sql<boolean>`(${runId}::text IS NULL OR f.claimed_by = ${runId}::text OR f.testing_claimed_by = ${runId}::text)`,
    )
    .returning(['f.id', 'f.passes', sql<boolean>`f.merging_since IS NOT NULL`.as('merging')])
    .executeTakeFirst();
  if (row) return row;
  if (runId !== null && (await featureExists(db, input.projectId, input.featureId))) {
    throw new ClaimLostError(input.projectId, input.featureId, runId, input.passes ? 'mark passing' : 'mark failing');
  }
  throw unknownFeature(input.projectId, input.featureId);
}

/** Clears a feature's failure count so it is scheduled again (`retryFeature`). */
export async function resetFailures(db: Kysely<Database>, projectId: string, featureId: number): Promise<void> {
  const row = await db
    .updateTable('features')
    .set({ failure_count: 0, last_error: null, updated_at: sql`now()` })
    .where('project_id', '=', projectId)
    .where('id', '=', featureId)
    .returning('id')
    .executeTakeFirst();
  if (!row) throw unknownFeature(projectId, featureId);
}

async function featureExists(db: Kysely<Database>, projectId: string, featureId: number): Promise<boolean> {
  const row = await db
    .selectFrom('features')
    .select('id')
    .where('project_id', '=', projectId)
    .where('id', '=', featureId)
    .executeTakeFirst();
  return row !== undefined;
}

export function unknownFeature(projectId: string, featureId: number): UserError {
  return new UserError(`project ${showValue(projectId)} has no feature #${featureId}`, {
    hint: `list its features with \`autocoder features list --project ${projectId}\``,
  });
}

/** The first feature of the agent run `runId` (its worktree's and branch's), when it is another's coding run. */
function batchLeadOf(runId: string | null): number | null {
  const parsed = runId === null ? null : parseAgentRunId(runId);
  return parsed?.kind === 'coding' ? parsed.featureId : null;
}
