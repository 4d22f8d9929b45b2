import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blockedFeatures,
  describeBlockReason,
  findCycles,
  formatCycle,
  planFeatures,
  readyFeatures,
  schedulingScores,
  validateDependencies,
  type GraphFeature,
} from '../../src/graph/index.ts';
import { layeredFeatures } from './layered-dag.ts';
import { modelScores } from './reference-model.ts';

/** f(id, deps, extra): a pending feature at priority 5 unless `extra` says otherwise. */
function f(id: number, dependencies: readonly number[] | null = [], extra: Partial<GraphFeature> = {}): GraphFeature {
  return { id, priority: 5, dependencies, passes: false, inProgress: false, ...extra };
}

describe('ready set and order', () => {
  test('an empty list plans to nothing', () => {
    assert.deepEqual(planFeatures([]), { ready: [], scores: {}, cycles: [], missing: {} });
  });

  test('null dependencies mean none; a dependency on a missing id never passes', () => {
    const features = [f(1, null), f(2, [1]), f(3, [99]), f(4, [1], { passes: true })];
    assert.deepEqual(
      readyFeatures(features).map((x) => x.id),
      [1],
    );
    assert.deepEqual(planFeatures(features).missing, { 3: [99] });
  });

  test('in-progress and passing features are not ready; a passing dependency unlocks its dependants', () => {
    const features = [f(1, [], { passes: true }), f(2, [1], { inProgress: true }), f(3, [1]), f(4, [2])];
    assert.deepEqual(
      readyFeatures(features).map((x) => x.id),
      [3],
    );
  });

  test('order: score first, then lower priority, then lower id', () => {
    // 1 unblocks 2 and 3 (score 1000+); 5 and 4 tie on score and priority, so id decides.
    const features = [
      f(5, [], { priority: 10 }),
      f(4, [], { priority: 10 }),
      f(3, [1]),
      f(2, [1]),
      f(1, [], { priority: 10 }),
      f(6, [], { priority: 0 }),
    ];
    assert.deepEqual(
      readyFeatures(features).map((x) => x.id),
      [1, 6, 4, 5],
    );
    assert.deepEqual(Object.fromEntries(schedulingScores(features)), { 1: 1100, 2: 5, 3: 5, 4: 100, 5: 100, 6: 110 });
  });

  test('downstream counts paths, not distinct features, as the original does', () => {
    // 1 ← 2, 1 ← 3, {2,3} ← 4: downstream(1) = (1+1) + (1+1) = 4, not 3.
    const scores = schedulingScores([f(1), f(2, [1]), f(3, [1]), f(4, [2, 3])]);
    assert.equal(scores.get(1), 1000 + 100 + 5);
    assert.equal(scores.get(2), 250 + 50 + 5);
  });

  test('path counts beyond 2^53 switch to exact integers and stay within 1e-9 of the model', () => {
    // 70 layers of 3, each depending on all 3 above: 3^69 paths from the top.
    const features: GraphFeature[] = [];
    for (let layer = 0; layer < 70; layer++) {
      for (let k = 0; k < 3; k++) {
        const deps = layer === 0 ? [] : [1, 2, 3].map((j) => (layer - 1) * 3 + j);
        features.push(f(layer * 3 + k + 1, deps, { priority: k }));
      }
    }
    const scores = schedulingScores(features);
    for (const [id, expected] of modelScores(features)) {
      assert.ok(Math.abs((scores.get(id) as number) - expected) <= 1e-9, `#${id}: ${scores.get(id)} vs ${expected}`);
    }
  });
});

