/**
 * Features as the tools return them: AutoCoder's `Feature.to_dict()` keys first (so prompts and
 * habits written for AutoCoder read them unchanged), then what this store knows besides (state,
 * failures, who holds it, what it waits on).
 */
import type { Feature } from '../db/features.ts';
import type { HumanRequestRow } from '../db/tables.ts';

export type HumanInfo = {
  /** Features with an open 'feature' request. */
  awaiting: ReadonlySet<number>;
  /** The latest 'feature' request per feature (open or answered). */
  latest: ReadonlyMap<number, HumanRequestRow>;
};

export const NO_HUMAN_INFO: HumanInfo = { awaiting: new Set(), latest: new Map() };

export function humanInfoFrom(requests: readonly HumanRequestRow[]): HumanInfo {
  const awaiting = new Set<number>();
  const latest = new Map<number, HumanRequestRow>();
  // Newest first: the first request seen per feature is its latest.
  for (const r of [...requests].sort((a, b) => b.id - a.id)) {
    if (r.kind !== 'feature' || r.feature_id === null) continue;
    if (r.answered_at === null) awaiting.add(r.feature_id);
    if (!latest.has(r.feature_id)) latest.set(r.feature_id, r);
  }
  return { awaiting, latest };
}

export function featureJson(f: Feature, human: HumanInfo = NO_HUMAN_INFO): Record<string, unknown> {
  const request = human.latest.get(f.id);
  return {
    id: f.id,
    priority: f.priority,
    category: f.category,
    name: f.name,
    description: f.description,
    steps: f.steps,
    passes: f.passes,
    in_progress: f.inProgress,
    dependencies: f.dependencies,
    needs_human_input: human.awaiting.has(f.id),
    human_input_request: request ? { id: request.id, prompt: request.question, fields: request.options } : null,
    human_input_response: request?.answered_at ? request.answer : null,
    state: f.state,
    testing_in_progress: f.testingInProgress,
    failure_count: f.failureCount,
    last_error: f.lastError,
    claimed_by: f.claimedBy,
    waiting_on: f.waitingOn,
    missing_dependencies: f.missingDependencies,
  };
}

export function summaryJson(f: Feature, human: HumanInfo = NO_HUMAN_INFO): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    passes: f.passes,
    in_progress: f.inProgress,
    needs_human_input: human.awaiting.has(f.id),
    dependencies: f.dependencies,
    state: f.state,
  };
}
