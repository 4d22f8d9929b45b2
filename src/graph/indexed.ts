import type { GraphFeature } from './types.ts';

/**
 * The feature list as arrays of positions, built once per call so every algorithm here is
 * linear in features + dependency entries. Edges exist only for dependencies that name a
 * feature; a dependency listed twice gives two edges, exactly as AutoCoder's resolver builds them
 * (its downstream counts and cycle search depend on that).
 */
export type IndexedGraph = {
  readonly features: readonly GraphFeature[];
  readonly ids: readonly number[];
  readonly positionOf: ReadonlyMap<number, number>;
  /** parents[i]: positions of the features feature i depends on, in its list order. */
  readonly parents: readonly (readonly number[])[];
  /** children[j]: positions of the features that depend on feature j, in list order. */
  readonly children: readonly (readonly number[])[];
};

export function indexGraph(features: readonly GraphFeature[]): IndexedGraph {
  const n = features.length;
  const ids: number[] = new Array<number>(n);
  const positionOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const id = (features[i] as GraphFeature).id;
    ids[i] = id;
    positionOf.set(id, i);
  }
  const parents: number[][] = [];
  const children: number[][] = [];
  for (let i = 0; i < n; i++) {
    parents.push([]);
    children.push([]);
  }
  for (let i = 0; i < n; i++) {
    const deps = (features[i] as GraphFeature).dependencies;
    if (!deps) continue;
    const mine = parents[i] as number[];
    for (const depId of deps) {
      const j = positionOf.get(depId);
      if (j === undefined) continue;
      mine.push(j);
      (children[j] as number[]).push(i);
    }
  }
  return { features, ids, positionOf, parents, children };
}

/** Ids of passing features: a dependency is satisfied only by an id in this set. */
export function passingIds(features: readonly GraphFeature[]): Set<number> {
  const passing = new Set<number>();
  for (const f of features) if (f.passes) passing.add(f.id);
  return passing;
}
