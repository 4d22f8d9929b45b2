import { indexGraph, type IndexedGraph } from './indexed.ts';
import type { GraphFeature } from './types.ts';

/**
 * Dependency cycles, reported the way AutoCoder's resolver reports them (the golden vectors hold
 * its output): features that a topological sort (Kahn) cannot order are searched depth-first,
 * in list order, along "depends on" edges; on meeting a feature already on the current path, the
 * path from that feature on is one cycle, and that whole search stops there.
 *
 * Two consequences of the original's search that we keep so reports match it:
 * - one cycle per search: a feature in two cycles may show up in only one of them;
 * - a stopped search leaves its path in place, so a later search that runs into it reports the
 *   leftover path plus its own as a "cycle". Every id in such a report still depends on a
 *   cycle (it can never become ready); `blockedFeatures` gives the precise reason per feature.
 * Iterative, so a 10,000-long dependency chain cannot overflow the stack.
 */
export function findCycles(features: readonly GraphFeature[]): number[][] {
  return cyclesIn(indexGraph(features));
}

export function cyclesIn(graph: IndexedGraph): number[][] {
  const n = graph.features.length;
  const ordered = topologicallyOrdered(graph);
  const visited = new Uint8Array(n);
  const onPath = new Uint8Array(n);
  const pathPosition = new Int32Array(n);
  const path: number[] = [];
  const cycles: number[][] = [];
  const frames: number[] = [];
  const nextDep: number[] = [];
  const enter = (node: number): void => {
    visited[node] = 1;
    onPath[node] = 1;
    pathPosition[node] = path.length;
    path.push(node);
    frames.push(node);
    nextDep.push(0);
  };
  for (let start = 0; start < n; start++) {
    if (ordered[start] || visited[start]) continue;
    enter(start);
    while (frames.length > 0) {
      const top = frames.length - 1;
      const node = frames[top] as number;
      const deps = graph.parents[node] as readonly number[];
      const k = nextDep[top] as number;
      if (k === deps.length) {
        path.pop();
        onPath[node] = 0;
        frames.pop();
        nextDep.pop();
        continue;
      }
      nextDep[top] = k + 1;
      const dep = deps[k] as number;
      // A feature the sort could order has only ordered dependencies: no cycle down there.
      if (ordered[dep]) continue;
      if (!visited[dep]) {
        enter(dep);
      } else if (onPath[dep]) {
        cycles.push(path.slice(pathPosition[dep]).map((i) => graph.ids[i] as number));
        frames.length = 0;
        nextDep.length = 0;
      }
    }
  }
  return cycles;
}

/** 1 for every feature Kahn's algorithm can order (nothing it depends on is in or under a cycle). */
function topologicallyOrdered(graph: IndexedGraph): Uint8Array {
  const n = graph.features.length;
  const waitingFor = new Int32Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    waitingFor[i] = (graph.parents[i] as readonly number[]).length;
    if (waitingFor[i] === 0) queue[tail++] = i;
  }
  const ordered = new Uint8Array(n);
  for (let head = 0; head < tail; head++) {
    const node = queue[head] as number;
    ordered[node] = 1;
    for (const child of graph.children[node] as readonly number[]) {
      if (--waitingFor[child]! === 0) queue[tail++] = child;
    }
  }
  return ordered;
}

/** Per feature id, the dependency ids that name no feature, in list order (repeats kept). */
export function missingDependencies(features: readonly GraphFeature[]): Map<number, number[]> {
  const ids = new Set<number>();
  for (const f of features) ids.add(f.id);
  const missing = new Map<number, number[]>();
  for (const f of features) {
    for (const depId of f.dependencies ?? []) {
      if (ids.has(depId)) continue;
      const list = missing.get(f.id);
      if (list) list.push(depId);
      else missing.set(f.id, [depId]);
    }
  }
  return missing;
}

/** `cycle: 3 → 7 → 3` for [3, 7] ("→" reads "depends on"). */
export function formatCycle(cycle: readonly number[]): string {
  if (cycle.length === 0) return 'cycle: (empty)';
  return `cycle: ${[...cycle, cycle[0]].join(' → ')}`;
}
