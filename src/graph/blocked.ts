import { formatCycle } from './cycles.ts';
import { indexGraph, type IndexedGraph } from './indexed.ts';
import type { BlockedFeature, BlockReason, GraphFeature } from './types.ts';

/**
 * Features that can never become ready, each with the reason, ordered by id. A run whose
 * remaining features are all here (or given up) ends `blocked` instead of waiting forever.
 *
 * A feature "can pass" if it passes, is in progress (an agent has it or will resume it, whatever
 * its dependencies), or every dependency can pass; given-up features (`givenUp`: failed
 * `maxRetries` times) cannot. Everything else that does not pass is blocked: by a dependency
 * that names no feature, by a given-up dependency, by a cycle of features that do not pass, or
 * by a dependency that is itself blocked. Given-up features are not listed (they are `failed`).
 * Linear in the graph, apart from cycle paths: each feature in a cycle gets a simple cycle
 * through itself, so one huge cycle costs its length per member.
 */
export function blockedFeatures(features: readonly GraphFeature[], givenUp: ReadonlySet<number>): BlockedFeature[] {
  const graph = indexGraph(features);
  const canPass = passable(graph, givenUp);
  const isBlocked = (i: number): boolean => !canPass[i] && !givenUp.has(graph.ids[i] as number);
  const cyclePaths = cyclesThroughBlocked(graph, isBlocked);
  const blocked: BlockedFeature[] = [];
  for (let i = 0; i < graph.ids.length; i++) {
    if (isBlocked(i)) blocked.push({ id: graph.ids[i] as number, reason: reasonFor(graph, i, isBlocked, givenUp, cyclePaths) });
  }
  return blocked.sort((a, b) => a.id - b.id);
}

/** One line for a person: `#12 waits on #9, which does not exist`. */
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
    if (f.passes || f.inProgress) {
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
  const failed = unique(deps.filter((id) => givenUp.has(id) && !(graph.features[graph.positionOf.get(id) as number] as GraphFeature).passes));
  if (failed.length > 0) return { kind: 'given-up-dependency', dependencyIds: failed };
  const cycle = cyclePaths.get(i);
  if (cycle) return { kind: 'cycle', cycle };
  const stuck = unique(deps.filter((id) => isBlocked(graph.positionOf.get(id) as number)));
  return { kind: 'blocked-dependency', dependencyIds: stuck };
}

function unique(ids: readonly number[]): number[] {
  return [...new Set(ids)];
}

/**
 * For every blocked feature on a cycle of blocked features, a simple cycle through it (ids,
 * starting with it, following "depends on"). Strongly connected components by iterative Tarjan;
 * within a component of root r, shortest paths v ⇝ r and r ⇝ v close a walk through v, and
 * erasing its loops leaves a simple cycle through v.
 */
function cyclesThroughBlocked(graph: IndexedGraph, isBlocked: (i: number) => boolean): Map<number, number[]> {
  const result = new Map<number, number[]>();
  for (const component of stronglyConnected(graph, isBlocked)) {
    const root = component[0] as number;
    if (component.length === 1 && !(graph.parents[root] as readonly number[]).includes(root)) continue;
    const member = new Set(component);
    const fromRoot = shortestPathTree(root, (v) => graph.parents[v] as readonly number[], member);
    const toRoot = shortestPathTree(root, (v) => graph.children[v] as readonly number[], member);
    for (const v of component) {
      const walk = v === root ? cycleThroughRoot(graph, root, toRoot, member) : walkThroughRoot(v, root, toRoot, fromRoot);
      result.set(v, eraseLoops(walk).map((p) => graph.ids[p] as number));
    }
  }
  return result;
}

/** v ⇝ root ⇝ (back to v), as the list of positions before the return to v. */
function walkThroughRoot(v: number, root: number, toRoot: Map<number, number>, fromRoot: Map<number, number>): number[] {
  const walk: number[] = [];
  for (let x = v; x !== root; x = toRoot.get(x) as number) walk.push(x);
  const rootToV: number[] = [];
  for (let x = fromRoot.get(v) as number; x !== root; x = fromRoot.get(x) as number) rootToV.push(x);
  walk.push(root);
  for (let k = rootToV.length - 1; k >= 0; k--) walk.push(rootToV[k] as number);
  return walk;
}

/** root → d ⇝ root for a dependency d of root inside its component. */
function cycleThroughRoot(graph: IndexedGraph, root: number, toRoot: Map<number, number>, member: Set<number>): number[] {
  const dep = (graph.parents[root] as readonly number[]).find((d) => member.has(d)) as number;
  const walk = [root];
  for (let x = dep; x !== root; x = toRoot.get(x) as number) walk.push(x);
  return walk;
}

/** BFS from root along `next` within `member`: for each reached v, the neighbour toward root. */
function shortestPathTree(root: number, next: (v: number) => readonly number[], member: Set<number>): Map<number, number> {
  const toward = new Map<number, number>([[root, root]]);
  const queue = [root];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head] as number;
    for (const w of next(v)) {
      if (!member.has(w) || toward.has(w)) continue;
      toward.set(w, v);
      queue.push(w);
    }
  }
  return toward;
}

/** Loop erasure of a closed walk given without its final return to walk[0]. */
function eraseLoops(walk: readonly number[]): number[] {
  const kept: number[] = [];
  const at = new Map<number, number>();
  for (const v of walk) {
    const seenAt = at.get(v);
    if (seenAt !== undefined) {
      for (let k = seenAt + 1; k < kept.length; k++) at.delete(kept[k] as number);
      kept.length = seenAt + 1;
      continue;
    }
    at.set(v, kept.length);
    kept.push(v);
  }
  return kept;
}

/** Components of the subgraph of blocked features (edges: "depends on"), iterative Tarjan. */
function stronglyConnected(graph: IndexedGraph, inGraph: (i: number) => boolean): number[][] {
  const n = graph.ids.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let s = 0; s < n; s++) {
    if (!inGraph(s) || index[s] !== -1) continue;
    const frames: [number, number][] = [[s, 0]];
    index[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = 1;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as [number, number];
      const [v, k] = frame;
      const deps = graph.parents[v] as readonly number[];
      if (k < deps.length) {
        frame[1] = k + 1;
        const w = deps[k] as number;
        if (!inGraph(w)) continue;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          frames.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v] as number, index[w] as number);
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          component.push(w);
        } while (w !== v);
        components.push(component.sort((a, b) => a - b));
      }
    }
  }
  return components;
}
