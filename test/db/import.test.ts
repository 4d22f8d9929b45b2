import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { UserError } from '../../src/errors.ts';
import { claimReadyFeatures } from '../../src/db/claims.ts';
import { getFeature, listFeatures, markFeature } from '../../src/db/features.ts';
import { importFeatures } from '../../src/db/import.ts';
import { getProject, upsertProject } from '../../src/db/projects.ts';
import { recordOutcome } from '../../src/db/transitions.ts';
import { schedulingScores } from '../../src/graph/index.ts';
import { withTestDb } from '../support/db.ts';
import { flatEntries, seedProject, toGraph } from './seed.ts';

const t = withTestDb();

async function snapshot(projectId: string) {
  return t.db.selectFrom('features').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
}

describe('importFeatures', () => {
  test('counts inserted, updated, unchanged and features not in the file', async () => {
    const projectId = await seedProject(t.db, flatEntries(4));
    const counts = await importFeatures(t.db, projectId, [
      { id: 1, name: 'Feature 1', priority: 1 }, // unchanged
      { id: 2, name: 'renamed', priority: 3 }, // updated
      { id: 5, name: 'new' }, // inserted
    ]);
    assert.deepEqual(counts, { inserted: 1, updated: 1, unchanged: 1, notInFile: 2 });
    assert.equal((await getFeature(t.db, projectId, 2))?.name, 'renamed');
    assert.equal((await listFeatures(t.db, projectId)).length, 5, 'import never deletes');
  });

  test('never resets a passing feature or its failures unless reset', async () => {
    const projectId = await seedProject(t.db, flatEntries(2));
    const [claim] = await claimReadyFeatures(t.db, {
      projectId,
      limit: 1,
      maxRetries: 3,
    });
    await recordOutcome(t.db, {
      projectId,
      featureId: claim!.id,
      owner: claim!.claimedBy,
      kind: 'coding',
      outcome: 'failed',
      exitCode: 1,
    });
    const passingId = claim!.id === 1 ? 2 : 1;
    await markFeature(t.db, { projectId, featureId: passingId, passes: true });

    const again = await importFeatures(t.db, projectId, flatEntries(2));
    assert.equal(again.unchanged, 2, 'the file says passes: false, but passing stays passing');
    assert.equal((await getFeature(t.db, projectId, passingId))?.passes, true);
    assert.equal((await getFeature(t.db, projectId, claim!.id))?.failureCount, 1);

    const reset = await importFeatures(t.db, projectId, flatEntries(2), { reset: true });
    assert.equal(reset.updated, 2);
    assert.equal((await getFeature(t.db, projectId, passingId))?.passes, false);
    assert.equal((await getFeature(t.db, projectId, claim!.id))?.failureCount, 0);
  });

  test('a file that marks a feature passing is taken, and runtime state is never touched', async () => {
    const projectId = await seedProject(t.db, flatEntries(2));
    const [claim] = await claimReadyFeatures(t.db, {
      projectId,
      limit: 1,
      maxRetries: 3,
    });
    await importFeatures(
      t.db,
      projectId,
      flatEntries(2).map((e) => ({ ...e, passes: e.id !== claim!.id, in_progress: false })),
    );
    const claimed = await getFeature(t.db, projectId, claim!.id);
    assert.equal(claimed?.claimedBy, claim!.claimedBy, 'the live claim survives a re-import');
    assert.equal(claimed?.inProgress, true);
    assert.equal((await getFeature(t.db, projectId, claim!.id === 1 ? 2 : 1))?.passes, true);
  });

  test('a rejected list changes nothing, not even a project it would have created', async () => {
    const projectId = await seedProject(t.db, flatEntries(3));
    const before = await snapshot(projectId);
    const bad = [
      [
        { id: 1, name: 'x' },
        { id: 1, name: 'duplicate' },
      ],
      [
        { id: 4, name: 'fine' },
        { id: 0, name: 'id zero' },
      ],
      [
        { id: 4, name: 'fine' },
        { id: 5, name: 'nul \u0000 in name' },
      ],
      [
        { id: 4, name: 'fine' },
        { id: 2 ** 31, name: 'too big for integer' },
      ],
    ];
    for (const entries of bad) {
      await assert.rejects(importFeatures(t.db, projectId, entries, { reset: true }), UserError);
    }
    assert.deepEqual(await snapshot(projectId), before);
    await assert.rejects(importFeatures(t.db, 'not-created', bad[0]!, { dir: '/tmp/x' }), UserError);
    assert.equal(await getProject(t.db, 'not-created'), undefined);
  });

  test('a database error half-way rolls the whole import back', async () => {
    const projectId = await seedProject(t.db, flatEntries(2));
    const before = await snapshot(projectId);
    // 1,500 rows go in two statements; the second fails on the table's CHECK, after the first ran.
    const entries = Array.from({ length: 1500 }, (_, i) => ({ id: i + 1, name: `n${i + 1}` }));
    await t.db.schema
      .alterTable('features')
      .addCheckConstraint('test_no_1400', sql`NOT (project_id = ${sql.lit(projectId)} AND id = 1400)`)
      .execute();
    try {
      await assert.rejects(importFeatures(t.db, projectId, entries));
    } finally {
      await t.db.schema.alterTable('features').dropConstraint('test_no_1400').execute();
    }
    assert.deepEqual(await snapshot(projectId), before);
  });

  test('unknown project without dir is a UserError naming it', async () => {
    await assert.rejects(
      importFeatures(t.db, 'ghost', flatEntries(1)),
      (e: unknown) => e instanceof UserError && /"ghost"/.test(e.message),
    );
  });

  test('file order is the list order: scores equal schedulingScores over the file, also after reordering', async () => {
    await upsertProject(t.db, { id: 'ordered', dir: '/tmp/ordered' });
    const a = [
      { id: 3, name: 'c', dependencies: [1] },
      { id: 1, name: 'a' },
      { id: 2, name: 'b', dependencies: [1] },
      { id: 4, name: 'd', dependencies: [3, 2] },
    ];
    for (const entries of [a, [...a].reverse()]) {
      await importFeatures(t.db, 'ordered', entries);
      const expected = schedulingScores(toGraph(entries));
      for (const row of await snapshot('ordered')) assert.equal(row.score, expected.get(row.id));
    }
  });
});
