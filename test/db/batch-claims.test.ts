/**
 * Batch claims and their settle on a real Postgres: a batch is claimed whole or not at all, with
 * one owner (its first feature's agent run ID); each feature settles on its own at the agent's
 * end; the testing batches follow AutoCoder's weighting and never share a feature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchOrder, heldClaims } from '../../src/db/held-claims.ts';
import { claimBatch, claimReadyBatches, claimTestingBatches } from '../../src/db/batch-claims.ts';
import { claimFeaturesByIds } from '../../src/db/claims.ts';
import { markFeature } from '../../src/db/features.ts';
import { mergingFeatures, setProjectIsolation } from '../../src/db/merging.ts';
import { recordOutcome, releaseOwner } from '../../src/db/transitions.ts';
import { ClaimLostError } from '../../src/errors.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from './seed.ts';

const t = withTestDb();

const rowsOf = async (projectId: string) =>
  new Map(
    (await t.db.selectFrom('features').selectAll().where('project_id', '=', projectId).execute()).map((r) => [r.id, r]),
  );

const chain = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `f${i + 1}`, dependencies: i > 0 ? [i] : [] }));

test('a chain is claimed as one batch with one owner; every feature counts an attempt', async () => {
  const p = await seedProject(t.db, chain(4), 'bc');
  const batches = await claimReadyBatches(t.db, { projectId: p, limit: 3, maxRetries: 3, batchSize: 3 });
  assert.deepEqual(
    batches.map((b) => b.featureIds),
    [[1, 2, 3]],
  );
  assert.equal(batches[0]!.claimedBy, `autocoder/${p}/coding/1/1`);
  const rows = await rowsOf(p);
  for (const id of [1, 2, 3]) {
    assert.equal(rows.get(id)!.claimed_by, `autocoder/${p}/coding/1/1`);
    assert.equal(rows.get(id)!.attempts, 1);
  }
  assert.equal(rows.get(4)!.in_progress, false, '#4 waits for #3, outside the batch');
  const held = await heldClaims(t.db, p);
  assert.deepEqual(
    held.map((h) => [h.owner, h.featureId, h.featureIds]),
    [[`autocoder/${p}/coding/1/1`, 1, [1, 2, 3]]],
  );
});

test('same-category fill, held features left out, batch size 1 claims as before', async () => {
  const p = await seedProject(
    t.db,
    [
      { id: 1, name: 'a1', category: 'a' },
      { id: 2, name: 'b1', category: 'b' },
      { id: 3, name: 'a2', category: 'a' },
      { id: 4, name: 'a3', category: 'a' },
    ],
    'bc',
  );
  const batches = await claimReadyBatches(t.db, { projectId: p, limit: 5, maxRetries: 3, batchSize: 3, exclude: [3] });
  assert.deepEqual(
    batches.map((b) => b.featureIds),
    [[1, 4], [2]],
  );
  const single = await seedProject(t.db, chain(2), 'bc');
  const one = await claimReadyBatches(t.db, { projectId: single, limit: 5, maxRetries: 3, batchSize: 1 });
  assert.deepEqual(
    one.map((b) => [b.id, b.featureIds]),
    [[1, [1]]],
  );
});

test('a batch is claimed whole or not at all', async () => {
  const p = await seedProject(t.db, chain(3), 'bc');
  await claimFeaturesByIds(t.db, { projectId: p, featureIds: [1], maxRetries: 3 });
  // #1 is taken: a batch of #1..#3 claims nothing, not even #2 and #3.
  assert.equal(await claimBatch(t.db, { projectId: p, featureIds: [1, 2, 3], maxRetries: 3 }), null);
  const rows = await rowsOf(p);
  assert.equal(rows.get(2)!.in_progress, false);
  assert.equal(rows.get(3)!.attempts, 0);
});

test('each feature settles on its own: two passed, the third back to pending with one attempt and one failure', async () => {
  const p = await seedProject(t.db, chain(3), 'bc');
  const [batch] = await claimReadyBatches(t.db, { projectId: p, limit: 1, maxRetries: 3, batchSize: 3 });
  const owner = batch!.claimedBy;
  await markFeature(t.db, { projectId: p, featureId: 1, passes: true, runId: owner });
  // Any feature of the batch may be marked under the batch's run id; another run may not.
  await markFeature(t.db, { projectId: p, featureId: 2, passes: true, runId: owner });
  await assert.rejects(
    markFeature(t.db, { projectId: p, featureId: 3, passes: true, runId: `autocoder/${p}/coding/3/1` }),
    ClaimLostError,
  );
  const settled = await recordOutcome(t.db, { projectId: p, featureId: 1, owner, kind: 'coding', outcome: 'passed' });
  assert.equal(settled.outcome, 'failed', 'exit 0 with a feature left unpassed');
  assert.equal(settled.passes, false);
  assert.deepEqual(settled.features?.map((f) => [f.featureId, f.passes, f.failureCount, f.counted]).sort(), [
    [1, true, 0, false],
    [2, true, 0, false],
    [3, false, 1, true],
  ]);
  const rows = await rowsOf(p);
  const third = rows.get(3)!;
  assert.deepEqual([third.in_progress, third.claimed_by, third.attempts, third.failure_count], [false, null, 1, 1]);
  assert.match(third.last_error ?? '', /without feature #3 passing/);
  assert.equal(rows.get(1)!.passes && rows.get(2)!.passes, true);
  // Settled once: a second settle gets the same outcome and writes nothing.
  const again = await recordOutcome(t.db, { projectId: p, featureId: 1, owner, kind: 'coding', outcome: 'crashed' });
  assert.equal(again.fresh, false);
  assert.equal((await rowsOf(p)).get(3)!.failure_count, 1);
});

test('a stopped batch: every feature back to pending, no failure; releaseOwner frees a batch nobody started', async () => {
  const p = await seedProject(t.db, chain(4), 'bc');
  const [batch] = await claimReadyBatches(t.db, { projectId: p, limit: 1, maxRetries: 3, batchSize: 3 });
  await recordOutcome(t.db, {
    projectId: p,
    featureId: 1,
    owner: batch!.claimedBy,
    kind: 'coding',
    outcome: 'stopped',
  });
  for (const r of (await rowsOf(p)).values()) assert.deepEqual([r.in_progress, r.failure_count], [false, 0]);
  const [next] = await claimReadyBatches(t.db, { projectId: p, limit: 1, maxRetries: 3, batchSize: 2 });
  assert.deepEqual(next!.featureIds, [1, 2]);
  assert.equal(next!.claimedBy, `autocoder/${p}/coding/1/2`);
  assert.deepEqual((await releaseOwner(t.db, { projectId: p, owner: next!.claimedBy })).sort(), [1, 2]);
  assert.deepEqual(await heldClaims(t.db, p), []);
});

test('testing batches: weighted like the original, leased whole, never the same feature to two testers', async () => {
  const p = await seedProject(
    t.db,
    [
      { id: 1, name: 'base', passes: true },
      { id: 2, name: 'x', passes: true, dependencies: [1] },
      { id: 3, name: 'y', passes: true, dependencies: [1] },
      { id: 4, name: 'z', passes: true, dependencies: [1] },
      { id: 5, name: 'w', passes: true },
    ],
    'bt',
  );
  const first = await claimTestingBatches(t.db, { projectId: p, limit: 2, batchSize: 2, recentlyTested: [] });
  const ids = first.claims.map((c) => c.featureIds);
  assert.deepEqual(ids[0], [1, 2], '#1 has three passing dependents; then dependencies, lowest id');
  assert.deepEqual(ids[1], [3, 4]);
  assert.equal(first.claims[0]!.owner, `autocoder/${p}/testing/1/1`);
  assert.deepEqual(first.recentlyTested.sort(), [1, 2, 3, 4]);
  // With those leased, only #5 is free; the memory is cleared once every passing feature was tested.
  const second = await claimTestingBatches(t.db, {
    projectId: p,
    limit: 2,
    batchSize: 2,
    recentlyTested: first.recentlyTested,
  });
  assert.deepEqual(
    second.claims.map((c) => c.featureIds),
    [[5]],
  );
  const held = await heldClaims(t.db, p);
  const all = held.flatMap((h) => h.featureIds).sort();
  assert.deepEqual(all, [1, 2, 3, 4, 5], 'each feature under one lease');
  const settled = await recordOutcome(t.db, {
    projectId: p,
    featureId: 1,
    owner: first.claims[0]!.owner,
    kind: 'testing',
    outcome: 'passed',
  });
  assert.equal(settled.outcome, 'passed');
  const rows = await rowsOf(p);
  assert.equal(rows.get(2)!.testing_claimed_by, null, 'the whole lease released');
  assert.equal(rows.get(3)!.testing_claimed_by, first.claims[1]!.owner);
});

test('worktree isolation: a batch feature merging names its batch’s first feature; the queue sees one entry', async () => {
  const p = await seedProject(t.db, [...chain(3), { id: 4, name: 'other' }], 'bw');
  await setProjectIsolation(t.db, p, 'worktree');
  const [batch] = await claimReadyBatches(t.db, { projectId: p, limit: 1, maxRetries: 3, batchSize: 3 });
  assert.deepEqual(batch!.featureIds, [1, 2, 3]);
  for (const id of [2, 1])
    await markFeature(t.db, { projectId: p, featureId: id, passes: true, runId: batch!.claimedBy });
  const entries = await mergingFeatures(t.db, p);
  assert.deepEqual(
    entries.map((e) => [e.id, e.members, e.ready]),
    [[1, [1, 2], true]],
    '#2 waits on #1, a member of the same entry: ready, landing #1 first',
  );
  const rows = await rowsOf(p);
  assert.deepEqual([rows.get(1)!.merge_with, rows.get(2)!.merge_with, rows.get(3)!.merge_with], [1, 1, null]);
});

test('batchOrder: the first feature first, then each after what it depends on in the batch', () => {
  assert.deepEqual(
    batchOrder(4, [
      { feature_id: 7, dependencies: [5] },
      { feature_id: 4, dependencies: [] },
      { feature_id: 5, dependencies: [4] },
      { feature_id: 6, dependencies: [] },
    ]),
    [4, 5, 6, 7],
  );
});
