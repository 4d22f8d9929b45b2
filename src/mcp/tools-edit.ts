/**
 * Tools that change the feature list itself (mostly the initializer's): create features and edit
 * dependencies. Validation and scores live in src/db/feature-edits.ts (src/graph's rules).
 */
import { z } from 'zod';
import { createFeatures } from '../db/feature-create.ts';
import { addDependency, removeDependency, setDependencies } from '../db/feature-edits.ts';
import { WRITES, defineTool } from './context.ts';
import { bulkFeatureSchema, dependencyIdsSchema, featureFields, featureIdSchema } from './schemas.ts';
import { featureDetails } from './tools-read.ts';

export const editTools = [
  defineTool(
    'feature_create_bulk',
    {
      description:
        'Create many features in one call (the initializer writes the feature list from the app spec with it). They queue ' +
        'after existing features, in the order given, with passes=false. Dependencies are given as depends_on_indices: ' +
        'positions of earlier features in the same list. Returns how many were created and their ids.',
      input: {
        features: z
          .array(bulkFeatureSchema, { error: 'features must be a list of features' })
          .min(1, { error: 'features must list at least one feature' })
          .describe('Features to create, each with category, name, description, steps and optional depends_on_indices'),
      },
      annotations: WRITES,
    },
    async ({ features }, ctx) => {
      const created = await createFeatures(ctx.db, {
        projectId: ctx.scope.projectId,
        runId: ctx.scope.actor,
        features: features.map((f) => ({ ...f, dependsOnIndices: f.depends_on_indices })),
      });
      return { created: created.ids.length, with_dependencies: created.withDependencies, feature_ids: created.ids };
    },
  ),

  defineTool(
    'feature_create',
    {
      description:
        'Create one feature at the end of the backlog (next id, lowest priority), e.g. when asked to add a capability or test case.',
      input: featureFields,
      annotations: WRITES,
    },
    async (feature, ctx) => {
      const created = await createFeatures(ctx.db, {
        projectId: ctx.scope.projectId,
        runId: ctx.scope.actor,
        features: [feature],
      });
      const id = created.ids[0] as number;
      return { success: true, message: `Created feature: ${feature.name}`, feature: await featureDetails(ctx, id) };
    },
  ),

  defineTool(
    'feature_add_dependency',
    {
      description:
        'Make feature_id depend on dependency_id: dependency_id must pass before feature_id can start. Refused (with the ' +
        'reason) for a self-dependency, an unknown id, a dependency it already has, more than 20, or a cycle (shown as its path).',
      input: {
        feature_id: featureIdSchema('The feature that gets the dependency'),
        dependency_id: featureIdSchema('The feature that must pass first', 'dependency_id'),
      },
      annotations: WRITES,
    },
    async ({ feature_id, dependency_id }, ctx) => {
      const dependencies = await addDependency(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        dependencyId: dependency_id,
        runId: ctx.scope.actor,
      });
      return { success: true, feature_id, dependencies };
    },
  ),

  defineTool(
    'feature_remove_dependency',
    {
      description: 'Remove dependency_id from the dependencies of feature_id.',
      input: {
        feature_id: featureIdSchema('The feature to remove a dependency from'),
        dependency_id: featureIdSchema('The dependency to remove', 'dependency_id'),
      },
      annotations: WRITES,
    },
    async ({ feature_id, dependency_id }, ctx) => {
      const dependencies = await removeDependency(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        dependencyId: dependency_id,
        runId: ctx.scope.actor,
      });
      return { success: true, feature_id, dependencies };
    },
  ),

  defineTool(
    'feature_set_dependencies',
    {
      description:
        'Replace all dependencies of a feature at once. Every id must name another existing feature, without duplicates, ' +
        'at most 20, and no cycle may result (a refused cycle is shown as its path). [] removes all dependencies.',
      input: {
        feature_id: featureIdSchema('The feature whose dependencies to set'),
        dependency_ids: dependencyIdsSchema,
      },
      annotations: WRITES,
    },
    async ({ feature_id, dependency_ids }, ctx) => {
      const dependencies = await setDependencies(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        dependencyIds: dependency_ids,
        runId: ctx.scope.actor,
      });
      return { success: true, feature_id, dependencies };
    },
  ),
];
