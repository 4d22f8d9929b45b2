import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildFeatureBatches,
  readyFeatures,
  schedulingScores,
  selectTestBatch,
  type BatchFeature,
} from '../../src/graph/index.ts';

/**
 * Golden batch vectors: computed by AutoCoder's own `build_feature_batches` and `_get_test_batch`
 * (upstream 69d9313) with scripts/golden-batches.py, which regenerates them. Equal chain scores
 * go to the lowest id in both (see the script).
 */
const dir = fileURLToPath(new URL('../fixtures/golden-batches/', import.meta.url));

type RawFeature = {
  id: number;
  priority: number;
  category: string;
  dependencies: number[] | null;
  passes: boolean;
  in_progress: boolean;
};
type TestingStep = {
  currentlyTesting: number[];
  recentlyTestedBefore: number[];
  selected: number[];
  recentlyTestedAfter: number[];
};
type RawCase =
  | { kind: 'coding'; batchSize: number; features: RawFeature[]; expected: { ready: number[]; batches: number[][] } }
  | { kind: 'testing'; batchSize: number; features: RawFeature[]; steps: TestingStep[] };

const cases = readdirSync(dir)
  .filter((name) => /^case-\d+\.json$/.test(name))
  .sort()
  .map((name) => ({ name, raw: JSON.parse(readFileSync(dir + name, 'utf8')) as RawCase }));

function toBatchFeature(f: RawFeature): BatchFeature {
  return {
    id: f.id,
    priority: f.priority,
    category: f.category,
    dependencies: f.dependencies,
    passes: f.passes,
    inProgress: f.in_progress,
  };
}

test('golden batch vectors are present, both kinds, every coding batch size', () => {
  const coding = cases.filter((c) => c.raw.kind === 'coding');
  assert.ok(coding.length >= 15, `coding cases: ${coding.length}`);
  assert.ok(cases.filter((c) => c.raw.kind === 'testing').length >= 5);
  assert.deepEqual([...new Set(coding.map((c) => c.raw.batchSize))].sort(), [1, 2, 3]);
  assert.ok(coding.some((c) => c.raw.kind === 'coding' && c.raw.expected.batches.some((b) => b.length === 3)));
});

for (const { name, raw } of cases) {
  if (raw.kind === 'coding') {
    test(`golden batches ${name}: coding batches of ${raw.batchSize} match AutoCoder`, () => {
      const features = raw.features.map(toBatchFeature);
      const ready = readyFeatures(features);
      assert.deepEqual(
        ready.map((f) => f.id),
        raw.expected.ready,
        'ready order',
      );
      const batches = buildFeatureBatches(ready, features, schedulingScores(features), raw.batchSize);
      assert.deepEqual(
        batches.map((b) => b.map((f) => f.id)),
        raw.expected.batches,
      );
    });
  } else {
    test(`golden batches ${name}: testing batches of ${raw.batchSize} over ${raw.steps.length} rounds match AutoCoder`, () => {
      const passing = raw.features
        .filter((f) => f.passes && !f.in_progress)
        .map((f) => ({ id: f.id, dependencies: f.dependencies }));
      let memory = new Set<number>();
      for (const [i, step] of raw.steps.entries()) {
        assert.deepEqual(
          [...memory].sort((a, b) => a - b),
          step.recentlyTestedBefore,
          `round ${i}: memory before`,
        );
        const result = selectTestBatch(passing, new Set(step.currentlyTesting), memory, raw.batchSize);
        assert.deepEqual(result.selected, step.selected, `round ${i}: selected`);
        memory = result.recentlyTested;
        assert.deepEqual(
          [...memory].sort((a, b) => a - b),
          step.recentlyTestedAfter,
          `round ${i}: memory after`,
        );
      }
    });
  }
}

test('batch rules: lowest id wins a chain tie, and a batch never holds a feature twice or a blocked one', () => {
  const f = (id: number, deps: number[], category = 'core'): BatchFeature => ({
    id,
    priority: 5,
    category,
    dependencies: deps,
    passes: false,
    inProgress: false,
  });
  const features = [f(1, []), f(9, [1]), f(3, [1]), f(5, [3, 9]), f(7, [42])];
  const ready = readyFeatures(features);
  const batches = buildFeatureBatches(ready, features, schedulingScores(features), 3);
  assert.deepEqual(
    batches.map((b) => b.map((x) => x.id)),
    [[1, 3, 9]],
  );
  assert.deepEqual(
    buildFeatureBatches(ready, features, schedulingScores(features), 1).map((b) => b.map((x) => x.id)),
    [[1]],
  );
});

test('testing batches: features under test are left out, and the memory cycles through every feature', () => {
  const passing = [1, 2, 3, 4].map((id) => ({ id, dependencies: [] as number[] }));
  const first = selectTestBatch(passing, new Set([1]), new Set(), 2);
  assert.deepEqual(first.selected, [2, 3]);
  const second = selectTestBatch(passing, new Set(), first.recentlyTested, 2);
  assert.deepEqual(second.selected, [1, 4]);
  // Every feature tested: the memory clears and the cycle starts again.
  const third = selectTestBatch(passing, new Set(), second.recentlyTested, 2);
  assert.deepEqual(third.selected, [1, 2]);
  assert.deepEqual([...third.recentlyTested].sort(), [1, 2]);
});
