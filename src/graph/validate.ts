import { formatCycle } from './cycles.ts';
import { indexGraph } from './indexed.ts';
import type { GraphFeature } from './types.ts';

/** AutoCoder's limit on dependencies per feature (a guard against abuse, not a design limit). */
export const MAX_DEPENDENCIES_PER_FEATURE = 20;

/**
 * Problems with giving feature `featureId` the dependency list `dependencyIds` (replacing its
 * current one) in `features`; empty when the edit is fine. Checks, all reported at once: at most
 * 20 dependencies, ids are integers ≥ 1, no self-dependency, no id that names no feature, no
 * duplicates, and no new cycle (reported as its path, e.g. `cycle: 3 → 7 → 3`). `featureId` may
 * be a feature not yet in the list (one about to be added).
 *
 * The cycle check is one reverse BFS from `featureId` over "is depended on by" edges, so it is
 * linear in the graph whatever the number of dependencies (AutoCoder searched per dependency with
 * a depth cap of 50 and treated deeper graphs as cycles; we search the whole graph instead).
 */
export function validateDependencies(
  features: readonly GraphFeature[],
  featureId: number,
  dependencyIds: readonly number[],
): string[] {
  const problems: string[] = [];
  if (dependencyIds.length > MAX_DEPENDENCIES_PER_FEATURE) {
    problems.push(
      `feature #${featureId} may have at most ${MAX_DEPENDENCIES_PER_FEATURE} dependencies, got ${dependencyIds.length}`,
    );
  }
  const graph = indexGraph(features);
  const candidates: number[] = [];
  const seen = new Set<number>();
  for (const depId of dependencyIds) {
    if (!Number.isSafeInteger(depId) || depId < 1) {
      problems.push(`dependency ${String(depId)} is not a feature id (an integer ≥ 1)`);
    } else if (depId === featureId) {
      problems.push(`feature #${featureId} cannot depend on itself`);
    } else if (seen.has(depId)) {
      problems.push(`dependency #${depId} is listed more than once`);
    } else {
      seen.add(depId);
      if (graph.positionOf.has(depId)) candidates.push(depId);
      else problems.push(`dependency #${depId} names no feature`);
    }
  }
  const start = graph.positionOf.get(featureId);
  if (start === undefined || candidates.length === 0) return problems;

  // towardFeature[i]: the next position on a shortest "depends on" path from i to featureId.
  const towardFeature = new Int32Array(graph.ids.length).fill(-1);
  towardFeature[start] = start;
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as number;
    for (const dependant of graph.children[node] as readonly number[]) {
      if (towardFeature[dependant] !== -1) continue;
      towardFeature[dependant] = node;
      queue.push(dependant);
    }
  }
  for (const depId of candidates) {
    let position = graph.positionOf.get(depId) as number;
    if (towardFeature[position] === -1) continue;
    const cycle = [featureId];
    while (position !== start) {
      cycle.push(graph.ids[position] as number);
      position = towardFeature[position] as number;
    }
    problems.push(`dependency #${depId} would create a ${formatCycle(cycle)}`);
  }
  return problems;
}
