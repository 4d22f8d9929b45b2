import type { GraphFeature } from '../../src/graph/index.ts';

/**
 * A realistic feature list for benchmarks and scale tests: `count` features in `layers` layers
 * (setup first, UI last), each depending on 1-4 features of the one to three layers above,
 * the first third passing and a few in progress, priorities 1..30 with some at the default 999.
 * Deterministic (a small xorshift generator seeded by `seed`).
 */
export function layeredFeatures(count: number, options: { layers?: number; seed?: number } = {}): GraphFeature[] {
  const { layers = 25, seed = 1 } = options;
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
  const layerSize = Math.max(1, Math.ceil(count / layers));
  const features: GraphFeature[] = [];
  for (let i = 0; i < count; i++) {
    const layer = Math.floor(i / layerSize);
    const dependencies: number[] = [];
    if (layer > 0) {
      const wanted = 1 + Math.floor(random() * 4);
      const lowest = Math.max(0, (layer - 3) * layerSize);
      const highest = layer * layerSize; // exclusive: only earlier layers
      for (let k = 0; k < wanted; k++) {
        const dep = 1 + lowest + Math.floor(random() * (highest - lowest));
        if (!dependencies.includes(dep)) dependencies.push(dep);
      }
    }
    features.push({
      id: i + 1,
      priority: random() < 0.1 ? 999 : 1 + Math.floor(random() * 30),
      dependencies,
      passes: i < count / 3,
      inProgress: i >= count / 3 && random() < 0.01,
    });
  }
  return features;
}
