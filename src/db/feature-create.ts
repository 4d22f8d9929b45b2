/**
 * Creating features (the MCP feature server's create tools, the dashboard's "Add a feature"): one
 * transaction that takes the project's next ids and priorities, stores the features with their
 * dependencies, recomputes scheduling scores and records a `create` event per feature. A run never
 * sees a new feature without its dependencies.
 */
import { type Kysely, sql } from 'kysely';
import { UserError, showValue } from '../errors.ts';
import { MAX_DEPENDENCIES_PER_FEATURE, validateDependencies, type GraphFeature } from '../graph/index.ts';
import { lockProject, recordFeatureEvents } from './feature-edits.ts';
import { recomputeScores } from './scores.ts';
import type { Database } from './tables.ts';

const INT4_MAX = 2_147_483_647;

export type NewFeature = {
  category: string;
  name: string;
  description: string;
  steps: readonly string[];
  /** 0-based positions of earlier features of the same batch this one depends on (AutoCoder's). */
  dependsOnIndices?: readonly number[] | undefined;
  /** Ids of features that exist already which this one depends on (checked as setDependencies does). */
  dependencyIds?: readonly number[] | undefined;
};

export type CreateFeaturesInput = { projectId: string; runId: string; features: readonly NewFeature[] };
export type CreatedFeatures = {
  /** Ids given to the features, in input order (the project's next free ids). */
  ids: number[];
  /** How many of them got dependencies. */
  withDependencies: number;
  /** Priorities given, in input order: after every existing priority, as AutoCoder does. */
  priorities: number[];
};

/**
 * Appends features to the project's list: ids after the largest id, priorities after the largest
 * priority (so new work queues behind what exists), list positions at the end. Dependencies are
 * given as indices into the batch and may only point backwards, or as ids of features that exist:
 * either way a new feature can never close a cycle.
 */
export async function createFeatures(db: Kysely<Database>, input: CreateFeaturesInput): Promise<CreatedFeatures> {
  checkNewFeatures(input.features);
  return db.transaction().execute(async (trx) => {
    await lockProject(trx, input.projectId);
    const top = await trx
      .selectFrom('features')
      .select([
        sql<number>`coalesce(max(id), 0)`.as('id'),
        sql<number>`coalesce(max(priority), 0)`.as('priority'),
        sql<number>`coalesce(max(position), -1)`.as('position'),
      ])
      .where('project_id', '=', input.projectId)
      .executeTakeFirstOrThrow();
    if (top.id + input.features.length > INT4_MAX) {
      throw new UserError(
        `project ${showValue(input.projectId)} has no ids left for ${input.features.length} more features (largest id ${top.id})`,
      );
    }
    const ids = input.features.map((_, i) => top.id + 1 + i);
    const priorities = input.features.map((_, i) => top.priority + 1 + i);
    const existing = input.features.some((f) => f.dependencyIds?.length) ? await graphOf(trx, input.projectId) : [];
    let withDependencies = 0;
    const rows = input.features.map((f, i) => {
      const id = ids[i] as number;
      const problems = f.dependencyIds?.length ? validateDependencies(existing, id, f.dependencyIds) : [];
      const dependencies = [
        ...new Set([...(f.dependsOnIndices ?? []).map((index) => ids[index] as number), ...(f.dependencyIds ?? [])]),
      ].sort((a, b) => a - b);
      if (dependencies.length > MAX_DEPENDENCIES_PER_FEATURE)
        problems.push(`at most ${MAX_DEPENDENCIES_PER_FEATURE} dependencies, got ${dependencies.length}`);
      if (problems.length > 0) {
        throw new UserError(`no features created: feature #${id} (${f.name}): ${problems.join('; ')}`, {
          hint: 'a dependency must name a feature that exists; fix it and send the whole batch again',
        });
      }
      if (dependencies.length > 0) withDependencies += 1;
      return {
        project_id: input.projectId,
        id,
        priority: priorities[i] as number,
        category: f.category,
        name: f.name,
        description: f.description,
        steps: JSON.stringify(f.steps),
        dependencies,
        position: top.position + 1 + i,
      };
    });
    for (let start = 0; start < rows.length; start += 1000)
      await trx
        .insertInto('features')
        .values(rows.slice(start, start + 1000))
        .execute();
    await recomputeScores(trx, input.projectId);
    await recordFeatureEvents(
      trx,
      rows.map((r) => ({
        projectId: input.projectId,
        featureId: r.id,
        runId: input.runId,
        action: 'create',
        detail: { name: r.name, dependencies: r.dependencies },
      })),
    );
    return { ids, withDependencies, priorities };
  });
}

/**
 * The rules of a batch, all problems at once. Callers validate shapes with zod first; these are
 * the rules that need the whole batch (backward-only indices) or the table (no NUL in text).
 */
function checkNewFeatures(features: readonly NewFeature[]): void {
  const problems: string[] = [];
  if (features.length === 0) problems.push('features: at least one feature is needed');
  features.forEach((f, i) => {
    const indices = f.dependsOnIndices ?? [];
    if (indices.length > MAX_DEPENDENCIES_PER_FEATURE) {
      problems.push(
        `features[${i}].depends_on_indices: at most ${MAX_DEPENDENCIES_PER_FEATURE} dependencies, got ${indices.length}`,
      );
    }
    if (new Set(indices).size !== indices.length)
      problems.push(`features[${i}].depends_on_indices: lists an index more than once`);
    for (const index of indices) {
      if (!Number.isInteger(index) || index < 0)
        problems.push(`features[${i}].depends_on_indices: ${showValue(index)} is not an index (an integer ≥ 0)`);
      else if (index >= i)
        problems.push(
          `features[${i}].depends_on_indices: ${index} is not an earlier feature of the batch (only backward references are allowed)`,
        );
    }
    const texts: Array<[string, string]> = [
      ['category', f.category],
      ['name', f.name],
      ['description', f.description],
    ];
    f.steps.forEach((step, j) => texts.push([`steps[${j}]`, step]));
    for (const [field, text] of texts)
      if (text.includes('\u0000')) problems.push(`features[${i}].${field}: must not contain NUL characters`);
  });
  if (problems.length > 0) {
    throw new UserError(
      `no features created (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
      {
        hint: 'fix the listed entries and send the whole batch again; nothing was created',
      },
    );
  }
}

/** The project's dependency structure, enough to check new dependencies on existing features. */
async function graphOf(trx: Parameters<typeof lockProject>[0], projectId: string): Promise<GraphFeature[]> {
  const rows = await trx
    .selectFrom('features')
    .select(['id', 'priority', 'dependencies'])
    .where('project_id', '=', projectId)
    .execute();
  return rows.map((r) => ({ ...r, passes: false, inProgress: false }));
}
