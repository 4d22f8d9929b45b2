/** Read-only feature tools: progress, one feature, the ready and blocked lists, the graph. */
import { featureCounts, getFeature, listFeatures, unknownFeature, type Feature } from '../db/features.ts';
import { featuresAwaitingHumans, listHumanRequests } from '../db/human-requests.ts';
import { blockedFeatures, describeBlockReason, findCycles, readyFeatures } from '../graph/index.ts';
import { READ_ONLY, defineTool, type ToolContext } from './context.ts';
import { featureJson, humanInfoFrom, summaryJson, type HumanInfo } from './feature-json.ts';
import { featureIdSchema, limitSchema } from './schemas.ts';

async function everything(ctx: ToolContext): Promise<{ features: Feature[]; human: HumanInfo }> {
  const [features, requests] = await Promise.all([
    listFeatures(ctx.db, ctx.scope.projectId, { maxRetries: ctx.maxRetries }),
    listHumanRequests(ctx.db, { projectId: ctx.scope.projectId, open: true }),
  ]);
  return { features, human: humanInfoFrom(requests) };
}

async function oneFeature(ctx: ToolContext, featureId: number): Promise<{ feature: Feature; human: HumanInfo }> {
  const [feature, requests] = await Promise.all([
    getFeature(ctx.db, ctx.scope.projectId, featureId, { maxRetries: ctx.maxRetries }),
    listHumanRequests(ctx.db, { projectId: ctx.scope.projectId, featureId, limit: 20 }),
  ]);
  if (!feature) throw unknownFeature(ctx.scope.projectId, featureId);
  return { feature, human: humanInfoFrom(requests) };
}

/** A feature's full JSON, as the state tools return it after a write. */
export async function featureDetails(ctx: ToolContext, featureId: number): Promise<Record<string, unknown>> {
  const { feature, human } = await oneFeature(ctx, featureId);
  return featureJson(feature, human);
}

export const readTools = [
  defineTool(
    'feature_get_stats',
    {
      description:
        'Progress of the project: how many features pass, are in progress, wait for human input, and the total, with the ' +
        'percentage passing (plus pending, blocked and failed counts). Use it to see overall progress.',
      input: {},
      annotations: READ_ONLY,
    },
    async (_args, ctx) => {
      const [counts, awaiting] = await Promise.all([
        featureCounts(ctx.db, ctx.scope.projectId, { maxRetries: ctx.maxRetries }),
        featuresAwaitingHumans(ctx.db, ctx.scope.projectId),
      ]);
      return {
        passing: counts.passing,
        in_progress: counts.running,
        needs_human_input: awaiting.size,
        total: counts.total,
        percentage: counts.total === 0 ? 0 : Math.round((counts.passing / counts.total) * 1000) / 10,
        pending: counts.pending,
        blocked: counts.blocked,
        failed: counts.failed,
      };
    },
  ),

  defineTool(
    'feature_get_by_id',
    {
      description:
        'Full details of one feature: name, description, verification steps, dependencies and current status.',
      input: { feature_id: featureIdSchema('The ID of the feature to retrieve') },
      annotations: READ_ONLY,
    },
    async ({ feature_id }, ctx) => featureDetails(ctx, feature_id),
  ),

  defineTool(
    'feature_get_summary',
    {
      description:
        'Minimal information on one feature: id, name, status and dependencies. Use it instead of feature_get_by_id when ' +
        'you need the status only, not the description and steps.',
      input: { feature_id: featureIdSchema('The ID of the feature') },
      annotations: READ_ONLY,
    },
    async ({ feature_id }, ctx) => {
      const { feature, human } = await oneFeature(ctx, feature_id);
      return summaryJson(feature, human);
    },
  ),

  defineTool(
    'feature_get_ready',
    {
      description:
        'Features ready to start: not passing, not in progress, not waiting for a human, not given up, and every dependency ' +
        'passes. Ordered as the scheduler picks them (unblocking score, then priority, then id).',
      input: { limit: limitSchema(50, 10, 'Most features to return (1-50, default 10)') },
      annotations: READ_ONLY,
    },
    async ({ limit }, ctx) => {
      const { features, human } = await everything(ctx);
      const exclude = new Set([...human.awaiting, ...features.filter((f) => f.state === 'failed').map((f) => f.id)]);
      const ready = readyFeatures(features, { exclude });
      return {
        features: ready.slice(0, limit).map((f) => featureJson(f, human)),
        count: Math.min(limit, ready.length),
        total_ready: ready.length,
      };
    },
  ),

  defineTool(
    'feature_get_blocked',
    {
      description:
        "Features that do not pass and wait on dependencies that do not pass (or do not exist). Each has 'blocked_by' (the " +
        "dependency ids it waits on) and, when it can never become ready (a cycle, a missing or given-up dependency), 'never_ready' saying why.",
      input: { limit: limitSchema(100, 20, 'Most features to return (1-100, default 20)') },
      annotations: READ_ONLY,
    },
    async ({ limit }, ctx) => {
      const { features, human } = await everything(ctx);
      const passing = new Set(features.filter((f) => f.passes).map((f) => f.id));
      const givenUp = new Set(features.filter((f) => f.state === 'failed').map((f) => f.id));
      const never = new Map(blockedFeatures(features, givenUp).map((b) => [b.id, describeBlockReason(b.id, b.reason)]));
      const blocked = features
        .filter((f) => !f.passes && f.dependencies.some((d) => !passing.has(d)))
        .map((f) => ({
          ...featureJson(f, human),
          blocked_by: f.dependencies.filter((d) => !passing.has(d)),
          never_ready: never.get(f.id) ?? null,
        }));
      return {
        features: blocked.slice(0, limit),
        count: Math.min(limit, blocked.length),
        total_blocked: blocked.length,
      };
    },
  ),

  defineTool(
    'feature_get_graph',
    {
      description:
        "The dependency graph: nodes (features with status 'done', 'in_progress', 'pending', 'blocked' or 'needs_human_input') " +
        "and edges {source, target} meaning target depends on source; 'cycles' lists dependency cycles, if any.",
      input: {},
      annotations: READ_ONLY,
    },
    async (_args, ctx) => {
      const { features, human } = await everything(ctx);
      const passing = new Set(features.filter((f) => f.passes).map((f) => f.id));
      const nodes = features.map((f) => ({
        id: f.id,
        name: f.name,
        category: f.category,
        status: f.passes
          ? 'done'
          : human.awaiting.has(f.id)
            ? 'needs_human_input'
            : f.dependencies.some((d) => !passing.has(d))
              ? 'blocked'
              : f.inProgress
                ? 'in_progress'
                : 'pending',
        state: f.state,
        priority: f.priority,
        dependencies: f.dependencies,
      }));
      const edges = features.flatMap((f) => f.dependencies.map((d) => ({ source: d, target: f.id })));
      return { nodes, edges, cycles: findCycles(features) };
    },
  ),
];
