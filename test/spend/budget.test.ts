/**
 * Budgets with real runs of the fake `claude` (test/fixtures/fake-claude), each costing 0.40 USD:
 * a run budget of 1.00 at concurrency 1 lets exactly 3 agent runs start (the third is given the
 * 0.20 left as --max-budget-usd and ends `error_max_budget_usd`: stopped, not failed), then the
 * pause reason is budget; raising it to 2.00 with setBudget goes on to 5 runs in all, then pauses
 * again. Spend shows in the status, and `spendReport` agrees with it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

describe('feature budgets and --on-budget stop', () => {
  const t = withTemporal({ name: 'budget-more' });

  test('a feature over its own budget is held, the others go on; with only held ones left the run pauses', async () => {
    process.env.FAKE_CLAUDE_MODE = 'no-mark'; // every attempt spends 0.40 and fails
    try {
      const projectId = await t.seedProject(
        [
          { id: 1, name: 'a' },
          { id: 2, name: 'b' },
        ],
        { base: 'fbudget' },
      );
      const handle = await t.startRun(projectId, {
        agent: 'claude',
        concurrency: 1,
        testingRatio: 0,
        maxRetries: 10,
        featureBudgetUsd: 0.7,
        quotaKey: `test-${projectId}`,
        agentSafety: { ...safety, env: ['FAKE_CLAUDE_COST_USD', 'FAKE_CLAUDE_MODE'] },
      });
      const status = await waitUntil(
        'both features held for budget',
        async () => {
          const s = await handle.query(statusQuery);
          return s.budgetHeld.length === 2 && s.running.length === 0 && s.pause?.reason === 'budget' && s;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
      assert.equal(status.pause?.budget, 'feature');
      assert.deepEqual(
        status.budgetHeld.map((f) => [f.featureId, f.spentUsd, f.limitUsd]),
        [
          [1, 0.8, 0.7],
          [2, 0.8, 0.7],
        ],
      );
      const runs = await agentRunsOf(t.db, projectId);
      assert.deepEqual(
        runs.map((r) => [r.feature_id, r.outcome]),
        [
          [1, 'failed'],
          [1, 'stopped'],
          [2, 'failed'],
          [2, 'stopped'],
        ],
        'the second attempt of each got 0.30 as --max-budget-usd and ended error_max_budget_usd',
      );
      assert.equal(status.outcome, null, 'paused, not ended blocked');
      await handle.executeUpdate(setBudgetUpdate, { args: [{ featureUsd: null }] });
      await waitUntil('dispatch resumed', async () => (await agentRunsOf(t.db, projectId)).length > 4, {
        timeoutMs: 30_000,
      });
      await handle.terminate('test done');
    } finally {
      delete process.env.FAKE_CLAUDE_MODE;
    }
  });

  test('--on-budget stop stops the agents still running when the run budget is reached', async () => {
    // A command agent that reports 0.40 through `autocoder feature usage`: #1 then passes; #2 reports
    // later (spend 0.80, over the 0.50 budget) and works on, until the run stops it.
    const dir = mkdtempSync(join(tmpdir(), 'ac-onbudget-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'spend-agent.sh');
    const bin = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin/autocoder');
    writeFileSync(
      script,
      `#!/bin/sh\nif [ "$AUTOCODER_FEATURE_ID" = 2 ]; then sleep 3; fi\n"${bin}" feature usage --cost-usd 0.40 --input-tokens 100 || exit 3\nif [ "$AUTOCODER_FEATURE_ID" = 1 ]; then "${bin}" feature pass 1; exit 0; fi\nexec sleep 120\n`,
      { mode: 0o755 },
    );
    const projectId = await t.seedProject(
      [
        { id: 1, name: 'quick' },
        { id: 2, name: 'slow' },
      ],
      { base: 'onbudget' },
    );
    const handle = await t.startRun(projectId, {
      agent: 'command',
      agentCmd: [script],
      concurrency: 2,
      testingRatio: 0,
      budgetUsd: 0.5,
      onBudget: 'stop',
      quotaKey: `test-${projectId}`,
    });
    const status = await waitUntil(
      'the budget pause with nothing running',
      async () => {
        const s = await handle.query(statusQuery);
        return s.pause?.reason === 'budget' && s.running.length === 0 && s;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.deepEqual(status.pause, { reason: 'budget', budget: 'run', spentUsd: 0.8, limitUsd: 0.5 });
    const runs = await agentRunsOf(t.db, projectId);
    assert.deepEqual(runs.map((r) => [r.feature_id, r.outcome]).sort(), [
      [1, 'passed'],
      [2, 'stopped'],
    ]);
    assert.ok(Date.now() - runs.find((r) => r.feature_id === 2)!.started_at.getTime() < 60_000, 'stopped, not ended');
    assert.deepEqual(liveAgentProcesses(projectId), []);
    await handle.terminate('test done');
  });
});
