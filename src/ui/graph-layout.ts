/**
 * The dependency graph's layout, computed on the server and cached per graph shape: states change
 * every second, the shape rarely, and the page colours the nodes from the live feed. Up to
 * DAGRE_MAX_NODES features, dagre (the original's library) with the longest-path ranker (its
 * default, network simplex, took 5.9 s for 1,000 features); above, our layered layout
 * (graph-layered.ts), since dagre's ordering and positioning still took 2.0 s for 1,000 features
 * and 2,379 edges. The layout runs in a worker thread (graph-worker.ts), started by the project's
 * feed when a page opens, so the graph is ready before it is asked for and the event streams never
 * wait on it.
 */
import { createHash } from 'node:crypto';
import dagre from '@dagrejs/dagre';
import { layeredLayout } from './graph-layered.ts';

export type GraphInput = { id: number; dependencies: readonly number[]; passes: boolean };
export type GraphLayout = {
  /** A hash of the graph's shape (ids and dependencies): the page rebuilds its SVG only when it changes. */
  shape: string;
  width: number;
  height: number;
  nodes: { id: number; x: number; y: number }[];
  /** dependency → dependent: dagre's polyline, or two points the page joins with a curve. */
  edges: { from: number; to: number; points: { x: number; y: number }[] }[];
  /** The longest chain of features that do not pass yet: what bounds the run's remaining time. */
  critical: number[];
  layoutMs: number;
};

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 34;
/** Above this many features, dagre takes more than ~0.25 s and our layered layout takes over. */
export const DAGRE_MAX_NODES = 200;
const NODESEP = 12;
const RANKSEP = 60;
const MARGIN = 10;

/**
 * The longest path, by feature count, through features that do not pass, following dependencies
 * that exist (ties go to the lower id). Iterative, memoised, and safe on cycles: a feature on a
 * cycle counts itself only.
 */
export function criticalPath(features: readonly GraphInput[]): number[] {
  const byId = new Map(features.map((f) => [f.id, f]));
  const best = new Map<number, { length: number; next: number | null }>();
  const onStack = new Set<number>();
  const dependents = new Map<number, number[]>();
  for (const f of features)
    for (const d of f.dependencies) if (byId.has(d)) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(f.id);
  // best(f) = 1 + max over open dependents; computed depth-first without recursion.
  const visit = (start: number) => {
    const stack: { id: number; i: number }[] = [{ id: start, i: 0 }];
    onStack.add(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = (dependents.get(top.id) ?? []).filter((d) => !byId.get(d)!.passes);
      if (top.i < next.length) {
        const child = next[top.i++]!;
        if (!best.has(child) && !onStack.has(child)) {
          onStack.add(child);
          stack.push({ id: child, i: 0 });
        }
        continue;
      }
      let length = 1;
      let follow: number | null = null;
      for (const child of next) {
        const b = best.get(child);
        if (b && (b.length + 1 > length || (b.length + 1 === length && follow !== null && child < follow))) {
          length = b.length + 1;
          follow = child;
        }
      }
      best.set(top.id, { length, next: follow });
      onStack.delete(top.id);
      stack.pop();
    }
  };
  let head: number | null = null;
  for (const f of [...features].sort((a, b) => a.id - b.id)) {
    if (f.passes) continue;
    if (!best.has(f.id)) visit(f.id);
    if (head === null || best.get(f.id)!.length > best.get(head)!.length) head = f.id;
  }
  const path: number[] = [];
  for (let id = head; id !== null && path.length <= features.length; id = best.get(id)?.next ?? null) path.push(id);
  return path;
}

/** The key a layout is cached under: ids and dependencies, not states. */
export function shapeOf(features: readonly GraphInput[]): string {
  const hash = createHash('sha1');
  for (const f of features) hash.update(`${f.id}:${f.dependencies.join(',')};`);
  return hash.digest('base64url').slice(0, 16);
}

function dagreLayout(features: readonly GraphInput[]): Omit<GraphLayout, 'critical' | 'layoutMs' | 'shape'> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({
    rankdir: 'LR',
    nodesep: NODESEP,
    ranksep: RANKSEP,
    marginx: MARGIN,
    marginy: MARGIN,
    ranker: 'longest-path',
  });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(features.map((f) => f.id));
  for (const f of features) g.setNode(String(f.id), { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const f of features)
    for (const d of f.dependencies) if (ids.has(d) && d !== f.id) g.setEdge(String(d), String(f.id));
  dagre.layout(g);
  const label = g.graph();
  return {
    width: Math.ceil(label.width ?? 0),
    height: Math.ceil(label.height ?? 0),
    nodes: g.nodes().map((id: string) => {
      const n = g.node(id);
      return { id: Number(id), x: Math.round(n.x), y: Math.round(n.y) };
    }),
    edges: g.edges().map((e: { v: string; w: string }) => ({
      from: Number(e.v),
      to: Number(e.w),
      points: (g.edge(e).points ?? []).map((p: { x: number; y: number }) => ({
        x: Math.round(p.x),
        y: Math.round(p.y),
      })),
    })),
  };
}

/** The layout of a graph, synchronously (the worker thread's job; tests call it directly). */
export function layoutGraph(features: readonly GraphInput[]): GraphLayout {
  const started = performance.now();
  const placed =
    features.length <= DAGRE_MAX_NODES
      ? dagreLayout(features)
      : layeredLayout(features, {
          width: NODE_WIDTH,
          height: NODE_HEIGHT,
          nodesep: NODESEP,
          ranksep: RANKSEP,
          margin: MARGIN,
        });
  return {
    shape: shapeOf(features),
    ...placed,
    critical: criticalPath(features),
    layoutMs: Math.round(performance.now() - started),
  };
}
