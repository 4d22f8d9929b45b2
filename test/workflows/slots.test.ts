import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Claim } from '../../src/activities/types.ts';
import type { RunningAgent } from '../../src/workflows/messages.ts';
import { freeSlots, sortHandoffs } from '../../src/workflows/slots.ts';

const claim = (featureId: number): Claim => ({
  featureId,
  featureName: `f${featureId}`,
  attempt: 1,
  workflowId: `autocoder/p/coding/${featureId}/1`,
  kind: 'coding',
});
const agent = (featureId: number, kind: RunningAgent['kind'] = 'coding'): RunningAgent => ({
  workflowId: `autocoder/p/${kind}/${featureId}/1`,
  kind,
  featureId,
  featureName: `f${featureId}`,
  startedAt: '2026-01-01T00:00:00Z',
});
const gate = { open: true, held: new Set<number>(), concurrency: 3, maxAgents: 4 };
const ids = (claims: Claim[]) => claims.map((c) => c.featureId);

test('handoffs start while coding slots and the agent cap allow, in order, and the rest go back', () => {
  const { start, release } = sortHandoffs([claim(5), claim(6), claim(7)], [agent(1), agent(2, 'testing')], gate);
  assert.deepEqual(ids(start), [5, 6]); // 1 coding + 2 = concurrency 3
  assert.deepEqual(ids(release), [7]);
  const capped = sortHandoffs([claim(5), claim(6)], [agent(1), agent(2, 'testing'), agent(3, 'testing')], gate);
  assert.deepEqual([ids(capped.start), ids(capped.release)], [[5], [6]]); // 3 running + 1 = maxAgents 4
});

test('a closed run (paused, draining, stopping) and held features release; a feature already running drops its handoff', () => {
  assert.deepEqual(ids(sortHandoffs([claim(5)], [], { ...gate, open: false }).release), [5]);
  assert.deepEqual(ids(sortHandoffs([claim(5), claim(6)], [], { ...gate, held: new Set([5]) }).release), [5]);
  const dropped = sortHandoffs([claim(5)], [agent(5)], gate);
  assert.deepEqual([ids(dropped.start), ids(dropped.release)], [[], []]);
});

test('free slots: coding first up to concurrency, testers take what is left under maxAgents, none in yolo', () => {
  const settings = { concurrency: 3, maxAgents: 4, testingRatio: 2, yolo: false };
  assert.deepEqual(freeSlots([agent(1)], settings), { coding: 1, codingSlots: 2, testingSlots: 1 });
  assert.deepEqual(freeSlots([agent(1), agent(2, 'testing')], { ...settings, yolo: true }), {
    coding: 1,
    codingSlots: 2,
    testingSlots: 0,
  });
  assert.deepEqual(freeSlots([agent(1), agent(2), agent(3), agent(4, 'testing')], settings), {
    coding: 3,
    codingSlots: 0,
    testingSlots: 0,
  });
});

test("a handoff for the next attempt of a feature whose last attempt has not reported yet starts, in that attempt's slot", () => {
  const next = { ...claim(5), attempt: 2, workflowId: 'autocoder/p/coding/5/2' };
  const unreported = agent(5); // attempt 1: ended, its report on the way
  const full = { ...gate, concurrency: 2 };
  assert.deepEqual(ids(sortHandoffs([next], [unreported, agent(1)], full).start), [5]);
  // A later attempt already running (a pass resumed the feature): nothing to start or give back.
  const later = { ...agent(5), workflowId: 'autocoder/p/coding/5/3' };
  assert.deepEqual(sortHandoffs([next], [later], full), { start: [], release: [] });
  // The same attempt already running (a pass started the unstarted claim, or a second copy of
  // the report): nothing to do.
  assert.deepEqual(sortHandoffs([next], [{ ...agent(5), workflowId: next.workflowId }], full), {
    start: [],
    release: [],
  });
});

test('a handoff batch with a held feature is given back whole; a batch takes one slot', () => {
  const batch = (first: number, ids: number[]): Claim => ({ ...claim(first), featureIds: ids });
  const sorted = sortHandoffs([batch(5, [5, 6, 7]), batch(8, [8, 9])], [agent(1)], {
    ...gate,
    concurrency: 2,
    held: new Set([7]),
  });
  assert.deepEqual(ids(sorted.release), [5]);
  assert.deepEqual(ids(sorted.start), [8]);
});
