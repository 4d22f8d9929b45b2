/**
 * Scenario 1b: the worker SIGKILLed at the worst moment, as the first agent process appears
 * (before the activity could heartbeat or record it). The agents outlive the heartbeat timeout, so
 * the retried activity finds them alive: it must adopt them, not start a second agent beside.
 * Rounds: CHAOS_N_SPAWN_KILL (default 3).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentRunsOf,
  agentStartsIn,
  liveAgentProcesses,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';
import { chaosSuite, repeatCount, report } from './support.ts';

const N = repeatCount('CHAOS_N_SPAWN_KILL', 3);
const suite = chaosSuite(60_000 + N * 120_000);

describe('scenario 1b: worker SIGKILLed as an agent spawns', suite, () => {
  const t = withTemporal({ name: 'chaos-spawn-kill', startWorker: false });

  test(`N=${N}: no agent runs twice`, { timeout: suite.timeout }, async () => {
    let worker = await t.startWorkerProcess();
    let hitBeforeRecord = 0;
    for (let round = 1; round <= N; round++) {
      const project = await t.seedProject(
        [1, 2, 3].map((id) => ({ id, name: `f${id}` })),
        { base: `spawn${round}` },
      );
      const handle = await t.startRun(project, {
        concurrency: 3,
        pollIntervalMs: 500,
        simulate: { default: { action: 'pass', delayMs: 36_000 } },
      });
      // Kill the worker the moment any process of this project exists.
      await waitUntil('an agent process', () => liveAgentProcesses(project).length > 0, {
        timeoutMs: 60_000,
        intervalMs: 1,
      });
      worker.process.kill('SIGKILL');
      await worker.exited;
      if ((await agentRunsOf(t.db, project)).length < 3) hitBeforeRecord++;
      worker = await t.startWorkerProcess();
      const result = await waitForResult(handle, 180_000);
      assert.equal(result.outcome, 'complete', `round ${round}: ${result.message}`);
      const runs = await agentRunsOf(t.db, project, 'coding');
      for (const r of runs) {
        if (!r.log_path) continue;
        assert.equal(
          agentStartsIn(r.log_path),
          1,
          `round ${round}: agent run ${r.id} started one agent process (${r.outcome})`,
        );
      }
      assert.deepEqual(liveAgentProcesses(project), []);
    }
    report('worker-kill-at-spawn', { n: N, killedBeforeAllStartsRecorded: hitBeforeRecord });
  });
});
