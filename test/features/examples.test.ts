import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFeatureFile, toGraphFeatures } from '../../src/features/index.ts';
import { dependencyCycles, planFeatures } from '../../src/graph/index.ts';
import { repoRoot } from './run-cli.ts';

test('examples/todo-app/features.json loads and is a well-formed DAG of about 20 features', async () => {
  const entries = await loadFeatureFile(`${repoRoot}examples/todo-app/features.json`);
  assert.deepEqual(
    entries.map((e) => e.id),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  for (const e of entries) {
    assert.ok(e.steps.length >= 2 && e.steps.length <= 4, `#${e.id} has ${e.steps.length} steps`);
    assert.ok(e.category && e.description, `#${e.id} has a category and a description`);
  }
  const features = toGraphFeatures(entries);
  const plan = planFeatures(features);
  assert.deepEqual(plan.cycles, []);
  assert.deepEqual(dependencyCycles(features), []);
  assert.deepEqual(plan.missing, {});
  const roots = entries.filter((e) => (e.dependencies ?? []).length === 0);
  assert.ok(roots.length >= 2 && roots.length <= 4, `${roots.length} roots`);
  assert.deepEqual(
    plan.ready.sort((a, b) => a - b),
    roots.map((e) => e.id),
  );
  // Longest dependency chain, in edges.
  const byId = new Map(entries.map((e) => [e.id, e]));
  const longest = new Map<number, number>();
  const chain = (id: number): number => {
    if (!longest.has(id)) longest.set(id, Math.max(0, ...(byId.get(id)?.dependencies ?? []).map((d) => 1 + chain(d))));
    return longest.get(id) as number;
  };
  const depth = Math.max(...entries.map((e) => chain(e.id)));
  assert.ok(depth >= 4 && depth <= 6, `longest chain ${depth}`);
});
