/** Benchmark scenarios: feature graphs and concurrency (issue 10). */
import type { FeatureEntry } from '../src/db/import.ts';

export type Scenario = {
  name: string;
  description: string;
  concurrency: number;
  heavy?: boolean;
  features: () => FeatureEntry[];
};

const feature = (id: number, dependencies: number[]): FeatureEntry => ({
  id,
  name: `Feature ${id}`,
  priority: id,
  dependencies,
});

const independent = (n: number) => () => Array.from({ length: n }, (_, i) => feature(i + 1, []));
const chain = (n: number) => () => Array.from({ length: n }, (_, i) => feature(i + 1, i === 0 ? [] : [i]));
/** `layers` × `width`: each feature depends on two of the layer above (a layered DAG). */
const layered = (layers: number, width: number) => () => {
  const out: FeatureEntry[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let k = 0; k < width; k++) {
      const id = layer * width + k + 1;
      const above = (layer - 1) * width + 1;
      out.push(feature(id, layer === 0 ? [] : [above + k, above + ((k + 1) % width)]));
    }
  }
  return out;
};

export const scenarios: Scenario[] = [
  { name: 'independent20-c3', description: '20 independent features', concurrency: 3, features: independent(20) },
  { name: 'independent20-c5', description: '20 independent features', concurrency: 5, features: independent(20) },
  { name: 'chain20-c3', description: 'a chain of 20', concurrency: 3, features: chain(20) },
  { name: 'chain20-c5', description: 'a chain of 20', concurrency: 5, features: chain(20) },
  { name: 'dag50-c3', description: '50-feature layered DAG (5 × 10)', concurrency: 3, features: layered(5, 10) },
  { name: 'dag50-c5', description: '50-feature layered DAG (5 × 10)', concurrency: 5, features: layered(5, 10) },
  {
    name: 'dag1000-c20',
    description: '1,000-feature layered DAG (20 × 50)',
    concurrency: 20,
    heavy: true,
    features: layered(20, 50),
  },
  {
    name: 'dag1000-c50',
    description: '1,000-feature layered DAG (20 × 50)',
    concurrency: 50,
    heavy: true,
    features: layered(20, 50),
  },
];
