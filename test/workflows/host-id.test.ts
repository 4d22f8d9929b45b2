/**
 * A worker's host id (AUTOCODER_HOST_ID, here given to the worker as hostId) reaches its agents
 * as AUTOCODER_HOST_ID, is recorded on their agent_runs rows, and `status` shows it; its identity
 * names the host and its cap, which is how `status` finds live hosts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logFileFor } from '../../src/activities/supervise.ts';
import { capacityOf, liveWorkers } from '../../src/metrics/capacity.ts';
import { agentRunsOf, repoRoot, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';

const t = withTemporal({ name: 'host-id', startWorker: false });

test('agents get AUTOCODER_HOST_ID; their runs record it; the live host and its cap are listed', async () => {
  await t.startWorker({ hostId: 'host-id-test-a' });
  const project = await t.seedProject(
    [1, 2].map((id) => ({ id, name: `f${id}` })),
    { base: 'hostid' },
  );
  const result = await waitForResult(
    await t.startRun(project, { agent: 'command', agentCmd: [join(repoRoot, 'test/fixtures/agents/echo-host')] }),
    60_000,
  );
  assert.equal(result.outcome, 'complete', result.message);
  const runs = await agentRunsOf(t.db, project, 'coding');
  assert.equal(runs.length, 2);
  for (const run of runs) {
    assert.equal(run.host, 'host-id-test-a');
    assert.match(readFileSync(logFileFor(t.stateDir, run.id), 'utf8'), /agent host: host-id-test-a\n/);
  }

  const workers = await waitUntil('the worker listed as a poller', async () => {
    const live = await liveWorkers(t.client, t.taskQueue);
    return live.length > 0 && live;
  });
  assert.deepEqual(
    workers.map((w) => [w.host, w.maxAgents]),
    [['host-id-test-a', 20]],
  );
  const capacity = capacityOf(workers, 30);
  assert.deepEqual(capacity.hosts, [{ host: 'host-id-test-a', maxAgents: 20, workers: 1 }]);
  assert.equal(capacity.short, true, '20 agents at most, below concurrency 30');
  assert.equal(capacityOf(workers, 20).short, false);
});
