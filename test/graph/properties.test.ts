import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  blockedFeatures,
  compareForScheduling,
  dependencyCycles,
  findCycles,
  planFeatures,
  readyFeatures,
  schedulingScores,
  type GraphFeature,
} from '../../src/graph/index.ts';
import { dependsOnTransitively, featureLists } from './arbitraries.ts';
import { modelCycles, modelMissing, modelReady, modelScores } from './reference-model.ts';

// GRAPH_PROPERTY_RUNS=20000 for a deeper search than the default quick run.
const runs = { numRuns: Number(process.env['GRAPH_PROPERTY_RUNS'] ?? 300) };

test('the plan equals the literal model of AutoCoder on random graphs (cycles, repeats, missing ids)', () => {
  const sameAsModel = (features: GraphFeature[]): void => {
    const plan = planFeatures(features);
    const expectedScores = modelScores(features);
    for (const f of features) assert.ok(Object.is(plan.scores[f.id], expectedScores.get(f.id)), `score of #${f.id}`);
    assert.deepEqual(plan.ready, modelReady(features));
    assert.deepEqual(plan.cycles, modelCycles(features));
    assert.deepEqual(plan.missing, modelMissing(features));
  };
  fc.assert(fc.property(featureLists(), sameAsModel), runs);
  fc.assert(fc.property(featureLists({ maxFeatures: 80 }), sameAsModel), { numRuns: Math.ceil(runs.numRuns / 3) });
});

test('ready = not passing, not in progress, every dependency id passing; in scheduling order', () => {
  fc.assert(
    fc.property(featureLists(), (features) => {
      const passing = new Set(features.filter((f) => f.passes).map((f) => f.id));
      const expected = features
        .filter((f) => !f.passes && !f.inProgress && (f.dependencies ?? []).every((d) => passing.has(d)))
        .map((f) => f.id)
        .sort((a, b) => a - b);
      const ready = readyFeatures(features);
      assert.deepEqual(
        ready.map((f) => f.id).sort((a, b) => a - b),
        expected,
      );
      const compare = compareForScheduling(schedulingScores(features));
      for (let k = 1; k < ready.length; k++)
        assert.ok(compare(ready[k - 1] as GraphFeature, ready[k] as GraphFeature) < 0);
    }),
    runs,
  );
});

test('marking a ready feature passing never removes another feature from the ready set', () => {
  fc.assert(
    fc.property(featureLists(), fc.nat(), (features, pick) => {
      const ready = readyFeatures(features);
      fc.pre(ready.length > 0);
      const chosen = (ready[pick % ready.length] as GraphFeature).id;
      const after = new Set(
        readyFeatures(features.map((f) => (f.id === chosen ? { ...f, passes: true } : f))).map((f) => f.id),
      );
      for (const f of ready) if (f.id !== chosen) assert.ok(after.has(f.id), `#${f.id} left the ready set`);
      assert.ok(!after.has(chosen));
    }),
    runs,
  );
});

test('excluded ids never come back, and the rest keeps its order', () => {
  fc.assert(
    fc.property(featureLists(), fc.array(fc.nat({ max: 60 })), (features, excludedIds) => {
      const exclude = new Set(excludedIds);
      const all = readyFeatures(features).map((f) => f.id);
      assert.deepEqual(
        readyFeatures(features, { exclude }).map((f) => f.id),
        all.filter((id) => !exclude.has(id)),
      );
    }),
    runs,
  );
});

test('every feature has a finite score in [0, 1110] (priorities ≥ 0)', () => {
  fc.assert(
    fc.property(featureLists(), (features) => {
      const scores = schedulingScores(features);
      assert.equal(scores.size, features.length);
      for (const score of scores.values())
        assert.ok(Number.isFinite(score) && score >= 0 && score <= 1110, String(score));
    }),
    runs,
  );
});

test('an acyclic list has no cycles, and without missing dependencies nothing is blocked', () => {
  fc.assert(
    fc.property(featureLists({ acyclic: true, missing: false }), (features) => {
      assert.deepEqual(findCycles(features), []);
      assert.deepEqual(blockedFeatures(features, new Set()), []);
    }),
    runs,
  );
});

