/**
 * Edits to a feature list, by agents (the MCP feature server) and operators (the dashboard):
 * create features, edit one's text, add/remove/set dependencies, move a feature to the end of the
 * queue. Each edit is one
 * transaction that
 * - serialises on the project row (as import does), so two edits never compute scores or cycle
 *   checks from each other's half-written lists;
 * - validates dependencies with src/graph's validateDependencies (the same rules the feature file
 *   loader uses: at most 20, no self, no missing id, no duplicate, no cycle, cycles shown as paths);
 * - recomputes scheduling scores with recomputeScores, so the claim's SQL order stays src/graph's;
 * - appends a feature_events row naming the agent run that made it.
 * Problems are UserErrors whose message says what was wrong and which feature; nothing changes then.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { featureEntrySchema } from '../features/schema.ts';
import { MAX_DEPENDENCIES_PER_FEATURE, validateDependencies, type GraphFeature } from '../graph/index.ts';
import { unknownFeature } from './features.ts';
import { requireProject } from './projects.ts';
import { recomputeScores } from './scores.ts';
import type { Database } from './tables.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type FeatureEvent = {
  projectId: string;
  featureId: number | null;
  runId: string;
  action: string;
  detail?: Record<string, unknown>;
};

/** Appends who did what to which feature (one row per event; several in one statement). */
export async function recordFeatureEvents(db: Db, events: readonly FeatureEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('feature_events')
    .values(
      events.map((e) => ({
        project_id: e.projectId,
        feature_id: e.featureId,
        run_id: e.runId,
        action: e.action,
        detail: JSON.stringify(e.detail ?? {}),
      })),
    )
    .execute();
}

/** The newest events of one feature (guard blocks among them), newest first. */
export async function listFeatureEvents(db: Db, projectId: string, featureId: number, limit = 20) {
  return db
    .selectFrom('feature_events')
    .select(['run_id', 'action', 'detail', 'created_at'])
    .where('project_id', '=', projectId)
    .where('feature_id', '=', featureId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export type DependencyEditInput = { projectId: string; featureId: number; runId: string };

/** Replaces a feature's dependencies (stored sorted). All problems are reported together. */
export async function setDependencies(
  db: Kysely<Database>,
  input: DependencyEditInput & { dependencyIds: readonly number[] },
): Promise<number[]> {
  return editDependencies(db, input, 'set dependencies', (_current, graph) => {
    const problems = validateDependencies(graph, input.featureId, input.dependencyIds);
    if (problems.length > 0) throw rejected(input.featureId, problems);
    return [...input.dependencyIds];
  });
}

/** Adds one dependency: `dependencyId` must pass before `featureId` can start. */
export async function addDependency(
  db: Kysely<Database>,
  input: DependencyEditInput & { dependencyId: number },
): Promise<number[]> {
  return editDependencies(db, input, 'add dependency', (current, graph) => {
    const problems: string[] = [];
    if (current.includes(input.dependencyId))
      problems.push(`feature #${input.featureId} already depends on #${input.dependencyId}`);
    else if (current.length >= MAX_DEPENDENCIES_PER_FEATURE) {
      problems.push(
        `feature #${input.featureId} already has ${current.length} dependencies, the most allowed is ${MAX_DEPENDENCIES_PER_FEATURE}`,
      );
    }
    // Only the new edge is judged: an old dependency on a missing id is not this edit's problem.
    else problems.push(...validateDependencies(graph, input.featureId, [input.dependencyId]));
    if (problems.length > 0) throw rejected(input.featureId, problems);
    return [...current, input.dependencyId];
  });
}

/** Removes one dependency; removing one the feature does not have is an error (as in AutoCoder). */
export async function removeDependency(
  db: Kysely<Database>,
  input: DependencyEditInput & { dependencyId: number },
): Promise<number[]> {
  return editDependencies(db, input, 'remove dependency', (current) => {
    if (!current.includes(input.dependencyId)) {
      throw rejected(input.featureId, [
        `feature #${input.featureId} does not depend on #${input.dependencyId} (its dependencies: ${listIds(current)})`,
      ]);
    }
    return current.filter((id) => id !== input.dependencyId);
  });
}

/** What an edit may change: a feature's text, checked by the feature file's own schema. */
export const featureTextEdit = featureEntrySchema
  .pick({ name: true, category: true, description: true, steps: true })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'give at least one of name, category, description, steps');
export type FeatureTextEdit = z.input<typeof featureTextEdit>;

/**
 * Changes a feature's name, category, description or steps, with the rules of `features import`
 * (a name that is not blank, steps as strings, no NUL). The feature's state, dependencies and
 * priority stay; a running agent keeps the text it started with.
 */
export async function editFeature(
  db: Kysely<Database>,
  input: DependencyEditInput & { changes: FeatureTextEdit },
): Promise<{ id: number; changed: string[] }> {
  const parsed = featureTextEdit.safeParse(input.changes);
  if (!parsed.success)
    throw new UserError(
      `feature #${input.featureId}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(edit)'}: ${i.message}`).join('; ')}`,
    );
  const changes = parsed.data;
  const texts = [changes.name, changes.category, changes.description, ...(changes.steps ?? [])];
  if (texts.some((t) => t?.includes('\u0000')))
    throw new UserError(`feature #${input.featureId}: the text must not contain NUL characters`);
  return db.transaction().execute(async (trx) => {
    await lockProject(trx, input.projectId);
    const before = await trx
      .selectFrom('features')
      .select(['id', 'name', 'category', 'description', 'steps'])
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .executeTakeFirst();
    if (!before) throw unknownFeature(input.projectId, input.featureId);
    const changed = (['name', 'category', 'description', 'steps'] as const).filter(
      (k) => changes[k] !== undefined && JSON.stringify(changes[k]) !== JSON.stringify(before[k]),
    );
    if (changed.length === 0) return { id: before.id, changed };
    await trx
      .updateTable('features')
      .set({
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.category === undefined ? {} : { category: changes.category }),
        ...(changes.description === undefined ? {} : { description: changes.description }),
        ...(changes.steps === undefined ? {} : { steps: JSON.stringify(changes.steps) }),
        updated_at: sql`now()`,
      })
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .execute();
    await recordFeatureEvents(trx, [
      {
        projectId: input.projectId,
        featureId: input.featureId,
        runId: input.runId,
        action: 'edit',
        detail: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: changes[k] }])),
      },
    ]);
    return { id: before.id, changed };
  });
}

