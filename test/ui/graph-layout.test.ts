/**
 * The graph's layouts: above DAGRE_MAX_NODES our layered layout (every dependency left of its
 * dependent, no two nodes overlapping, cycles survived), and the cache (one layout per shape,
 * computed in the worker thread; a state change reuses it, a new dependency does not).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LayoutCache } from '../../src/ui/graph-cache.ts';
import { DAGRE_MAX_NODES, layoutGraph, NODE_HEIGHT, NODE_WIDTH } from '../../src/ui/graph-layout.ts';
import { layeredFeatures } from '../graph/layered-dag.ts';

const graph = (count: number) =>
  layeredFeatures(count).map((f) => ({ id: f.id, dependencies: [...(f.dependencies ?? [])], passes: f.passes }));

test('the layered layout: dependencies to the left, no overlap, every edge drawn, a cycle survives', () => {
  const features = graph(DAGRE_MAX_NODES + 300);
  features[0]!.dependencies.push(features.at(-1)!.id); // a cycle through the whole graph
  const layout = layoutGraph(features);
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  assert.equal(at.size, features.length);
  const acyclic = features.slice(1);
  for (const f of acyclic)
    for (const d of f.dependencies) assert.ok(at.get(d)!.x < at.get(f.id)!.x, `#${d} left of #${f.id}`);
  const seen = new Set<string>();
  for (const n of layout.nodes) {
    const cell = `${Math.round(n.x / NODE_WIDTH)}:${Math.round(n.y / NODE_HEIGHT)}`;
    assert.ok(!seen.has(cell), `#${n.id} overlaps another node`);
    seen.add(cell);
    assert.ok(n.x - NODE_WIDTH / 2 >= 0 && n.x + NODE_WIDTH / 2 <= layout.width, `#${n.id} inside the width`);
    assert.ok(n.y - NODE_HEIGHT / 2 >= 0 && n.y + NODE_HEIGHT / 2 <= layout.height, `#${n.id} inside the height`);
  }
  const edges = features.reduce((sum, f) => sum + f.dependencies.length, 0);
  assert.equal(layout.edges.length, edges);
  assert.ok(layout.layoutMs < 500, `laid out in ${layout.layoutMs} ms`);
});

test('the cache: one layout per shape, from the worker thread; the critical path follows the states', async () => {
  const cache = new LayoutCache();
  try {
    const features = graph(400);
    const first = await cache.get('p', features);
    const reversed = [...features].reverse().map((f) => ({ ...f, passes: true }));
    const again = await cache.get('p', reversed); // same shape, listed in another order, every feature passing
    assert.equal(again.shape, first.shape);
    assert.equal(again.nodes, first.nodes, 'the cached layout, not a new one');
    assert.deepEqual(again.critical, [], 'nothing left to do');
    const rewired = features.map((f) => (f.id === 400 ? { ...f, dependencies: [1] } : f));
    const changed = await cache.get('p', rewired);
    assert.notEqual(changed.shape, first.shape);
  } finally {
    await cache.close();
  }
});
