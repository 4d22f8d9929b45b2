import fc from 'fast-check';
import type { GraphFeature } from '../../src/graph/index.ts';

type Shape = { acyclic: boolean; missing: boolean; maxFeatures: number };

/**
 * Random feature lists: unique ids with gaps, in shuffled order, dependencies that may repeat,
 * name missing ids, point at the feature itself or form cycles (unless `acyclic`, where every
 * dependency points to a feature earlier in the list), null or empty dependency lists, and
 * priorities around AutoCoder's range (0..12 and the default 999).
 */
export function featureLists(shape: Partial<Shape> = {}): fc.Arbitrary<GraphFeature[]> {
  const { acyclic = false, missing = true, maxFeatures = 24 } = shape;
  return fc.uniqueArray(fc.integer({ min: 1, max: maxFeatures * 2 }), { maxLength: maxFeatures }).chain((ids) => {
    if (ids.length === 0) return fc.constant([]);
    const feature = (position: number): fc.Arbitrary<GraphFeature> => {
      const reachable = acyclic ? ids.slice(0, position) : ids;
      const depChoices: fc.Arbitrary<number>[] = [];
      if (reachable.length > 0) depChoices.push(fc.constantFrom(...reachable));
      if (missing) depChoices.push(fc.integer({ min: maxFeatures * 2 + 1, max: maxFeatures * 2 + 5 }));
      const dependencies: fc.Arbitrary<readonly number[] | null> =
        depChoices.length === 0
          ? fc.constantFrom(null, [])
          : fc.oneof(fc.constant(null), fc.array(fc.oneof(...depChoices), { maxLength: 4 }));
      return fc.record({
        id: fc.constant(ids[position] as number),
        priority: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(999)),
        dependencies,
        passes: fc.boolean(),
        inProgress: fc.boolean(),
      });
    };
    return fc.tuple(...ids.map((_, position) => feature(position)));
  });
}

/** Ids of features whose dependencies (existing ones) can be followed from `from`, itself excluded. */
export function dependsOnTransitively(features: readonly GraphFeature[], from: number): Set<number> {
  const byId = new Map(features.map((f) => [f.id, f]));
  const seen = new Set<number>();
  const stack = [...(byId.get(from)?.dependencies ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (seen.has(id) || !byId.has(id)) continue;
    seen.add(id);
    stack.push(...(byId.get(id)?.dependencies ?? []));
  }
  return seen;
}
