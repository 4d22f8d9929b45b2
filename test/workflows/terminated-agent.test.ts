/**
 * An agent run that ends without reporting (an operator terminates its agentRun workflow from the
 * UI or the Temporal CLI) must not hold its slot forever: the next poll pass sees it gone, frees
 * the slot and resumes the feature it left claimed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentRunsOf, queryStatus, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';

const t = withTemporal();

test('a terminated agentRun frees its slot on the next poll and its feature is resumed', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'hangs' },
      { id: 2, name: 'waits for the slot' },
    ],
    { base: 'terminated' },
  );
  const handle = await t.startRun(project, {
    concurrency: 1,
    yolo: true,
    pollIntervalMs: 1000,
    simulate: { features: { 1: { action: 'hang', delayMs: 0 } }, default: { action: 'pass', delayMs: 0 } },
  });
  // Its agent process runs (the child workflow exists: the status lists a child as soon as the
  // start is decided, before the server has created it).
  const started = await waitUntil('feature #1 running', async () =>
    (await agentRunsOf(t.db, project, 'coding')).find((r) => r.feature_id === 1 && r.pid),
  );
  const first = { workflowId: started.id };
  await t.client.workflow.getHandle(first.workflowId).terminate('operator terminated it');
  // A poll pass frees the slot, and #1, left claimed by the dead run, is resumed first (before
  // #2), as the original resumes what a previous session left in progress.
  const second = await waitUntil(
    'feature #1 resumed by a new agent run',
    async () => (await queryStatus(handle)).running.find((a) => a.featureId === 1 && a.workflowId !== first.workflowId),
    { timeoutMs: 60_000 },
  );
  const status = await queryStatus(handle);
  assert.deepEqual(
    status.running.map((a) => a.workflowId),
    [second.workflowId],
    'the terminated run no longer holds the slot',
  );
  assert.match(second.workflowId, /\/coding\/1\/2$/, 'a second attempt at #1');
  const runs = await waitUntil('the resumed agent recorded', async () => {
    const r = await agentRunsOf(t.db, project, 'coding');
    return r.some((x) => x.id === second.workflowId) && r;
  });
  assert.ok(
    runs.every((r) => r.feature_id === 1),
    'nothing else started while the slot was held',
  );
  await handle.signal('stop');
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'stopped');
});