test('a feature that depends on itself (directly or around a loop) is reported in a cycle', () => {
  fc.assert(
    fc.property(featureLists(), (features) => {
      const inCycles = new Set(findCycles(features).flat());
      const onLoop = features.filter((f) => dependsOnTransitively(features, f.id).has(f.id));
      if (onLoop.length > 0) assert.ok(inCycles.size > 0);
      // Whatever the original's search reports depends on a loop somewhere (never ready-able).
      for (const id of inCycles) {
        const reach = dependsOnTransitively(features, id);
        assert.ok(
          onLoop.some((f) => f.id === id || reach.has(f.id)),
          `#${id} reported in a cycle but depends on none`,
        );
      }
    }),
    runs,
  );
});

test('dependencyCycles: one true simple cycle per group of mutually dependent features', () => {
  fc.assert(
    fc.property(featureLists(), (features) => {
      const byId = new Map(features.map((f) => [f.id, f]));
      const cycles = dependencyCycles(features);
      for (const cycle of cycles) {
        assert.equal(new Set(cycle).size, cycle.length);
        cycle.forEach((from, k) =>
          assert.ok(byId.get(from)?.dependencies?.includes(cycle[(k + 1) % cycle.length] as number)),
        );
      }
      const reach = new Map(features.map((f) => [f.id, dependsOnTransitively(features, f.id)]));
      const together = (a: number, b: number): boolean => a === b || (reach.get(a)!.has(b) && reach.get(b)!.has(a));
      for (const f of features) {
        if (!reach.get(f.id)!.has(f.id)) continue;
        assert.equal(cycles.filter((c) => together(f.id, c[0] as number)).length, 1, `#${f.id} is on a loop`);
      }
      for (const cycle of cycles) assert.ok(reach.get(cycle[0] as number)!.has(cycle[0] as number));
    }),
    runs,
  );
});

test('blocked = what never becomes ready while every ready or in-progress feature is made to pass', () => {
  fc.assert(
    fc.property(featureLists(), fc.array(fc.nat({ max: 60 })), (features, givenUpIds) => {
      const givenUp = new Set(givenUpIds);
      // Simulate a run where every agent succeeds, except on given-up features.
      let current = features.map((f) => ({ ...f }));
      for (;;) {
        const progress = new Set([
          ...readyFeatures(current, { exclude: givenUp }).map((f) => f.id),
          ...current.filter((f) => f.inProgress && !f.passes && !givenUp.has(f.id)).map((f) => f.id),
        ]);
        if (progress.size === 0) break;
        current = current.map((f) => (progress.has(f.id) ? { ...f, passes: true, inProgress: false } : f));
      }
      const stuck = current
        .filter((f) => !f.passes && !givenUp.has(f.id))
        .map((f) => f.id)
        .sort((a, b) => a - b);
      const blocked = blockedFeatures(features, givenUp);
      assert.deepEqual(
        blocked.map((b) => b.id),
        stuck,
      );
      checkReasons(
        features,
        blocked.map((b) => b),
        givenUp,
      );
    }),
    runs,
  );
});

function checkReasons(
  features: readonly GraphFeature[],
  blocked: ReturnType<typeof blockedFeatures>,
  givenUp: ReadonlySet<number>,
): void {
  const byId = new Map(features.map((f) => [f.id, f]));
  const blockedIds = new Set(blocked.map((b) => b.id));
  for (const { id, reason } of blocked) {
    const deps = byId.get(id)?.dependencies ?? [];
    switch (reason.kind) {
      case 'missing-dependency':
        for (const d of reason.dependencyIds) assert.ok(deps.includes(d) && !byId.has(d));
        break;
      case 'given-up-dependency':
        for (const d of reason.dependencyIds) assert.ok(deps.includes(d) && givenUp.has(d));
        break;
      case 'blocked-dependency':
        assert.ok(reason.dependencyIds.length > 0);
        for (const d of reason.dependencyIds) assert.ok(deps.includes(d) && blockedIds.has(d));
        break;
      case 'cycle': {
        const cycle = reason.cycle;
        assert.equal(cycle[0], id);
        assert.equal(new Set(cycle).size, cycle.length, 'a simple cycle');
        for (let k = 0; k < cycle.length; k++) {
          const from = cycle[k] as number;
          const to = cycle[(k + 1) % cycle.length] as number;
          assert.ok(byId.get(from)?.dependencies?.includes(to), `#${from} does not depend on #${to}`);
          assert.ok(blockedIds.has(from));
        }
        break;
      }
    }
  }
}
