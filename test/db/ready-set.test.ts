/**
 * The ready set: features.unmet_deps, kept by triggers (migration 20261130T0900_ready_set), must
 * equal a recount from scratch after any sequence of writes, whoever makes them: the app's
 * functions or plain SQL, one row or many per statement, concurrently or not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Kysely, sql } from 'kysely';
import { claimReadyFeatures } from '../../src/db/claims.ts';
import { getFeature, markFeature } from '../../src/db/features.ts';
import { setDependencies } from '../../src/db/feature-edits.ts';
import { importFeatures } from '../../src/db/import.ts';
import type { Database } from '../../src/db/tables.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from './seed.ts';

const t = withTestDb();

/** Every feature of the project whose stored count differs from a recount in JS. */
async function drift(db: Kysely<Database>, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('features')
    .select(['id', 'passes', 'dependencies', 'unmet_deps'])
    .where('project_id', '=', projectId)
    .execute();
  const passing = new Set(rows.filter((r) => r.passes).map((r) => r.id));
  return rows.flatMap((r) => {
    const expected = new Set(r.dependencies.filter((d) => !passing.has(d))).size;
    return r.unmet_deps === expected
      ? []
      : [`#${r.id} deps ${JSON.stringify(r.dependencies)}: ${r.unmet_deps}≠${expected}`];
  });
}

const MAX_ID = 10;
const id = fc.integer({ min: 1, max: MAX_ID });
// Ids up to MAX_ID + 2 may name no feature: a missing id counts as unmet.
const deps = fc.array(fc.integer({ min: 1, max: MAX_ID + 2 }), { maxLength: 4 });

type Op =
  | { op: 'mark'; id: number; passes: boolean }
  | { op: 'markMany'; ids: number[]; passes: boolean }
  | { op: 'setDeps'; id: number; deps: number[] }
  | { op: 'insert'; id: number; deps: number[]; passes: boolean }
  | { op: 'delete'; id: number }
  | { op: 'import'; entries: { id: number; deps: number[]; passes: boolean }[]; reset: boolean }
  | { op: 'stray'; id: number; value: number };

const ops: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('mark' as const), id, passes: fc.boolean() }),
  fc.record({ op: fc.constant('markMany' as const), ids: fc.uniqueArray(id, { maxLength: 5 }), passes: fc.boolean() }),
  fc.record({ op: fc.constant('setDeps' as const), id, deps }),
  fc.record({ op: fc.constant('insert' as const), id, deps, passes: fc.boolean() }),
  fc.record({ op: fc.constant('delete' as const), id }),
  fc.record({
    op: fc.constant('import' as const),
    entries: fc.uniqueArray(fc.record({ id, deps, passes: fc.boolean() }), { selector: (e) => e.id, maxLength: 6 }),
    reset: fc.boolean(),
  }),
  fc.record({ op: fc.constant('stray' as const), id, value: fc.integer({ min: 0, max: 5 }) }),
);

async function apply(db: Kysely<Database>, projectId: string, o: Op): Promise<void> {
  switch (o.op) {
    case 'mark':
      // The app's writer, or a plain UPDATE: the triggers must cover both.
      if (o.passes) await markFeature(db, { projectId, featureId: o.id, passes: true }).catch(() => undefined);
      else await sql`UPDATE features SET passes = false WHERE project_id = ${projectId} AND id = ${o.id}`.execute(db);
      return;
    case 'markMany':
      await sql`UPDATE features SET passes = ${o.passes}
        WHERE project_id = ${projectId} AND id = ANY(${o.ids}::int[])`.execute(db);
      return;
    case 'setDeps':
      await sql`UPDATE features SET dependencies = ${o.deps}::int[] WHERE project_id = ${projectId} AND id = ${o.id}`.execute(
        db,
      );
      return;
    case 'insert':
      await sql`INSERT INTO features (project_id, id, name, dependencies, passes)
        VALUES (${projectId}, ${o.id}, ${`Feature ${o.id}`}, ${o.deps}::int[], ${o.passes})
        ON CONFLICT DO NOTHING`.execute(db);
      return;
    case 'delete':
      await sql`DELETE FROM features WHERE project_id = ${projectId} AND id = ${o.id}`.execute(db);
      return;
    case 'import':
      await importFeatures(
        db,
        projectId,
        o.entries.map((e) => ({ id: e.id, name: `Feature ${e.id}`, dependencies: e.deps, passes: e.passes })),
        { reset: o.reset },
      );
      return;
    case 'stray':
      await sql`UPDATE features SET unmet_deps = ${o.value} WHERE project_id = ${projectId} AND id = ${o.id}`.execute(
        db,
      );
      return;
  }
}

