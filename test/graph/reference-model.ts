/**
 * A deliberately literal model of AutoCoder's dependency resolver (api/dependency_resolver.py:
 * compute_scheduling_scores, resolve_dependencies' missing and cycle reports, the ready filter and
 * sort of parallel_orchestrator.py), written the slow, obvious way: recursion, a queue that may
 * hold repeats, a real stable sort, BigInt downstream counts (Python ints never overflow).
 * Property tests check src/graph against it on random graphs, cycles and repeats included.
 */
import type { GraphFeature } from '../../src/graph/index.ts';

export function modelScores(features: readonly GraphFeature[]): Map<number, number> {
  const scores = new Map<number, number>();
  if (features.length === 0) return scores;
  const children = new Map<number, number[]>(features.map((f) => [f.id, []]));
  const parents = new Map<number, number[]>(features.map((f) => [f.id, []]));
  for (const f of features) {
    for (const dep of f.dependencies ?? []) {
      if (children.has(dep)) {
        children.get(dep)!.push(f.id);
        parents.get(f.id)!.push(dep);
      }
    }
  }
  const depths = new Map<number, number>();
  const visited = new Set<number>();
  const queue: [number, number][] = features.filter((f) => parents.get(f.id)!.length === 0).map((f) => [f.id, 0]);
  while (queue.length > 0) {
    const [node, depth] = queue.shift()!;
    if (visited.has(node)) continue;
    visited.add(node);
    depths.set(node, depth);
    for (const child of children.get(node)!) if (!visited.has(child)) queue.push([child, depth + 1]);
  }
  for (const f of features) if (!depths.has(f.id)) depths.set(f.id, 0);
  const downstream = new Map<number, bigint>(features.map((f) => [f.id, 0n]));
  const leavesFirst = [...depths.keys()].sort((a, b) => depths.get(b)! - depths.get(a)!);
  for (const id of leavesFirst) {
    for (const parent of parents.get(id)!) downstream.set(parent, downstream.get(parent)! + 1n + downstream.get(id)!);
  }
  const maxDepth = Math.max(...depths.values());
  let maxDownstream = 0n;
  for (const d of downstream.values()) if (d > maxDownstream) maxDownstream = d;
  for (const f of features) {
    const unblock = maxDownstream > 0n ? ratio(downstream.get(f.id)!, maxDownstream) : 0;
    const depthScore = maxDepth > 0 ? 1 - depths.get(f.id)! / maxDepth : 1;
    const priorityFactor = (10 - Math.min(f.priority, 10)) / 10;
    scores.set(f.id, 1000 * unblock + 100 * depthScore + 10 * priorityFactor);
  }
  return scores;
}

/** a / b for 0 ≤ a ≤ b: exact double division while both are exact doubles, else 1e-18 close. */
function ratio(a: bigint, b: bigint): number {
  if (b <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(a) / Number(b);
  return Number((a * 10n ** 18n) / b) / 1e18;
}

export function modelCycles(features: readonly GraphFeature[]): number[][] {
  const byId = new Map(features.map((f) => [f.id, f]));
  const inDegree = new Map<number, number>(features.map((f) => [f.id, 0]));
  const adjacency = new Map<number, number[]>(features.map((f) => [f.id, []]));
  for (const f of features) {
    for (const dep of f.dependencies ?? []) {
      if (!byId.has(dep)) continue;
      adjacency.get(dep)!.push(f.id);
      inDegree.set(f.id, inDegree.get(f.id)! + 1);
    }
  }
  const ordered = new Set<number>();
  const ready = features.filter((f) => inDegree.get(f.id) === 0).map((f) => f.id);
  while (ready.length > 0) {
    const id = ready.pop()!;
    ordered.add(id);
    for (const dependant of adjacency.get(id)!) {
      inDegree.set(dependant, inDegree.get(dependant)! - 1);
      if (inDegree.get(dependant) === 0) ready.push(dependant);
    }
  }
  const remaining = features.filter((f) => !ordered.has(f.id));
  const cycles: number[][] = [];
  const visited = new Set<number>();
  const recStack = new Set<number>();
  const path: number[] = [];
  const dfs = (id: number): boolean => {
    visited.add(id);
    recStack.add(id);
    path.push(id);
    for (const dep of byId.get(id)?.dependencies ?? []) {
      if (!visited.has(dep)) {
        if (dfs(dep)) return true;
      } else if (recStack.has(dep)) {
        cycles.push(path.slice(path.indexOf(dep)));
        return true;
      }
    }
    path.pop();
    recStack.delete(id);
    return false;
  };
  for (const f of remaining) if (!visited.has(f.id)) dfs(f.id);
  return cycles;
}

export function modelMissing(features: readonly GraphFeature[]): Record<string, number[]> {
  const ids = new Set(features.map((f) => f.id));
  const missing: Record<string, number[]> = {};
  for (const f of features) {
    for (const dep of f.dependencies ?? []) if (!ids.has(dep)) (missing[f.id] ??= []).push(dep);
  }
  return missing;
}

export function modelReady(features: readonly GraphFeature[]): number[] {
  const passing = new Set(features.filter((f) => f.passes).map((f) => f.id));
  const scores = modelScores(features);
  return features
    .filter((f) => !f.passes && !f.inProgress && (f.dependencies ?? []).every((d) => passing.has(d)))
    .sort((a, b) => scores.get(b.id)! - scores.get(a.id)! || a.priority - b.priority || a.id - b.id)
    .map((f) => f.id);
}
