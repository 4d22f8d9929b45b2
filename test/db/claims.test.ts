import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  claimFeaturesByIds,
  claimFeaturesForTesting,
  claimReadyFeatures,
  readyFeatureExists,
} from '../../src/db/claims.ts';
import { getFeature, markFeature } from '../../src/db/features.ts';
import { recordOutcome, releaseClaim } from '../../src/db/transitions.ts';
import { readyFeatures, schedulingScores } from '../../src/graph/index.ts';
import { layeredFeatures } from '../graph/layered-dag.ts';
import { parseAgentRunId } from '../../src/workflows/run-ids.ts';
import { withTestDb } from '../support/db.ts';
import { codingPrefix, flatEntries, goldenCases, seedProject, toEntries, toGraph } from './seed.ts';

const t = withTestDb();

/** Claims everything ready, one batch, as the graph module would order it. */
async function claimAll(projectId: string, maxRetries = 3) {
  return claimReadyFeatures(t.db, { projectId, limit: 100_000, maxRetries });
}

describe('claim order equals src/graph readyFeatures', () => {
  const cases = goldenCases();
  test('golden vectors are present', () => assert.ok(cases.length >= 10, `found ${cases.length} golden cases`));
  for (const golden of cases) {
    test(golden.name, async () => {
      const projectId = await seedProject(t.db, golden.features, 'golden');
      const claimed = (await claimAll(projectId)).map((c) => c.id);
      assert.deepEqual(claimed, golden.expected.ready);
      assert.deepEqual(
        claimed,
        readyFeatures(toGraph(golden.features)).map((f) => f.id),
      );
    });
  }

  test('stored scores are bit-identical to schedulingScores, in file order', async () => {
    for (const golden of cases) {
      const projectId = await seedProject(t.db, golden.features, 'scores');
      const expected = schedulingScores(toGraph(golden.features));
      const rows = await t.db
        .selectFrom('features')
        .select(['id', 'score'])
        .where('project_id', '=', projectId)
        .execute();
      for (const row of rows) assert.equal(row.score, expected.get(row.id), `${golden.name} #${row.id}`);
    }
  });

  for (const seed of [1, 7, 42]) {
    test(`layered DAG of 400 features, seed ${seed}, claimed in batches of 7 as features pass`, async () => {
      const graph = layeredFeatures(400, { layers: 12, seed });
      const projectId = await seedProject(t.db, toEntries(graph), 'layered');
      const state = new Map(graph.map((f) => [f.id, { ...f }]));
      for (let round = 0; round < 200; round++) {
        const expected = readyFeatures([...state.values()])
          .slice(0, 7)
          .map((f) => f.id);
        const claimed = await claimReadyFeatures(t.db, {
          projectId,
          limit: 7,
          maxRetries: 3,
        });
        assert.deepEqual(
          claimed.map((c) => c.id),
          expected,
          `round ${round}`,
        );
        if (claimed.length === 0) break;
        // The first of each batch passes, the rest stay running: the ready set shifts each round.
        const first = claimed[0]!;
        await markFeature(t.db, { projectId, featureId: first.id, passes: true, runId: first.claimedBy });
        await recordOutcome(t.db, {
          projectId,
          featureId: first.id,
          owner: first.claimedBy,
          kind: 'coding',
          outcome: 'passed',
        });
        for (const c of claimed) state.get(c.id)!.inProgress = c !== first;
        state.get(first.id)!.passes = true;
      }
    });
  }
});

describe('claimReadyFeatures', () => {
  test('stamps owner, attempt and database time; respects limit and exclude', async () => {
    const projectId = await seedProject(t.db, flatEntries(5));
    const before = new Date(Date.now() - 60_000);
    const claimed = await claimReadyFeatures(t.db, {
      projectId,
      limit: 2,
      maxRetries: 3,
      exclude: [1],
    });
    assert.equal(claimed.length, 2);
    assert.ok(!claimed.some((c) => c.id === 1));
    for (const c of claimed) {
      assert.equal(c.attempt, 1);
      assert.equal(c.claimedBy, `autocoder/${projectId}/coding/${c.id}/1`);
      const row = await getFeature(t.db, projectId, c.id);
      assert.equal(row?.inProgress, true);
      assert.equal(row?.state, 'running');
      assert.ok(row?.claimedAt && row.claimedAt > before);
    }
  });

  test('a dependency on a missing id never becomes ready; a satisfied one does', async () => {
    const projectId = await seedProject(t.db, [
      { id: 1, name: 'a' },
      { id: 2, name: 'b', dependencies: [1] },
      { id: 3, name: 'c', dependencies: [99] },
    ]);
    assert.deepEqual(
      (await claimAll(projectId)).map((c) => c.id),
      [1],
    );
    await markFeature(t.db, { projectId, featureId: 1, passes: true });
    assert.deepEqual(
      (await claimAll(projectId)).map((c) => c.id),
      [2],
    );
    assert.deepEqual(await claimAll(projectId), []);
  });

  test('failure counts are durable and maxRetries is respected; attempts count every claim', async () => {
    const projectId = await seedProject(t.db, flatEntries(1));
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [claim] = await claimAll(projectId, 2);
      assert.equal(claim?.attempt, attempt);
      const result = await recordOutcome(t.db, {
        projectId,
        featureId: 1,
        owner: claim!.claimedBy,
        kind: 'coding',
        outcome: 'failed',
        exitCode: 1,
        maxRetries: 2,
      });
      assert.equal(result.failureCount, attempt);
      assert.equal(result.gaveUp, attempt === 2);
    }
    assert.deepEqual(await claimAll(projectId, 2), [], 'given up at maxRetries');
    assert.equal((await claimAll(projectId, 3)).length, 1, 'a higher cap makes it ready again');
    const row = await getFeature(t.db, projectId, 1, { maxRetries: 3 });
    assert.equal(row?.failureCount, 2);
    assert.equal(row?.attempts, 3);
  });
});

