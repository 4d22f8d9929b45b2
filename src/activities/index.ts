/**
 * createActivities(deps): the one factory the worker wires with real parts (DESIGN.md §2).
 */
import { createFeatureStoreActivities, type FeatureStoreDeps } from './feature-store.ts';
import { createSupervisionActivities, type SupervisionDeps } from './supervise.ts';
import { createNotifyActivities } from './notify.ts';
import { createOutcomeActivities } from './outcome.ts';
import type { AgentActivities, NotifyActivities, RunActivities, WindowActivities } from './types.ts';
import { createWindowActivities } from './windows.ts';

export type ActivityDeps = FeatureStoreDeps & SupervisionDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createFeatureStoreActivities(deps),
    ...createOutcomeActivities(deps),
    ...createSupervisionActivities(deps),
    ...createNotifyActivities(),
    ...createWindowActivities(deps),
  } satisfies RunActivities & AgentActivities & NotifyActivities & WindowActivities & Record<string, unknown>;
}

export type Activities = ReturnType<typeof createActivities>;
