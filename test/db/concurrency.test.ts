import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimFeaturesForTesting, claimReadyFeatures } from '../../src/db/claims.ts';
import { withTestDb } from '../support/db.ts';
import { flatEntries, seedProject } from './seed.ts';

const t = withTestDb();
const CLAIMERS = 8;
const FEATURES = 1000;

test(`${CLAIMERS} concurrent claimers over ${FEATURES} ready features claim every feature exactly once`, async () => {
  const projectId = await seedProject(t.db, flatEntries(FEATURES), 'race');
  // Separate pools: each claimer is its own session, as separate workers would be.
  const claimers = Array.from({ length: CLAIMERS }, (_, i) => ({
    i,
    db: t.connect({ poolSize: 1, applicationName: `claimer-${i}` }),
  }));
  await Promise.all(claimers.map(({ db }) => db.selectNoFrom((eb) => eb.lit(1).as('warm')).execute()));
  const perClaimer = await Promise.all(
    claimers.map(async ({ i, db }) => {
      const mine: number[] = [];
      for (let round = 0; ; round++) {
        // Varying batch sizes make the claimers' locked ranges overlap in every way.
        const limit = 1 + ((i + round) % 5);
        const claimed = await claimReadyFeatures(db, {
          projectId,
          limit,
          maxRetries: 3,
        });
        if (claimed.length === 0) return mine;
        for (const c of claimed) mine.push(c.id);
      }
    }),
  );
  const all = perClaimer.flat();
  assert.equal(new Set(all).size, all.length, 'no feature was claimed twice');
  assert.equal(all.length, FEATURES, 'no feature was missed');
  assert.ok(perClaimer.filter((ids) => ids.length > 0).length > 1, 'the claimers really raced');
  const rows = await t.db
    .selectFrom('features')
    .select(['attempts', 'in_progress'])
    .where('project_id', '=', projectId)
    .execute();
  assert.ok(
    rows.every((r) => r.attempts === 1 && r.in_progress),
    'every feature claimed once, in the database too',
  );
});

test('concurrent testers never share a feature', async () => {
  const projectId = await seedProject(
    t.db,
    flatEntries(40).map((e) => ({ ...e, passes: true })),
    'testers',
  );
  const testers = Array.from({ length: CLAIMERS }, (_, i) =>
    t.connect({ poolSize: 1, applicationName: `tester-${i}` }),
  );
  const perTester = await Promise.all(
    testers.map(async (db) => {
      const mine: number[] = [];
      for (;;) {
        const lease = (await claimFeaturesForTesting(db, { projectId, limit: 1 }))[0];
        if (!lease) return mine;
        mine.push(lease.id);
      }
    }),
  );
  const all = perTester.flat();
  assert.equal(new Set(all).size, all.length);
  assert.equal(all.length, 40);
});

test('concurrent batch testers (claimFeaturesForTesting) never share a feature', async () => {
  const projectId = await seedProject(
    t.db,
    flatEntries(300).map((e) => ({ ...e, passes: true })),
    'batch-testers',
  );
  const testers = Array.from({ length: 6 }, (_, i) => t.connect({ poolSize: 1, applicationName: `batch-${i}` }));
  const perTester = await Promise.all(
    testers.map(async (db, i) => {
      const mine: number[] = [];
      for (;;) {
        const leases = await claimFeaturesForTesting(db, { projectId, limit: 3 + i });
        if (leases.length === 0) return mine;
        mine.push(...leases.map((l) => l.id));
      }
    }),
  );
  const all = perTester.flat();
  assert.equal(all.length, 300, 'every passing feature leased');
  assert.equal(new Set(all).size, 300, 'no feature leased twice');
});
