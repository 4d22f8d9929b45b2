/**
 * createActivities(deps): the one factory the worker wires with real parts (DESIGN.md §2).
 */
import { createFeatureStoreActivities, type FeatureStoreDeps } from './feature-store.ts';
import { createSupervisionActivities, type SupervisionDeps } from './supervise.ts';
import { createOutcomeActivities } from './outcome.ts';
import { createMergeActivities } from './merge-steps.ts';
import type { AgentActivities, RunActivities } from './types.ts';

export type ActivityDeps = FeatureStoreDeps & SupervisionDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createFeatureStoreActivities(deps),
    ...createOutcomeActivities(deps),
    ...createSupervisionActivities(deps),
    ...createMergeActivities(deps),
  } satisfies RunActivities & AgentActivities & Record<string, unknown>;
}

export type Activities = ReturnType<typeof createActivities>;
