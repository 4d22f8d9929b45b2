import { cyclesIn, missingDependencies } from './cycles.ts';
import { indexGraph, passingIds } from './indexed.ts';
import { scoresByPosition } from './scores.ts';
import type { FeaturePlan, GraphFeature } from './types.ts';

export type ReadyOptions = {
  /** Ids to leave out, e.g. features this run already has an agent on, or has given up. */
  exclude?: ReadonlySet<number>;
};

/**
 * Features ready to start, in scheduling order: not passing, not in progress, not excluded, and
 * every dependency id is the id of a passing feature (a dependency on a missing id never passes;
 * `null` dependencies mean none). Order: score descending, then priority, then id ascending.
 */
export function readyFeatures<F extends GraphFeature>(features: readonly F[], options: ReadyOptions = {}): F[] {
  return readyPositions(features, scoresByPosition(indexGraph(features)), options).map((i) => features[i] as F);
}

/** The scheduling order as a comparator over features, given their scores. */
export function compareForScheduling(
  scores: ReadonlyMap<number, number>,
): (a: GraphFeature, b: GraphFeature) => number {
  return (a, b) => (scores.get(b.id) ?? 0) - (scores.get(a.id) ?? 0) || a.priority - b.priority || a.id - b.id;
}

/** The ready set, order, scores, cycles and missing dependencies of a feature list in one pass. */
export function planFeatures(features: readonly GraphFeature[]): FeaturePlan {
  const graph = indexGraph(features);
  const positionScores = scoresByPosition(graph);
  const scores: Record<string, number> = {};
  for (let i = 0; i < features.length; i++) scores[String(graph.ids[i])] = positionScores[i] as number;
  const missing: Record<string, number[]> = {};
  for (const [id, depIds] of missingDependencies(features)) missing[String(id)] = depIds;
  return {
    ready: readyPositions(features, positionScores, {}).map((i) => graph.ids[i] as number),
    scores,
    cycles: cyclesIn(graph),
    missing,
  };
}

function readyPositions(features: readonly GraphFeature[], scores: Float64Array, options: ReadyOptions): number[] {
  const passing = passingIds(features);
  const exclude = options.exclude;
  const ready: number[] = [];
  for (let i = 0; i < features.length; i++) {
    const f = features[i] as GraphFeature;
    if (f.passes || f.inProgress || exclude?.has(f.id)) continue;
    if ((f.dependencies ?? []).every((depId) => passing.has(depId))) ready.push(i);
  }
  return ready.sort((a, b) => {
    const fa = features[a] as GraphFeature;
    const fb = features[b] as GraphFeature;
    return (scores[b] as number) - (scores[a] as number) || fa.priority - fb.priority || fa.id - fb.id;
  });
}
