import { indexGraph, type IndexedGraph } from './indexed.ts';
import type { GraphFeature } from './types.ts';

/**
 * Scheduling scores, AutoCoder's formula (SPEC "Scheduling" 5):
 *   score = 1000·unblock + 100·depthScore + 10·priorityFactor
 * - depth: BFS distance from the roots (features with no existing dependency), each feature
 *   visited once; features no root reaches (cycles and what hangs below them) get depth 0;
 * - downstream(f) = Σ over dependants c of (1 + downstream(c)), pushed to parents deepest first
 *   in BFS order. Like the original this counts paths, not distinct features, and a dependant
 *   that sits shallower than its parent (reached by a shorter route) adds its own count before
 *   its downstream is complete. Both quirks are kept on purpose: scores must match the original;
 * - unblock = downstream / max downstream (0 when the max is 0);
 * - depthScore = 1 − depth / max depth (1 when the max is 0);
 * - priorityFactor = (10 − min(priority, 10)) / 10.
 * The arithmetic is done in the same order as the original so results are bit-identical.
 * Scores lie in [0, 1110] for priorities ≥ 0.
 */
export function schedulingScores(features: readonly GraphFeature[]): Map<number, number> {
  const graph = indexGraph(features);
  const scores = scoresByPosition(graph);
  const byId = new Map<number, number>();
  for (let i = 0; i < graph.ids.length; i++) byId.set(graph.ids[i] as number, scores[i] as number);
  return byId;
}

/** Scores indexed by position in `graph.features`. */
export function scoresByPosition(graph: IndexedGraph): Float64Array {
  const n = graph.features.length;
  const scores = new Float64Array(n);
  if (n === 0) return scores;
  const { depth, order } = bfsDepths(graph);
  let maxDepth = 0;
  for (let i = 0; i < n; i++) if ((depth[i] as number) > maxDepth) maxDepth = depth[i] as number;
  const leavesFirst = deepestFirst(order, depth, maxDepth);
  const unblock = unblockRatios(graph, leavesFirst);
  for (let i = 0; i < n; i++) {
    const depthScore = maxDepth > 0 ? 1 - (depth[i] as number) / maxDepth : 1;
    const priorityFactor = (10 - Math.min((graph.features[i] as GraphFeature).priority, 10)) / 10;
    scores[i] = 1000 * (unblock[i] as number) + 100 * depthScore + 10 * priorityFactor;
  }
  return scores;
}

/**
 * Depth of every feature and the order in which the original's BFS records them: the BFS visit
 * order, then unreached features in list order. (Marking on enqueue visits nodes in the same
 * order and at the same depth as the original's mark-on-dequeue, without queue duplicates.)
 */
function bfsDepths(graph: IndexedGraph): { depth: Int32Array; order: Int32Array } {
  const n = graph.features.length;
  const depth = new Int32Array(n).fill(-1);
  const order = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if ((graph.parents[i] as readonly number[]).length === 0) {
      depth[i] = 0;
      order[count++] = i;
    }
  }
  for (let head = 0; head < count; head++) {
    const node = order[head] as number;
    const next = (depth[node] as number) + 1;
    for (const child of graph.children[node] as readonly number[]) {
      if (depth[child] === -1) {
        depth[child] = next;
        order[count++] = child;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (depth[i] === -1) {
      depth[i] = 0;
      order[count++] = i;
    }
  }
  return { depth, order };
}

/** A stable sort of `order` by depth descending (a counting sort: depths are small integers). */
function deepestFirst(order: Int32Array, depth: Int32Array, maxDepth: number): Int32Array {
  const start = new Int32Array(maxDepth + 2);
  for (const i of order) start[maxDepth - (depth[i] as number) + 1]!++;
  for (let d = 1; d < start.length; d++) start[d]! += start[d - 1] as number;
  const sorted = new Int32Array(order.length);
  for (const i of order) sorted[start[maxDepth - (depth[i] as number)]!++] = i;
  return sorted;
}

/**
 * downstream / max downstream per feature. Downstream counts paths, which grows exponentially
 * with depth in a dense DAG; while every count stays an exact double (≤ 2^53) the ratio is the
 * same correctly rounded division Python does, and beyond that we recount with BigInt.
 */
function unblockRatios(graph: IndexedGraph, leavesFirst: Int32Array): Float64Array {
  const n = graph.features.length;
  const downstream = new Float64Array(n);
  for (const i of leavesFirst) {
    // Re-read downstream[i] per parent: a self-dependency changes it mid-loop, as in the original.
    for (const p of graph.parents[i] as readonly number[]) downstream[p]! += 1 + (downstream[i] as number);
  }
  let max = 0;
  for (let i = 0; i < n; i++) if ((downstream[i] as number) > max) max = downstream[i] as number;
  const ratios = new Float64Array(n);
  if (max <= Number.MAX_SAFE_INTEGER) {
    if (max > 0) for (let i = 0; i < n; i++) ratios[i] = (downstream[i] as number) / max;
    return ratios;
  }
  return bigUnblockRatios(graph, leavesFirst);
}

function bigUnblockRatios(graph: IndexedGraph, leavesFirst: Int32Array): Float64Array {
  const n = graph.features.length;
  const downstream: bigint[] = new Array<bigint>(n).fill(0n);
  for (const i of leavesFirst) {
    for (const p of graph.parents[i] as readonly number[])
      downstream[p] = (downstream[p] as bigint) + 1n + (downstream[i] as bigint);
  }
  let max = 0n;
  for (const d of downstream) if (d > max) max = d;
  // Keep 64 significant bits of the divisor: the quotient is then within ~1e-18 of exact.
  const shift = BigInt(Math.max(0, max.toString(2).length - 64));
  const divisor = Number(max >> shift);
  const ratios = new Float64Array(n);
  for (let i = 0; i < n; i++) ratios[i] = Number((downstream[i] as bigint) >> shift) / divisor;
  return ratios;
}
