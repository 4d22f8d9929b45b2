/**
 * Continue-as-new in a long run with children still running: the run carries its running agents
 * across the new run (children are ABANDONed and report by workflow ID), so every feature runs
 * once and the chain completes. The knob `continueAsNewAfterPasses` forces it early.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CarriedState } from '../../src/workflows/messages.ts';
import { agentRunsOf, runChain, waitForResult, withTemporal } from '../support/temporal.ts';

const t = withTemporal();

test('continue-as-new with children running: the chain completes, each feature runs once', async () => {
  const features = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, name: `f${i + 1}`, dependencies: i >= 6 ? [i - 5] : [] }));
  const project = await t.seedProject(features, { base: 'can' });
  const handle = await t.startRun(project, {
    concurrency: 3, pollIntervalMs: 500, continueAsNewAfterPasses: 2,
    simulate: { default: { action: 'pass', delayMs: [600, 1500] } },
  });
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'complete', result.message);
  assert.equal(result.counts.passing, 12);

  const chain = await runChain(t.client, handle.workflowId, handle.firstExecutionRunId);
  assert.ok(chain.length >= 3, `expected several runs in the chain, got ${chain.length}`);
  const carriedRunning = chain.map((r) => (r.input.carried as CarriedState | undefined)?.running.length ?? 0);
  assert.ok(carriedRunning.some((n) => n > 0), `some run must start with agents still running: ${carriedRunning.join(',')}`);

  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.deepEqual(runs.map((r) => r.feature_id).sort((a, b) => a! - b!), features.map((f) => f.id), 'one agent run per feature');
  assert.ok(runs.every((r) => r.outcome === 'passed'));
  assert.equal(result.agentsStarted, 12);
});