describe('cycles', () => {
  test('a self-dependency is a cycle of one', () => {
    assert.deepEqual(findCycles([f(1, [1]), f(2)]), [[1]]);
  });

  test('a two-feature cycle; its dependant joins a second report, exactly as AutoCoder reports it', () => {
    assert.deepEqual(findCycles([f(1, [2]), f(2, [1])]), [[1, 2]]);
    assert.deepEqual(findCycles([f(1, [2]), f(2, [1]), f(3, [1])]), [
      [1, 2],
      [1, 2, 3],
    ]);
  });

  test('the original reports a leftover search path as a cycle: kept for parity, every member is blocked', () => {
    // The search from 1 finds 2 → 3 → 2 and stops with 1, 2, 3 still on its path; the search from
    // 4 then meets 1 on that path and reports [1, 2, 3, 4], as AutoCoder does.
    const features = [f(1, [2]), f(2, [3]), f(3, [2]), f(4, [1])];
    assert.deepEqual(findCycles(features), [
      [2, 3],
      [1, 2, 3, 4],
    ]);
    assert.deepEqual(blockedFeatures(features, new Set()), [
      { id: 1, reason: { kind: 'blocked-dependency', dependencyIds: [2] } },
      { id: 2, reason: { kind: 'cycle', cycle: [2, 3] } },
      { id: 3, reason: { kind: 'cycle', cycle: [3, 2] } },
      { id: 4, reason: { kind: 'blocked-dependency', dependencyIds: [1] } },
    ]);
  });

  test('a dependency chain of 20,000 does not overflow the stack', () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => f(i + 1, [i === 19_999 ? 1 : i + 2]));
    const [cycle] = findCycles(chain);
    assert.equal(cycle?.length, 20_000);
  });

  test('formatCycle closes the loop', () => {
    assert.equal(formatCycle([3, 7]), 'cycle: 3 → 7 → 3');
  });
});

describe('validateDependencies', () => {
  const features = [f(1), f(2, [1]), f(3, [2]), f(7, [3])];

  test('a good edit has no problems', () => {
    assert.deepEqual(validateDependencies(features, 7, [1, 2, 3]), []);
    assert.deepEqual(validateDependencies(features, 8, [7]), [], 'a feature about to be added');
  });

  test('every problem at once, each naming the id', () => {
    assert.deepEqual(validateDependencies(features, 3, [3, 9, 1, 1, 0]), [
      'feature #3 cannot depend on itself',
      'dependency #9 names no feature',
      'dependency #1 is listed more than once',
      'dependency 0 is not a feature id (an integer ≥ 1)',
    ]);
  });

  test('more than 20 dependencies', () => {
    const many = Array.from({ length: 21 }, (_, i) => i + 100);
    const problems = validateDependencies([...features, ...many.map((id) => f(id))], 1, many);
    assert.deepEqual(problems, ['feature #1 may have at most 20 dependencies, got 21']);
  });

  test('a new cycle is reported with its path', () => {
    assert.deepEqual(validateDependencies(features, 1, [7, 2]), [
      'dependency #7 would create a cycle: 1 → 7 → 3 → 2 → 1',
      'dependency #2 would create a cycle: 1 → 2 → 1',
    ]);
  });
});

describe('blockedFeatures', () => {
  test('missing, given-up and cyclic dependencies block, transitively; given-up features are not listed', () => {
    const features = [
      f(1, [], { passes: true }),
      f(2, [1, 99]),
      f(3, [2]),
      f(4),
      f(5, [4]),
      f(6, [7]),
      f(7, [6]),
      f(8, [1]),
    ];
    const blocked = blockedFeatures(features, new Set([4]));
    assert.deepEqual(
      blocked.map((b) => describeBlockReason(b.id, b.reason)),
      [
        '#2 depends on #99, which does not exist',
        '#3 depends on #2, which can never pass',
        '#5 depends on #4, given up after repeated failures',
        '#6 is in a dependency cycle: 6 → 7 → 6',
        '#7 is in a dependency cycle: 7 → 6 → 7',
      ],
    );
  });

  test('a passing or in-progress member opens a cycle', () => {
    assert.deepEqual(blockedFeatures([f(1, [2], { passes: true }), f(2, [1])], new Set()), []);
    assert.deepEqual(blockedFeatures([f(1, [2], { inProgress: true }), f(2, [1])], new Set()), []);
  });
});

describe('scale', () => {
  test('planning 10,000 features in a layered DAG stays well under a second (linear, not quadratic)', () => {
    const features = layeredFeatures(10_000);
    planFeatures(features);
    const start = performance.now();
    const plan = planFeatures(features);
    const elapsed = performance.now() - start;
    assert.equal(Object.keys(plan.scores).length, 10_000);
    assert.ok(elapsed < 1000, `planning took ${elapsed.toFixed(0)} ms`);
  });
});
