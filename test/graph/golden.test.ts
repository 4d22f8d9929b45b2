import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findCycles,
  missingDependencies,
  planFeatures,
  readyFeatures,
  schedulingScores,
} from '../../src/graph/index.ts';
import { cycleSets, loadGoldenCases, scoreMismatch } from './golden-cases.ts';

const cases = loadGoldenCases();

test('golden vectors are present', () => {
  assert.ok(cases.length >= 12, `expected the golden cases, found ${cases.length}`);
});

for (const c of cases) {
  test(`golden ${c.name}: plan matches AutoCoder`, () => {
    const plan = planFeatures(c.features);
    assert.deepEqual(plan.ready, c.expected.ready, 'ready order');
    assert.equal(scoreMismatch(plan.scores, c.expected.scores), null);
    assert.deepEqual(cycleSets(plan.cycles), cycleSets(c.expected.cycles), 'cycles');
    assert.deepEqual(plan.missing, c.expected.missing, 'missing');
  });

  test(`golden ${c.name}: the separate functions agree with the plan`, () => {
    assert.deepEqual(
      readyFeatures(c.features).map((f) => f.id),
      c.expected.ready,
    );
    assert.equal(scoreMismatch(Object.fromEntries(schedulingScores(c.features)), c.expected.scores), null);
    assert.deepEqual(cycleSets(findCycles(c.features)), cycleSets(c.expected.cycles));
    assert.deepEqual(Object.fromEntries(missingDependencies(c.features)), c.expected.missing);
  });
}
