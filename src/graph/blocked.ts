import { cycleFinder, hasCycle, stronglyConnected } from './components.ts';
import { formatCycle } from './cycles.ts';
import { indexGraph, type IndexedGraph } from './indexed.ts';
import type { BlockedFeature, BlockReason, GraphFeature } from './types.ts';

/**
 * Features that can never become ready, each with the reason, ordered by id. A run whose
 * remaining features are all here (or given up) ends `blocked` instead of waiting forever.
 *
 * A feature "can pass" if it passes, is in progress (an agent has it or will resume it, whatever
 * its dependencies), or every dependency can pass; given-up features (`givenUp`: failed
 * `maxRetries` times) cannot, even if still marked in progress. Everything else that does not
 * pass is blocked: by a dependency that names no feature, by a given-up dependency, by a cycle of
 * features that do not pass, or by a dependency that is itself blocked. Given-up features are not
 * listed (they are `failed`). Linear in the graph, apart from cycle paths: each feature in a
 * cycle gets a simple cycle through itself, so one huge cycle costs its length per member.
 */
export function blockedFeatures(features: readonly GraphFeature[], givenUp: ReadonlySet<number>): BlockedFeature[] {
  const graph = indexGraph(features);
  const canPass = passable(graph, givenUp);
  const isBlocked = (i: number): boolean => !canPass[i] && !givenUp.has(graph.ids[i] as number);
  const cyclePaths = cyclesThroughBlocked(graph, isBlocked);
  const blocked: BlockedFeature[] = [];
  for (let i = 0; i < graph.ids.length; i++) {
    if (isBlocked(i))
      blocked.push({ id: graph.ids[i] as number, reason: reasonFor(graph, i, isBlocked, givenUp, cyclePaths) });
  }
  return blocked.sort((a, b) => a.id - b.id);
}

/** One line for a person, e.g. `#12 depends on #9, which does not exist`. */
export function describeBlockReason(featureId: number, reason: BlockReason): string {
  const list = (ids: readonly number[]): string => ids.map((id) => `#${id}`).join(', ');
  switch (reason.kind) {
    case 'missing-dependency':
      return `#${featureId} depends on ${list(reason.dependencyIds)}, which ${reason.dependencyIds.length === 1 ? 'does' : 'do'} not exist`;
    case 'given-up-dependency':
      return `#${featureId} depends on ${list(reason.dependencyIds)}, given up after repeated failures`;
    case 'cycle':
      return `#${featureId} is in a dependency ${formatCycle(reason.cycle)}`;
    case 'blocked-dependency':
      return `#${featureId} depends on ${list(reason.dependencyIds)}, which can never pass`;
  }
}

/** Least fixed point of "can pass", by counting down unmet dependencies (Kahn-style). */
function passable(graph: IndexedGraph, givenUp: ReadonlySet<number>): Uint8Array {
  const n = graph.ids.length;
  const canPass = new Uint8Array(n);
  const unmet = new Int32Array(n);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = graph.features[i] as GraphFeature;
    if (f.passes || (f.inProgress && !givenUp.has(f.id))) {
      canPass[i] = 1;
      queue.push(i);
      continue;
    }
    const deps = f.dependencies ?? [];
    // Missing dependencies never pass; givenUp features never pass: leave unmet above zero.
    const hasMissing = deps.length !== (graph.parents[i] as readonly number[]).length;
    unmet[i] = hasMissing || givenUp.has(f.id) ? -1 : (graph.parents[i] as readonly number[]).length;
    if (unmet[i] === 0) {
      canPass[i] = 1;
      queue.push(i);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    for (const child of graph.children[queue[head] as number] as readonly number[]) {
      if (canPass[child] || (unmet[child] as number) <= 0) continue;
      if (--unmet[child]! === 0) {
        canPass[child] = 1;
        queue.push(child);
      }
    }
  }
  return canPass;
}

function reasonFor(
  graph: IndexedGraph,
  i: number,
  isBlocked: (i: number) => boolean,
  givenUp: ReadonlySet<number>,
  cyclePaths: Map<number, number[]>,
): BlockReason {
  const deps = (graph.features[i] as GraphFeature).dependencies ?? [];
  const missing = unique(deps.filter((id) => !graph.positionOf.has(id)));
  if (missing.length > 0) return { kind: 'missing-dependency', dependencyIds: missing };
  const failed = unique(
    deps.filter(
      (id) => givenUp.has(id) && !(graph.features[graph.positionOf.get(id) as number] as GraphFeature).passes,
    ),
  );
  if (failed.length > 0) return { kind: 'given-up-dependency', dependencyIds: failed };
  const cycle = cyclePaths.get(i);
  if (cycle) return { kind: 'cycle', cycle };
  const stuck = unique(deps.filter((id) => isBlocked(graph.positionOf.get(id) as number)));
  return { kind: 'blocked-dependency', dependencyIds: stuck };
}

function unique(ids: readonly number[]): number[] {
  return [...new Set(ids)];
}

/** For every blocked feature on a cycle of blocked features, a simple cycle through it. */
function cyclesThroughBlocked(graph: IndexedGraph, isBlocked: (i: number) => boolean): Map<number, number[]> {
  const result = new Map<number, number[]>();
  for (const component of stronglyConnected(graph, isBlocked)) {
    if (!hasCycle(graph, component)) continue;
    const cycleThrough = cycleFinder(graph, component);
    for (const v of component)
      result.set(
        v,
        cycleThrough(v).map((p) => graph.ids[p] as number),
      );
  }
  return result;
}
