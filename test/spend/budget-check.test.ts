/**
 * The budget check on a real Postgres (src/activities/budget.ts, src/db/spend.ts): which budget
 * stops dispatch first, features over their own budget, what is left for --max-budget-usd, days in
 * AUTOCODER_TZ, and the installation's daily budget over every project.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { budgetLeft, checkBudget } from '../../src/activities/budget.ts';
import { dayBounds } from '../../src/db/spend.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from '../db/seed.ts';

describe('the budget check', () => {
  const t = withTestDb();
  const spent = async (projectId: string, featureId: number, attempt: number, usd: number, hoursAgo = 0) =>
    t.db
      .insertInto('agent_runs')
      .values({
        id: `autocoder/${projectId}/coding/${featureId}/${attempt}`,
        project_id: projectId,
        feature_id: featureId,
        kind: 'coding',
        attempt,
        started_at: sql`now() - ${hoursAgo}::float8 * interval '1 hour'`,
        ended_at: sql`now() - ${hoursAgo}::float8 * interval '1 hour'`,
        outcome: 'passed',
        cost_usd: usd,
        tokens: JSON.stringify({ input_tokens: 100, output_tokens: 10 }),
      })
      .execute();

  test('run, feature and daily budgets; what is left; the installation over every project', async () => {
    const p = await seedProject(
      t.db,
      [1, 2, 3].map((id) => ({ id, name: `f${id}` })),
      'check',
    );
    const other = await seedProject(t.db, [{ id: 1, name: 'o1' }], 'other');
    const utc = { timeZone: 'UTC' };
    const day = await dayBounds(t.db, 'UTC');
    const runStartedAt = new Date(Date.now() - 3600_000).toISOString();
    await spent(p, 1, 1, 0.3);
    await spent(p, 1, 2, 0.3);
    await spent(p, 2, 1, 0.25);
    await spent(other, 1, 1, 2);
    // Before the run started (and, when the day allows, yesterday): not the run's.
    const hoursIntoDay = (Date.now() - day.start.getTime()) / 3600_000;
    await spent(p, 3, 1, 1, hoursIntoDay + 1);

    const open = await checkBudget(t.db, utc, p, { runStartedAt, runUsd: 5 });
    assert.deepEqual(open.spend, {
      runUsd: 0.85,
      todayUsd: 0.85,
      tokens: { input: 300, output: 30, cacheRead: 0, cacheCreation: 0 },
    });
    assert.equal(open.reached, null);
    assert.equal(open.leftUsd, 4.15);

    const run = await checkBudget(t.db, utc, p, { runStartedAt, runUsd: 0.8, dailyUsd: 0.5 });
    assert.deepEqual(run.reached, { reason: 'budget', budget: 'run', spentUsd: 0.85, limitUsd: 0.8 });
    const daily = await checkBudget(t.db, utc, p, { runStartedAt, dailyUsd: 0.5 });
    assert.deepEqual(daily.reached, {
      reason: 'budget',
      budget: 'daily',
      spentUsd: 0.85,
      limitUsd: 0.5,
      resumesAt: day.next.toISOString(),
    });

    const feature = await checkBudget(t.db, utc, p, { runStartedAt, featureUsd: 0.5 });
    assert.equal(feature.reached, null, 'a feature budget holds features, not the run');
    assert.deepEqual(feature.overBudget, [
      { featureId: 1, spentUsd: 0.6, limitUsd: 0.5 },
      { featureId: 3, spentUsd: 1, limitUsd: 0.5 },
    ]);
    assert.equal(
      await budgetLeft(t.db, utc, { projectId: p, featureId: 2, budget: { runStartedAt, featureUsd: 0.5, runUsd: 5 } }),
      0.25,
    );
    assert.equal(await budgetLeft(t.db, utc, { projectId: p, featureId: 2, budget: { runStartedAt } }), undefined);

    const installation = await checkBudget(t.db, { timeZone: 'UTC', installationDailyUsd: 2.5 }, p, { runStartedAt });
    assert.equal(installation.reached?.budget, 'installation');
    assert.equal(installation.reached?.spentUsd, 2.85, "every project's spend today");
  });

  test('a day begins in AUTOCODER_TZ', async () => {
    const { start, next } = await dayBounds(t.db, 'Asia/Kolkata');
    assert.equal(next.getTime() - start.getTime(), 24 * 3600_000);
    // Midnight in Kolkata is 18:30 UTC.
    assert.equal(start.toISOString().slice(11, 16), '18:30');
  });
});
