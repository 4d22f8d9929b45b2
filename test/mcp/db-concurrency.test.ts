/**
 * The repository functions behind the MCP tools under concurrency, on separate connection pools
 * (as separate agent processes would be): a named claim has one winner, concurrent dependency
 * edits can never form a cycle together, concurrent creates never share an id.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.ts';
import { createFeatures } from '../../src/db/feature-create.ts';
import { addDependency } from '../../src/db/feature-edits.ts';
import { claimFeatureForRun } from '../../src/db/feature-marks.ts';
import { getFeature, listFeatures } from '../../src/db/features.ts';
import { findCycles } from '../../src/graph/index.ts';
import { withTestDb } from '../support/db.ts';
import { flatEntries, seedProject } from '../db/seed.ts';

describe('agent writes under concurrency', () => {
  const t = withTestDb();
  const pools = () => Array.from({ length: 8 }, () => t.connect({ poolSize: 1 }));

  test('8 agents claim the same feature at once, 10 times: one winner each time', async () => {
    const projectId = await seedProject(t.db, flatEntries(10), 'race-claim');
    const dbs = pools();
    for (let id = 1; id <= 10; id++) {
      const results = await Promise.allSettled(
        dbs.map((db, i) => claimFeatureForRun(db, { projectId, featureId: id, owner: `run-${i}` })),
      );
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(winners.length, 1, `feature #${id}: ${winners.length} winners`);
      for (const r of results)
        if (r.status === 'rejected')
          assert.match(String((r.reason as Error).message), /already claimed by another agent run \(run-\d, since /);
      const f = await getFeature(t.db, projectId, id);
      assert.deepEqual([f?.claimedBy, f?.attempts], [`run-${winners[0]}`, 1]);
    }
  });

  test('two agents adding opposite dependencies at once: never both, never a cycle', async () => {
    const projectId = await seedProject(t.db, flatEntries(20), 'race-deps');
    const [a, b] = pools();
    for (let i = 1; i <= 19; i += 2) {
      const results = await Promise.allSettled([
        addDependency(a!, { projectId, featureId: i, dependencyId: i + 1, runId: 'run-a' }),
        addDependency(b!, { projectId, featureId: i + 1, dependencyId: i, runId: 'run-b' }),
      ]);
      const failures = results
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason as Error);
      assert.equal(failures.length, 1, `pair ${i}/${i + 1}`);
      assert.ok(failures[0] instanceof UserError);
      assert.match(failures[0].message, /would create a cycle: (\d+) → (\d+) → \1/);
    }
    const features = await listFeatures(t.db, projectId);
    assert.deepEqual(findCycles(features), []);
  });

  test('concurrent creates get distinct ids and all land', async () => {
    const projectId = await seedProject(t.db, flatEntries(3), 'race-create');
    const dbs = pools();
    const batches = await Promise.all(
      dbs.map((db, i) =>
        createFeatures(db, {
          projectId,
          runId: `run-${i}`,
          features: [
            { category: 'c', name: `from ${i} a`, description: 'd', steps: ['s'] },
            { category: 'c', name: `from ${i} b`, description: 'd', steps: ['s'], dependsOnIndices: [0] },
          ],
        }),
      ),
    );
    const ids = batches.flatMap((b) => b.ids);
    assert.equal(new Set(ids).size, 16);
    assert.deepEqual(
      [...ids].sort((x, y) => x - y),
      Array.from({ length: 16 }, (_, i) => i + 4),
    );
    assert.equal((await listFeatures(t.db, projectId)).length, 19);
    for (const batch of batches)
      assert.deepEqual((await getFeature(t.db, projectId, batch.ids[1]!))?.dependencies, [batch.ids[0]]);
  });

  test('a new feature with dependencies on existing ones is stored with them in one step; a bad id creates nothing', async () => {
    const projectId = await seedProject(t.db, flatEntries(3), 'create-deps');
    const feature = (name: string, dependencyIds: number[]) => ({
      category: 'c',
      name,
      description: 'd',
      steps: ['s'],
      dependencyIds,
    });
    const made = await createFeatures(t.db, { projectId, runId: 'ui', features: [feature('after 1 and 3', [3, 1])] });
    assert.deepEqual(made.ids, [4]);
    assert.equal(made.withDependencies, 1);
    assert.deepEqual((await getFeature(t.db, projectId, 4))?.dependencies, [1, 3]);

    await assert.rejects(
      createFeatures(t.db, { projectId, runId: 'ui', features: [feature('fine', [1]), feature('after 99', [99])] }),
      (err: Error) =>
        err instanceof UserError && /no features created: feature #6 \(after 99\): .*99/.test(err.message),
    );
    assert.equal((await listFeatures(t.db, projectId)).length, 4, 'nothing of the rejected batch was stored');
  });
});
