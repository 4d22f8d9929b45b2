/**
 * createActivities(deps): the one factory the worker wires with real parts (DESIGN.md §2).
 */
import { createFeatureStoreActivities, type FeatureStoreDeps } from './feature-store.ts';
import { createSupervisionActivities, type SupervisionDeps } from './supervise.ts';
import { HostSlots, hostQueueOf } from './hosts.ts';
import { createNotifyActivities } from './notify.ts';
import { createOutcomeActivities } from './outcome.ts';
import { createMergeActivities } from './merge-steps.ts';
import { createQuotaActivities } from './quota.ts';
import type { AgentActivities, NotifyActivities, QuotaActivities, RunActivities, WindowActivities } from './types.ts';
import { createWindowActivities } from './windows.ts';

export type ActivityDeps = FeatureStoreDeps & SupervisionDeps;

export function createActivities(deps: ActivityDeps) {
  // A worker passes its host (worker.ts); tests that build activities alone get one of 20 slots.
  const slots = deps.slots ?? new HostSlots(deps.host, hostQueueOf(deps.taskQueue ?? 'autocoder', deps.host), 20);
  deps = { ...deps, slots };
  return {
    ...slots.activities(),
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
