import { indexGraph, type IndexedGraph } from './indexed.ts';
import type { GraphFeature } from './types.ts';

/**
 * The real cycles of a feature list, for people: one simple cycle per group of features that
 * depend on each other (strongly connected component), starting at the group's lowest id and
 * following "depends on" edges, ordered by that id. Unlike `findCycles` (AutoCoder's report,
 * kept for parity), every list here is a true cycle and no group is missed.
 */
export function dependencyCycles(features: readonly GraphFeature[]): number[][] {
  const graph = indexGraph(features);
  const cycles: number[][] = [];
  for (const component of stronglyConnected(graph, () => true)) {
    if (!hasCycle(graph, component)) continue;
    let lowest = component[0] as number;
    for (const v of component) if ((graph.ids[v] as number) < (graph.ids[lowest] as number)) lowest = v;
    cycles.push(cycleFinder(graph, component)(lowest).map((p) => graph.ids[p] as number));
  }
  return cycles.sort((a, b) => (a[0] as number) - (b[0] as number));
}

/** A component is a cycle if it has two members or more, or one that depends on itself. */
export function hasCycle(graph: IndexedGraph, component: readonly number[]): boolean {
  const only = component[0] as number;
  return component.length > 1 || (graph.parents[only] as readonly number[]).includes(only);
}

/**
 * For a component with a cycle: v ↦ a simple cycle through v (positions, starting at v,
 * following "depends on"). Within the component, shortest paths v ⇝ r and r ⇝ v to a fixed
 * member r close a walk through v; erasing its loops leaves a simple cycle through v. Two BFS
 * trees per component, then time linear in the walk per member.
 */
export function cycleFinder(graph: IndexedGraph, component: readonly number[]): (v: number) => number[] {
  const root = component[0] as number;
  const member = new Set(component);
  const fromRoot = shortestPathTree(root, (v) => graph.parents[v] as readonly number[], member);
  const toRoot = shortestPathTree(root, (v) => graph.children[v] as readonly number[], member);
  return (v) => {
    const walk: number[] = [];
    if (v === root) {
      // root → d ⇝ root for a dependency d of root inside the component.
      const dep = (graph.parents[root] as readonly number[]).find((d) => member.has(d)) as number;
      walk.push(root);
      for (let x = dep; x !== root; x = toRoot.get(x) as number) walk.push(x);
    } else {
      for (let x = v; x !== root; x = toRoot.get(x) as number) walk.push(x);
      const rootToV: number[] = [];
      for (let x = fromRoot.get(v) as number; x !== root; x = fromRoot.get(x) as number) rootToV.push(x);
      walk.push(root);
      for (let k = rootToV.length - 1; k >= 0; k--) walk.push(rootToV[k] as number);
    }
    return eraseLoops(walk);
  };
}

/** BFS from root along `next` within `member`: for each reached v, its neighbour toward root. */
function shortestPathTree(
  root: number,
  next: (v: number) => readonly number[],
  member: Set<number>,
): Map<number, number> {
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

/**
 * Strongly connected components of the features `include` accepts (edges: "depends on"), by
 * iterative Tarjan; each component's positions ascending.
 */
export function stronglyConnected(graph: IndexedGraph, include: (i: number) => boolean): number[][] {
  const n = graph.ids.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const open = (v: number, frames: [number, number][]): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    frames.push([v, 0]);
  };
  for (let s = 0; s < n; s++) {
    if (!include(s) || index[s] !== -1) continue;
    const frames: [number, number][] = [];
    open(s, frames);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as [number, number];
      const [v, k] = frame;
      const deps = graph.parents[v] as readonly number[];
      if (k < deps.length) {
        frame[1] = k + 1;
        const w = deps[k] as number;
        if (!include(w)) continue;
        if (index[w] === -1) open(w, frames);
        else if (onStack[w]) low[v] = Math.min(low[v] as number, index[w] as number);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] !== index[v]) continue;
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
  return components;
}
