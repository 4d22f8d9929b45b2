import type { GraphFeature } from './types.ts';

/** What batch building needs of a feature: the graph fields and the category it fills by. */
export type BatchFeature = GraphFeature & { category: string };

/** What testing-batch selection needs of a passing feature. */
export type TestCandidate = { id: number; dependencies: readonly number[] | null };

/** Coding agents take 1..3 features at once, testing agents 1..5 (AutoCoder's limits). */
export const MAX_BATCH_SIZE = 3;
export const MAX_TESTING_BATCH_SIZE = 5;

/**
 * Coding batches, AutoCoder's `build_feature_batches` (upstream 69d9313): every ready feature not
 * yet in a batch starts one, in the order given (scheduling order). The batch grows first along
 * the dependency chain: of the dependents of its features that are not passing, not in progress
 * and not in another batch, the highest-scoring one whose dependencies would all pass if the
 * batch passed joins. Then ready features of the first feature's category fill what is left, in
 * the order given. The original breaks a tie between equal chain scores by the iteration order
 * of a Python set (an accident); here the lowest id wins. A batch size of 1 or less gives one
 * single-feature batch per ready feature.
 */
export function buildFeatureBatches<F extends BatchFeature>(
  ready: readonly F[],
  all: readonly F[],
  scores: ReadonlyMap<number, number>,
  batchSize: number,
): F[][] {
  if (batchSize <= 1) return ready.map((f) => [f]);
  const byId = new Map<number, F>();
  const dependents = new Map<number, number[]>();
  for (const f of all) {
    byId.set(f.id, f);
    dependents.set(f.id, []);
  }
  for (const f of all) for (const depId of f.dependencies ?? []) dependents.get(depId)?.push(f.id);
  const passing = new Set(all.filter((f) => f.passes).map((f) => f.id));
  const used = new Set<number>();
  const batches: F[][] = [];
  for (const first of ready) {
    if (used.has(first.id)) continue;
    const batch = [first];
    used.add(first.id);
    const wouldPass = new Set(passing).add(first.id);
    while (batch.length < batchSize) {
      const next = bestChainExtension(batch, dependents, byId, used, wouldPass, scores);
      if (!next) break;
      batch.push(next);
      used.add(next.id);
      wouldPass.add(next.id);
    }
    for (const f of ready) {
      if (batch.length >= batchSize) break;
      if (used.has(f.id) || f.category !== first.category) continue;
      batch.push(f);
      used.add(f.id);
    }
    batches.push(batch);
  }
  return batches;
}

function bestChainExtension<F extends BatchFeature>(
  batch: readonly F[],
  dependents: ReadonlyMap<number, readonly number[]>,
  byId: ReadonlyMap<number, F>,
  used: ReadonlySet<number>,
  wouldPass: ReadonlySet<number>,
  scores: ReadonlyMap<number, number>,
): F | undefined {
  let best: F | undefined;
  // The original starts below every score (-1.0) and takes a candidate only when strictly better.
  let bestScore = -1;
  for (const member of batch) {
    for (const childId of dependents.get(member.id) ?? []) {
      if (used.has(childId) || wouldPass.has(childId)) continue;
      const child = byId.get(childId);
      if (!child || child.passes || child.inProgress) continue;
      if (!(child.dependencies ?? []).every((depId) => wouldPass.has(depId))) continue;
      const score = scores.get(childId) ?? 0;
      if (score > bestScore || (score === bestScore && best !== undefined && childId < best.id)) {
        best = child;
        bestScore = score;
      }
    }
  }
  return best;
}

/**
 * A testing batch, AutoCoder's `_get_test_batch` (upstream 69d9313). Each passing feature scores
 * 2 per passing feature that depends on it (a regression there breaks more), +5 when it was not
 * tested recently, and +1 per dependency of its own up to 3 (integration points). Features under
 * test now are left out; the rest go highest score first, ties in the order given (ascending id,
 * the order the original's query returns). Once every passing feature has been tested recently
 * the memory is cleared, so testing cycles through them all. Returns the batch and the new
 * memory (the old one is not changed).
 */
export function selectTestBatch(
  passing: readonly TestCandidate[],
  currentlyTesting: ReadonlySet<number>,
  recentlyTested: ReadonlySet<number>,
  batchSize: number,
): { selected: number[]; recentlyTested: Set<number> } {
  const memory = new Set(recentlyTested);
  if (passing.length === 0) return { selected: [], recentlyTested: memory };
  const dependentCounts = new Map<number, number>();
  for (const f of passing)
    for (const depId of f.dependencies ?? []) dependentCounts.set(depId, (dependentCounts.get(depId) ?? 0) + 1);
  if (passing.every((f) => memory.has(f.id))) memory.clear();
  const scored: { id: number; score: number }[] = [];
  for (const f of passing) {
    if (currentlyTesting.has(f.id)) continue;
    const score =
      (dependentCounts.get(f.id) ?? 0) * 2 + (memory.has(f.id) ? 0 : 5) + Math.min((f.dependencies ?? []).length, 3);
    scored.push({ id: f.id, score });
  }
  // Array.prototype.sort is stable, like Python's sort: equal scores keep the given order.
  scored.sort((a, b) => b.score - a.score);
  const selected = scored.slice(0, Math.max(0, batchSize)).map((s) => s.id);
  for (const id of selected) memory.add(id);
  return { selected, recentlyTested: memory };
}
