/**
 * Scenario 1c: SIGKILL the worker while batches run (--batch-size 3, two agents of three features
 * each), start a new worker: each batch stays one agent run, adopted rather than restarted (its
 * log shows one start of its first feature), the run completes, every feature passes exactly
 * once, no agent process is left. N rounds (CHAOS_N_BATCH_KILL, default 3), the kill at a
 * different moment of the batches' lives; the new worker of one round is the victim of the next.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  agentRunsOf,
  installPassAudit,
  liveAgentProcesses,
  passCounts,
  queryStatus,
  waitForResult,
  waitUntil,
  withTemporal,
  type ChildWorker,
} from '../support/temporal.ts';
import { chaosSuite, repeatCount, report, sleep, summarize } from './support.ts';

const N = repeatCount('CHAOS_N_BATCH_KILL', 3);

const suite = chaosSuite(60_000 + N * 150_000);

/** How many times an agent process began work on `featureId` under this log (the simulate agent's line). */
const startsOf = (logPath: string, featureId: number): number =>
  readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`[Feature #${featureId}] simulated coding agent`)).length;

describe('scenario 1c: worker SIGKILLed with batches running', suite, () => {
  const t = withTemporal({ name: 'chaos-batch-kill', startWorker: false });

  test(
    `N=${N}: each batch is one agent run, adopted; the run completes and every feature passes once`,
    { timeout: suite.timeout },
    async () => {
      await installPassAudit(t.db);
      let worker: ChildWorker = await t.startWorkerProcess();
      const completeMs: number[] = [];
      let adopted = 0;
      let restarted = 0;
      for (let round = 1; round <= N; round++) {
        const project = await t.seedProject(
          [
            { id: 1, name: 'a1', category: 'a' },
            { id: 2, name: 'a2', category: 'a', dependencies: [1] },
            { id: 3, name: 'a3', category: 'a', dependencies: [2] },
            { id: 4, name: 'b1', category: 'b' },
            { id: 5, name: 'b2', category: 'b', dependencies: [4] },
            { id: 6, name: 'b3', category: 'b', dependencies: [5] },
            { id: 7, name: 'after both', dependencies: [3, 6] },
          ],
          { base: `bkill${round}` },
        );
        // Each batch's agent works 3 × 12 s: longer than the 30 s heartbeat timeout, so the
        // retried activity finds it alive and adopts it, passing features while no worker runs.
        const handle = await t.startRun(project, {
          concurrency: 2,
          batchSize: 3,
          testingRatio: 0,
          pollIntervalMs: 500,
          simulate: {
            default: { action: 'pass', delayMs: 300 },
            features: Object.fromEntries(
              [1, 2, 3, 4, 5, 6].map((id) => [String(id), { action: 'pass', delayMs: 12_000 }]),
            ),
          },
        });
        const atKill = await waitUntil('two batch agents recorded', async () => {
          const runs = await agentRunsOf(t.db, project);
          return runs.length === 2 && runs.every((r) => r.pid) && runs;
        });
        const status = await queryStatus(handle);
        assert.deepEqual(
          status.running.map((a) => a.featureIds).sort(),
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          `round ${round}: two batches`,
        );
        await sleep(((round - 1) * 7000) % 20_000);
        const killedAt = Date.now();
        worker.process.kill('SIGKILL');
        await worker.exited;
        worker = await t.startWorkerProcess();

        const result = await waitForResult(handle, 240_000);
        assert.equal(result.outcome, 'complete', `round ${round}: ${result.message}`);
        assert.equal(result.counts.passing, 7, `round ${round}`);
        completeMs.push(Date.now() - killedAt);

        const runs = await agentRunsOf(t.db, project, 'coding');
        assert.deepEqual(
          runs.map((r) => r.feature_id).sort(),
          [1, 4, 7],
          `round ${round}: one agent run per batch, then #7`,
        );
        for (const before of atKill) {
          const mine = runs.find((r) => r.id === before.id)!;
          const sameProcess = mine.pid === before.pid && startsOf(mine.log_path!, before.feature_id!) === 1;
          if (sameProcess) adopted++;
          else restarted++;
          assert.equal(mine.outcome, 'passed', `round ${round}: ${mine.id} passed its whole batch`);
        }
        assert.deepEqual(
          await passCounts(t.db, project),
          [1, 2, 3, 4, 5, 6, 7].map((id) => [id, 1]),
          `round ${round}: each feature passed once`,
        );
        assert.deepEqual(liveAgentProcesses(project), [], `round ${round}: no agent process left`);
      }
      report('batch-kill', { n: N, adopted, restarted, killToCompleteMs: summarize(completeMs) });
      assert.equal(restarted, 0, 'batch agents running at the kill were adopted, none started again');
    },
  );
});