export type SkipResult = { id: number; name: string; oldPriority: number; newPriority: number };

/**
 * Moves a feature to the end of the queue: its priority becomes one more than the project's
 * largest. Claims stay with their owners (the agent run settles its own claim when it exits).
 */
export async function skipFeature(db: Kysely<Database>, input: DependencyEditInput): Promise<SkipResult> {
  return db.transaction().execute(async (trx) => {
    await lockProject(trx, input.projectId);
    const feature = await trx
      .selectFrom('features')
      .select(['id', 'name', 'priority', 'passes'])
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .executeTakeFirst();
    if (!feature) throw unknownFeature(input.projectId, input.featureId);
    if (feature.passes) {
      throw new UserError(
        `feature #${input.featureId} already passes; only a feature that does not pass can be skipped`,
        {
          hint: 'skip a pending feature, or mark this one failing first if it regressed',
        },
      );
    }
    const { top } = await trx
      .selectFrom('features')
      .select(sql<number>`max(priority)`.as('top'))
      .where('project_id', '=', input.projectId)
      .executeTakeFirstOrThrow();
    const newPriority = top + 1;
    await trx
      .updateTable('features')
      .set({ priority: newPriority, updated_at: sql`now()` })
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .execute();
    await recomputeScores(trx, input.projectId);
    await recordFeatureEvents(trx, [
      {
        projectId: input.projectId,
        featureId: input.featureId,
        runId: input.runId,
        action: 'skip',
        detail: { from: feature.priority, to: newPriority },
      },
    ]);
    return { id: feature.id, name: feature.name, oldPriority: feature.priority, newPriority };
  });
}

/** Serialises structural changes to one project on its row; unknown projects are UserErrors. */
export async function lockProject(trx: Transaction<Database>, projectId: string): Promise<void> {
  const row = await trx.selectFrom('projects').select('id').where('id', '=', projectId).forUpdate().executeTakeFirst();
  if (!row) await requireProject(trx, projectId);
}

async function editDependencies(
  db: Kysely<Database>,
  input: DependencyEditInput,
  action: string,
  next: (current: number[], graph: GraphFeature[]) => number[],
): Promise<number[]> {
  return db.transaction().execute(async (trx) => {
    await lockProject(trx, input.projectId);
    const rows = await trx
      .selectFrom('features')
      .select(['id', 'priority', 'dependencies'])
      .where('project_id', '=', input.projectId)
      .orderBy('position')
      .orderBy('id')
      .execute();
    const feature = rows.find((r) => r.id === input.featureId);
    if (!feature) throw unknownFeature(input.projectId, input.featureId);
    // Only structure matters for validation; passes/inProgress do not.
    const graph: GraphFeature[] = rows.map((r) => ({
      id: r.id,
      priority: r.priority,
      dependencies: r.dependencies,
      passes: false,
      inProgress: false,
    }));
    const dependencies = [...new Set(next(feature.dependencies, graph))].sort((a, b) => a - b);
    await trx
      .updateTable('features')
      .set({ dependencies, updated_at: sql`now()` })
      .where('project_id', '=', input.projectId)
      .where('id', '=', input.featureId)
      .execute();
    await recomputeScores(trx, input.projectId);
    await recordFeatureEvents(trx, [
      {
        projectId: input.projectId,
        featureId: input.featureId,
        runId: input.runId,
        action,
        detail: { from: feature.dependencies, to: dependencies },
      },
    ]);
    return dependencies;
  });
}

function rejected(featureId: number, problems: readonly string[]): UserError {
  return new UserError(`dependencies of feature #${featureId} not changed: ${problems.join('; ')}`, {
    hint: 'fix the listed problems and try again; a dependency must name another existing feature that does not (even indirectly) depend on this one',
  });
}

function listIds(ids: readonly number[]): string {
  return ids.length === 0 ? 'none' : ids.map((id) => `#${id}`).join(', ');
}
