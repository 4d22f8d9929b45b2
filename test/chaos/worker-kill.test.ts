/**
 * Scenario 1: SIGKILL the worker (a child process running createAutocoderWorker) while agents
 * run, start a new worker: the run completes, every feature passes exactly once, no feature runs
 * twice at once (agent_runs intervals), no agent process is left, and agents are adopted rather
 * than restarted. N rounds (CHAOS_N_WORKER_KILL, default 10), each on a fresh project, the kill
 * at a different moment of the agents' lives; the new worker of one round is the victim of the
 * next.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isProcessAlive } from '../../src/supervisor/index.ts';
import {
  agentRunsOf,
  agentStartsIn,
  installPassAudit,
  liveAgentProcesses,
  maxOverlap,
  passCounts,
  waitForResult,
  waitUntil,
  withTemporal,
  type ChildWorker,
} from '../support/temporal.ts';
import { chaosSuite, repeatCount, report, sleep, summarize } from './support.ts';

const N = repeatCount('CHAOS_N_WORKER_KILL', 10);

const suite = chaosSuite(60_000 + N * 120_000);

describe('scenario 1: worker SIGKILLed mid-run', suite, () => {
  const t = withTemporal({ name: 'chaos-worker-kill', startWorker: false });

  test(
    `N=${N}: the run completes on a new worker, every feature passes once, agents adopted`,
    { timeout: suite.timeout },
    async () => {
      await installPassAudit(t.db);
      let worker: ChildWorker = await t.startWorkerProcess();
      const completeMs: number[] = [];
      const firstProgressMs: number[] = [];
      let adopted = 0;
      let restarted = 0;
      for (let round = 1; round <= N; round++) {
        const project = await t.seedProject(
          [
            { id: 1, name: 'outlives the heartbeat timeout' },
            { id: 2, name: 'ends while no worker runs' },
            { id: 3, name: 'outlives it too' },
            { id: 4, name: 'after 1', dependencies: [1] },
            { id: 5, name: 'after 2', dependencies: [2] },
            { id: 6, name: 'after 4 and 5', dependencies: [4, 5] },
          ],
          { base: `kill${round}` },
        );
        const handle = await t.startRun(project, {
          concurrency: 3,
          pollIntervalMs: 500,
          simulate: {
            default: { action: 'pass', delayMs: 300 },
            // Longer than the 30 s heartbeat timeout, so the retried activity finds them alive.
            features: {
              1: { action: 'pass', delayMs: 36_000 },
              2: { action: 'pass', delayMs: 3000 },
              3: { action: 'pass', delayMs: 33_000 },
            },
          },
        });
        const atKill = await waitUntil('three agents recorded', async () => {
          const runs = await agentRunsOf(t.db, project);
          return runs.length === 3 && runs.every((r) => r.pid) && runs;
        });
        // A different moment each round: right after the start records, then later into the agents' lives.
        await sleep(((round - 1) * 250) % 2500);
        const killedAt = Date.now();
        worker.process.kill('SIGKILL');
        await worker.exited;
        for (const r of atKill)
          assert.ok(
            isProcessAlive(r.pid!, r.proc_start_time),
            `round ${round}: the agent of #${r.feature_id} outlives its worker`,
          );
        worker = await t.startWorkerProcess();
        const newWorkerAt = Date.now();

        const result = await waitForResult(handle, 180_000);
        const done = Date.now();
        assert.equal(result.outcome, 'complete', `round ${round}: ${result.message}`);
        assert.equal(result.counts.passing, 6, `round ${round}`);
        completeMs.push(done - killedAt);

        const runs = await agentRunsOf(t.db, project, 'coding');
        const progress = runs
          .flatMap((r) => [r.started_at, r.ended_at])
          .filter((d): d is Date => d !== null && d.getTime() >= newWorkerAt);
        if (progress.length) firstProgressMs.push(Math.min(...progress.map((d) => d.getTime())) - newWorkerAt);
        for (const id of [1, 2, 3, 4, 5, 6]) {
          const mine = runs.filter((r) => r.feature_id === id);
          assert.equal(maxOverlap(mine), 1, `round ${round}: #${id} never ran twice at once`);
          assert.ok(
            mine.some((r) => r.outcome === 'passed'),
            `round ${round}: #${id} passed`,
          );
        }
        for (const before of atKill) {
          const mine = runs.filter((r) => r.feature_id === before.feature_id);
          const sameRun =
            mine.length === 1 &&
            mine[0]!.id === before.id &&
            mine[0]!.pid === before.pid &&
            agentStartsIn(mine[0]!.log_path!) === 1;
          if (sameRun) adopted++;
          else restarted++;
        }
        assert.deepEqual(
          await passCounts(t.db, project),
          [
            [1, 1],
            [2, 1],
            [3, 1],
            [4, 1],
            [5, 1],
            [6, 1],
          ],
          `round ${round}: each feature passed once`,
        );
        assert.deepEqual(liveAgentProcesses(project), [], `round ${round}: no agent process left`);
        for (const r of runs)
          assert.equal(
            isProcessAlive(r.pid!, r.proc_start_time),
            false,
            `round ${round}: agent ${r.id} (pid ${r.pid}) is gone`,
          );
      }
      report('worker-kill', {
        n: N,
        adopted,
        restarted,
        killToCompleteMs: summarize(completeMs),
        newWorkerToFirstAgentEventMs: summarize(firstProgressMs),
      });
      assert.equal(restarted, 0, 'agents running at the kill were adopted, none started again');
    },
  );
});
