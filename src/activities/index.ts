/**
 * createActivities(deps): the one factory the worker wires with real parts (DESIGN.md §2).
 */
import { createFeatureStoreActivities, type FeatureStoreDeps } from './feature-store.ts';
import { createSupervisionActivities, type SupervisionDeps } from './supervise.ts';
import { createNotifyActivities } from './notify.ts';
import { createOutcomeActivities } from './outcome.ts';
import { createMergeActivities } from './merge-steps.ts';
import { createQuotaActivities } from './quota.ts';
import type { AgentActivities, NotifyActivities, QuotaActivities, RunActivities, WindowActivities } from './types.ts';
import { createWindowActivities } from './windows.ts';

export type ActivityDeps = FeatureStoreDeps & SupervisionDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createFeatureStoreActivities(deps),
    ...createOutcomeActivities(deps),
    ...createSupervisionActivities(deps),
    ...createQuotaActivities(deps),
    ...createNotifyActivities(),
    ...createWindowActivities(deps),
    ...createMergeActivities(deps),
  } satisfies RunActivities &
    AgentActivities &
    QuotaActivities &
    NotifyActivities &
    WindowActivities &
    Record<string, unknown>;
}

export type Activities = ReturnType<typeof createActivities>;
