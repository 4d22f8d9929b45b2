/**
 * An attempt that does not pass ends its agentRun Failed, with a non-retryable failure of the
 * attempt's type, so the UI's Failed filter and `temporal workflow list --query
 * "ExecutionStatus='Failed'"` find it; a stopped one ends Canceled, a passing one Completed. The
 * parent goes on undisturbed: it hears of each attempt by signal and never awaits a child.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { agentRunId } from '../../src/workflows/run-ids.ts';
import { failureTypes } from '../../src/workflows/vocabulary.ts';
import { agentRunsOf, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';

const t = withTemporal();

test('failed attempts end their agentRun Failed with their type, a stopped one Canceled; the run is not disturbed', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'exits 0 without passing' },
      { id: 2, name: 'crashes' },
      { id: 3, name: 'passes' },
      { id: 4, name: 'hangs until stopped' },
    ],
    { base: 'attempts' },
  );
  const handle = await t.startRun(project, {
    concurrency: 4,
    maxRetries: 1,
    simulate: {
      default: { action: 'pass', delayMs: 100 },
      features: {
        1: { action: 'exit0-no-pass', delayMs: 100 },
        2: { action: 'crash', delayMs: 100 },
        4: { action: 'hang', delayMs: 0 },
      },
    },
  });
  const id = (featureId: number) => agentRunId({ projectId: project, kind: 'coding', featureId, attempt: 1 });
  // Stop only once #1-#3 have ended: a stop that came first would cancel them instead.
  await waitUntil('#1-#3 ended and #4 running', async () => {
    const runs = await agentRunsOf(t.db, project);
    const ended = [1, 2, 3].every((f) => runs.some((r) => r.feature_id === f && r.ended_at));
    return ended && runs.some((r) => r.feature_id === 4 && r.pid);
  });
  await handle.signal('stopFeature', 4);
  await handle.signal('stop');
  const result = await waitForResult(handle);
  assert.equal(result.outcome, 'stopped', result.message);

  const failureOf = async (workflowId: string) => {
    const err = await t.client.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof WorkflowFailedError, `${workflowId} failed`);
    return err.cause;
  };
  // The type follows what the store recorded for the attempt (the supervisor decides exited or
  // crashed for a process killed by its own signal; either way it is a failure of that type).
  const runs = await agentRunsOf(t.db, project, 'coding');
  const expectedType = (featureId: number) => {
    const run = runs.find((r) => r.feature_id === featureId);
    if (run?.outcome === 'crashed') return failureTypes.agentCrashed;
    return run?.exit_code === 0 ? failureTypes.featureNotPassing : failureTypes.agentExited;
  };
  for (const featureId of [1, 2]) {
    const failure = await failureOf(id(featureId));
    const run = runs.find((r) => r.feature_id === featureId);
    assert.ok(failure instanceof ApplicationFailure, `#${featureId}: ${String(failure)}`);
    assert.equal(failure.type, expectedType(featureId), `#${featureId}: ${JSON.stringify(run)}`);
    assert.equal(failure.nonRetryable, true);
  }
  assert.equal(expectedType(1), failureTypes.featureNotPassing, 'exit 0 without passing');

  const statusOf = async (workflowId: string) => (await t.client.workflow.getHandle(workflowId).describe()).status.name;
  assert.equal(await statusOf(id(3)), 'COMPLETED');
  assert.equal(await statusOf(id(4)), 'CANCELLED');

  // What an operator types: the Failed filter lists exactly the two failed attempts.
  const query = `AutocoderProject='${project}' AND ExecutionStatus='Failed'`;
  const failed = await waitUntil('visibility lists the failed attempts', async () => {
    const ids: string[] = [];
    for await (const w of t.client.workflow.list({ query })) ids.push(w.workflowId);
    return ids.length === 2 && ids.sort();
  });
  assert.deepEqual(failed, [id(1), id(2)].sort());
  // The parent completed normally: its history shows the failed children and nothing of its own failed.
  const { status } = await handle.describe();
  assert.equal(status.name, 'COMPLETED');
});