describe('readyFeatureExists', () => {
  test('says whether claimReadyFeatures would find a feature, and claims nothing', async () => {
    const projectId = await seedProject(t.db, [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c', dependencies: [1] },
    ]);
    const ready = () => readyFeatureExists(t.db, { projectId, maxRetries: 3 });
    assert.equal(await ready(), true);
    assert.equal(
      await readyFeatureExists(t.db, { projectId, maxRetries: 3, exclude: [1, 2] }),
      false,
      'excluded ids do not count',
    );
    assert.equal(await ready(), true, 'nothing was claimed');
    assert.deepEqual((await claimAll(projectId)).map((c) => c.id).sort(), [1, 2]);
    assert.equal(await ready(), false, 'in progress, or waiting on a dependency');
    await markFeature(t.db, { projectId, featureId: 1, passes: true });
    assert.equal(await ready(), true, 'its dependency passes');
  });
});

describe('claimFeaturesByIds', () => {
  test('never takes a feature an owner holds; a ready one is claimed as a new attempt', async () => {
    const projectId = await seedProject(t.db, flatEntries(3));
    const [a] = await claimReadyFeatures(t.db, { projectId, limit: 1, maxRetries: 3 });
    const resumed = await claimFeaturesByIds(t.db, { projectId, featureIds: [a!.id, 3], maxRetries: 3 });
    assert.deepEqual(
      resumed.map((r) => [r.id, r.attempt]),
      [[3, 1]],
    );
    assert.equal((await getFeature(t.db, projectId, a!.id))?.claimedBy, a!.claimedBy, 'the held claim is untouched');
    assert.equal((await getFeature(t.db, projectId, 3))?.claimedBy, `${codingPrefix(projectId)}3/1`);
  });

  test('claims in-progress features left without owner (imported from AutoCoder)', async () => {
    const projectId = await seedProject(t.db, [
      { id: 1, name: 'a', in_progress: true },
      { id: 2, name: 'b', dependencies: [1] },
    ]);
    const resumed = await claimFeaturesByIds(t.db, {
      projectId,
      featureIds: [1, 2],
      maxRetries: 3,
    });
    assert.deepEqual(
      resumed.map((r) => [r.id, r.attempt]),
      [[1, 1]],
      '#2 waits on #1',
    );
  });
});

describe('owners built in SQL (ownerIdSql)', () => {
  test('parse with parseAgentRunId to the project, kind, feature and attempt that were claimed', async () => {
    const projectId = await seedProject(t.db, [
      { id: 7, name: 'coded' },
      { id: 12, name: 'tested', passes: true },
    ]);
    const [first] = await claimReadyFeatures(t.db, { projectId, limit: 1, maxRetries: 3 });
    assert.deepEqual(parseAgentRunId(first!.claimedBy), { projectId, kind: 'coding', featureId: 7, attempt: 1 });
    await releaseClaim(t.db, { projectId, featureId: 7, owner: first!.claimedBy });
    const [resumed] = await claimFeaturesByIds(t.db, { projectId, featureIds: [7], maxRetries: 3 });
    assert.deepEqual(parseAgentRunId(resumed!.claimedBy), { projectId, kind: 'coding', featureId: 7, attempt: 2 });
    const [lease] = await claimFeaturesForTesting(t.db, { projectId, limit: 1 });
    assert.deepEqual(parseAgentRunId(lease!.owner), { projectId, kind: 'testing', featureId: 12, attempt: 1 });
  });
});

describe('claimFeaturesForTesting', () => {
  test('limit 0 claims nothing; a limit above what is free claims every free passing feature once', async () => {
    const projectId = await seedProject(t.db, [
      { id: 1, name: 'a', passes: true },
      { id: 2, name: 'b', passes: true },
      { id: 3, name: 'c', passes: true },
      { id: 4, name: 'not passing' },
      { id: 5, name: 'excluded', passes: true },
    ]);
    assert.deepEqual(await claimFeaturesForTesting(t.db, { projectId, limit: 0 }), []);
    const leased = await claimFeaturesForTesting(t.db, { projectId, limit: 10, exclude: [5] });
    assert.deepEqual(leased.map((l) => l.id).sort(), [1, 2, 3]);
    for (const l of leased) {
      assert.equal(l.attempt, 1);
      assert.equal(l.owner, `autocoder/${projectId}/testing/${l.id}/1`);
    }
    assert.deepEqual(
      (await claimFeaturesForTesting(t.db, { projectId, limit: 10 })).map((l) => l.id),
      [5],
      'leased features are not handed out again while their lease lasts',
    );
  });

  test('an expired lease is taken over (database clock); a fresh one is not', async () => {
    const projectId = await seedProject(
      t.db,
      flatEntries(2).map((e) => ({ ...e, passes: true })),
    );
    const [old] = await claimFeaturesForTesting(t.db, { projectId, limit: 1 });
    await t.db
      .updateTable('features')
      .set({ testing_claimed_at: new Date(Date.now() - 3_600_000) })
      .where('project_id', '=', projectId)
      .where('id', '=', old!.id)
      .execute();
    const again = await claimFeaturesForTesting(t.db, { projectId, limit: 5, leaseMs: 60_000 });
    assert.deepEqual(again.map((l) => [l.id, l.attempt]).sort(), [
      [1, old!.id === 1 ? 2 : 1],
      [2, old!.id === 2 ? 2 : 1],
    ]);
  });
});