describe('unmet_deps', () => {
  test('equals a recount from scratch after random passes, dependency edits, inserts, deletes and imports', async () => {
    // Two projects with the same ids: a write in one must never touch the other's counts.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ project: fc.integer({ min: 0, max: 1 }), op: ops }), { minLength: 1, maxLength: 25 }),
        async (steps) => {
          const projects = [await seedProject(t.db, [], 'prop'), await seedProject(t.db, [], 'prop')];
          for (const [i, { project, op }] of steps.entries()) {
            await apply(t.db, projects[project]!, op);
            for (const p of projects)
              assert.deepEqual(await drift(t.db, p), [], `after step ${i}: ${JSON.stringify(op)}`);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a repeated dependency counts once, a missing id counts, and a passing feature that appears satisfies it', async () => {
    const projectId = await seedProject(t.db, [
      { id: 1, name: 'a' },
      { id: 2, name: 'b', dependencies: [1, 1] },
      { id: 3, name: 'c', dependencies: [1, 99] },
    ]);
    const unmet = async () =>
      (
        await t.db
          .selectFrom('features')
          .select(['id', 'unmet_deps'])
          .where('project_id', '=', projectId)
          .orderBy('id')
          .execute()
      ).map((r) => r.unmet_deps);
    assert.deepEqual(await unmet(), [0, 1, 2], 'a repeated dependency counts once; a missing id counts');
    await markFeature(t.db, { projectId, featureId: 1, passes: true });
    assert.deepEqual(await unmet(), [0, 0, 1]);
    assert.equal((await getFeature(t.db, projectId, 2))?.state, 'pending');
    assert.equal((await getFeature(t.db, projectId, 3))?.state, 'blocked');
    await t.db
      .insertInto('features')
      .values({ project_id: projectId, id: 99, name: 'late', steps: '[]', passes: true })
      .execute();
    assert.deepEqual(await unmet(), [0, 0, 0, 0], 'a passing feature that appears satisfies its dependents');
    assert.deepEqual(
      (await claimReadyFeatures(t.db, { projectId, limit: 10, maxRetries: 3 })).map((c) => c.id).sort(),
      [2, 3],
    );
  });

  test('concurrent marks and dependency edits in one project leave every count right', async () => {
    // 40 roots; #41 depends on all of them, #42 on half; the roots are marked passing from 6
    // sessions at once while another session keeps rewriting #42's dependencies.
    const roots = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, name: `root ${i + 1}` }));
    const projectId = await seedProject(t.db, [
      ...roots,
      { id: 41, name: 'all', dependencies: roots.map((r) => r.id) },
      { id: 42, name: 'half', dependencies: roots.slice(0, 20).map((r) => r.id) },
    ]);
    const sessions = Array.from({ length: 6 }, (_, i) => t.connect({ poolSize: 1, applicationName: `marker-${i}` }));
    const editor = t.connect({ poolSize: 1, applicationName: 'editor' });
    const queue = roots.map((r) => r.id);
    let editing = true;
    await Promise.all([
      ...sessions.map(async (db) => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          await markFeature(db, { projectId, featureId: next, passes: true });
        }
      }),
      (async () => {
        for (let round = 0; editing || round < 3; round++) {
          const from = (round * 7) % 30;
          await setDependencies(editor, {
            projectId,
            featureId: 42,
            runId: 'test',
            dependencyIds: roots.slice(from, from + 10).map((r) => r.id),
          });
          if (queue.length === 0) editing = false;
        }
      })(),
    ]);
    assert.deepEqual(await drift(t.db, projectId), []);
    assert.equal((await getFeature(t.db, projectId, 41))?.state, 'pending');
    assert.equal((await getFeature(t.db, projectId, 42))?.state, 'pending');
  });
});
