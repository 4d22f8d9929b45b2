/**
 * Budgets with real runs of the fake `claude` (test/fixtures/fake-claude), each costing 0.40 USD:
 * a run budget of 1.00 at concurrency 1 lets exactly 3 agent runs start (the third is given the
 * 0.20 left as --max-budget-usd and ends `error_max_budget_usd`: stopped, not failed), then the
 * pause reason is budget; raising it to 2.00 with setBudget goes on to 5 runs in all, then pauses
 * again. Spend shows in the status, and `spendReport` agrees with it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { featureSpend, spendReport } from '../../src/db/spend.ts';
import { setBudgetUpdate, statusQuery } from '../../src/workflows/messages.ts';
import { agentRunsOf, featureRows, liveAgentProcesses, waitUntil, withTemporal } from '../support/temporal.ts';

const fakeClaudeDir = fileURLToPath(new URL('../fixtures/fake-claude/', import.meta.url));
process.env.PATH = `${fakeClaudeDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const home = mkdtempSync(join(tmpdir(), 'ac-budget-'));
process.env.AUTOCODER_HOME = home;
process.env.FAKE_CLAUDE_COST_USD = '0.40';

const safety = {
  policy: 'strict' as const,
  allowHosts: [],
  maxTurns: {},
  env: ['FAKE_CLAUDE_COST_USD'],
  additions: { commands: [], pkillProcesses: [], blocked: [] },
};

describe('budgets stop dispatch', () => {
  const t = withTemporal({ name: 'budget' });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('0.40 a run, budget 1.00: 3 runs, pause budget; set 2.00: 5 runs in all, paused again', async () => {
    const features = Array.from({ length: 6 }, (_, i) => ({ id: i + 1, name: `f${i + 1}` }));
    const projectId = await t.seedProject(features, { base: 'budget' });
    const handle = await t.startRun(projectId, {
      agent: 'claude',
      concurrency: 1,
      testingRatio: 0,
      budgetUsd: 1,
      quotaKey: `test-${projectId}`,
      agentSafety: safety,
    });
    const pausedAt = async (runs: number) =>
      waitUntil(
        `a budget pause after ${runs} runs`,
        async () => {
          const status = await handle.query(statusQuery);
          const done = (await agentRunsOf(t.db, projectId)).filter((r) => r.ended_at !== null).length;
          return status.pause?.reason === 'budget' && status.running.length === 0 && done === runs && status;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );

    const first = await pausedAt(3);
    assert.equal(first.paused, true);
    assert.deepEqual(first.pause, { reason: 'budget', budget: 'run', spentUsd: 1.2, limitUsd: 1 });
    assert.equal(first.spend.runUsd, 1.2);
    assert.equal(first.spend.todayUsd, 1.2);
    assert.ok(first.spend.tokens.input > 0, 'tokens are summed from the result messages');
    // No agent starts while paused: a few poll passes later there are still 3 runs.
    await new Promise((r) => setTimeout(r, 2500));
    let runs = await agentRunsOf(t.db, projectId);
    assert.equal(runs.length, 3, 'exactly 3 agent runs started');
    assert.deepEqual(
      runs.map((r) => r.outcome),
      ['passed', 'passed', 'stopped'],
    );
    assert.match(runs[2]!.error ?? '', /^error_max_budget_usd/, 'the third had only 0.20 left');
    assert.equal(
      (await featureRows(t.db, projectId)).reduce((n, f) => n + f.failure_count, 0),
      0,
      'ending for budget is no failure',
    );

    const budgets = await handle.executeUpdate(setBudgetUpdate, { args: [{ runUsd: 2 }] });
    assert.equal(budgets.runUsd, 2);
    const second = await pausedAt(5);
    assert.deepEqual(second.pause, { reason: 'budget', budget: 'run', spentUsd: 2, limitUsd: 2 });
    await new Promise((r) => setTimeout(r, 2500));
    runs = await agentRunsOf(t.db, projectId);
    assert.equal(runs.length, 5, '5 agent runs in all');
    assert.deepEqual(
      runs.map((r) => r.outcome),
      ['passed', 'passed', 'stopped', 'passed', 'passed'],
    );
    assert.equal(runs[3]!.feature_id, runs[2]!.feature_id, 'the feature stopped for budget went first');

    const report = await spendReport(t.db, { projectId, since: new Date(0), by: 'feature', tz: 'UTC' });
    assert.equal(report.totalUsd, 2);
    assert.equal(report.rows.length, 4);
    assert.equal((await featureSpend(t.db, { projectId, featureId: runs[2]!.feature_id! })).usd, 0.8);

    // A validator refuses a bad budget before it reaches the history.
    await assert.rejects(handle.executeUpdate(setBudgetUpdate, { args: [{ runUsd: -1 }] }), (err: Error) =>
      /runUsd/.test(String((err as { cause?: Error }).cause?.message ?? err.message)),
    );
    await handle.terminate('test done');
    assert.deepEqual(liveAgentProcesses(projectId), []);
  });
});
