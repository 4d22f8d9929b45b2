/**
 * Scenarios 2 and 3: the Temporal dev server (stopped, started again on the same database file)
 * and Postgres (stopped with pg_ctl, started on the same data directory) restarted mid-run, with
 * agents running, on a private stack. Each run must complete with every feature passed by one
 * agent run, no failure counted (activities retried with backoff), nothing left running.
 * Rounds: CHAOS_N_TEMPORAL_RESTART and CHAOS_N_POSTGRES_RESTART (default 5 each).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { isProcessAlive } from '../../src/supervisor/index.ts';
import {
  agentRunsOf,
  agentStartsIn,
  featureRows,
  liveAgentProcesses,
  maxOverlap,
  waitForResult,
  waitUntil,
} from '../support/temporal.ts';
import { createOwnStack, type OwnStack } from './own-stack.ts';
import { chaosSuite, repeatCount, report, summarize } from './support.ts';

const FEATURES = 6;
const DOWN_MS = 3000;

const suite = chaosSuite(
  60_000 + (repeatCount('CHAOS_N_TEMPORAL_RESTART', 5) + repeatCount('CHAOS_N_POSTGRES_RESTART', 5)) * 90_000 + 180_000,
);

describe('scenarios 2 and 3: server restarts mid-run', suite, () => {
  let s: OwnStack;
  before(async () => {
    s = await createOwnStack('restart');
  });
  after(async () => {
    await s?.close();
  });

  for (const server of ['temporal', 'postgres'] as const) {
    const N = repeatCount(server === 'temporal' ? 'CHAOS_N_TEMPORAL_RESTART' : 'CHAOS_N_POSTGRES_RESTART', 5);
    test(
      `${server} restarted mid-run, N=${N}: every run completes, no failure counted`,
      { timeout: suite.timeout },
      async () => {
        const recoverMs: number[] = [];
        const restartMs: number[] = [];
        for (let round = 1; round <= N; round++) {
          // Two waves of three: the restart hits the first wave while its agents work (they mark
          // their feature after the delay, when the server is back).
          const features = Array.from({ length: FEATURES }, (_, i) => ({
            id: i + 1,
            name: `f${i + 1}`,
            ...(i >= 3 ? { dependencies: [i - 2] } : {}),
          }));
          const project = await s.seedProject(features, `${server}${round}`);
          const handle = await s.startRun(project, {
            concurrency: 3,
            pollIntervalMs: 500,
            simulate: { default: { action: 'pass', delayMs: DOWN_MS + 6000 } },
          });
          await waitUntil(
            'first wave recorded',
            async () => {
              const runs = await agentRunsOf(s.db, project);
              return runs.length === 3 && runs.every((r) => r.pid);
            },
            { timeoutMs: 60_000 },
          );
          const { stoppedAt, upAt } =
            server === 'temporal' ? await s.restartTemporal(DOWN_MS) : await s.restartPostgres(DOWN_MS);
          restartMs.push(upAt - stoppedAt);

          const result = await waitForResult(handle, 180_000);
          assert.equal(result.outcome, 'complete', `round ${round}: ${result.message}`);
          assert.equal(result.counts.passing, FEATURES);
          const runs = await agentRunsOf(s.db, project, 'coding');
          // Recovered: the first agent event (a start or an end) after the server was back.
          const after = runs
            .flatMap((r) => [r.started_at, r.ended_at])
            .filter((d): d is Date => d !== null && d.getTime() >= upAt);
          recoverMs.push(Math.min(...after.map((d) => d.getTime())) - upAt);
          for (const f of features) {
            const mine = runs.filter((r) => r.feature_id === f.id);
            assert.deepEqual(
              mine.map((r) => r.outcome),
              ['passed'],
              `round ${round}: #${f.id} passed by one agent run`,
            );
            assert.equal(maxOverlap(mine), 1);
          }
          const rows = await featureRows(s.db, project);
          assert.deepEqual(
            rows.map((r) => [r.id, r.passes, r.failure_count]),
            features.map((f) => [f.id, true, 0]),
            `round ${round}: no failure counted`,
          );
          assert.deepEqual(result.failures, []);
          assert.deepEqual(liveAgentProcesses(project), []);
          for (const r of runs) assert.equal(isProcessAlive(r.pid!, r.proc_start_time), false);
        }
        report(`${server}-restart`, {
          n: N,
          downMs: DOWN_MS,
          stopToUpMs: summarize(restartMs),
          upToFirstAgentEventMs: summarize(recoverMs),
        });
      },
    );
  }

  // The worst moment for Postgres to go away: after an agent was spawned, at the write that
  // records its start. A restart cannot be timed to hit that window, so a trigger fails exactly
  // that statement once (as a lost connection would), for one agent of the project.
  test(
    'postgres fails at the agent-start write: the retry does not start the agent twice',
    { timeout: suite.timeout },
    async () => {
      await sql`CREATE SEQUENCE IF NOT EXISTS chaos_fail_once`.execute(s.db);
      await sql`CREATE OR REPLACE FUNCTION chaos_fail_agent_start() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.project_id LIKE 'pgwrite-%' THEN
          IF nextval('chaos_fail_once') = 1 THEN
            RAISE EXCEPTION 'chaos: connection lost at the agent-start write' USING ERRCODE = '08006';
          END IF;
        END IF;
        RETURN NEW;
      END $$`.execute(s.db);
      await sql`CREATE OR REPLACE TRIGGER chaos_fail_agent_start BEFORE INSERT ON agent_runs FOR EACH ROW EXECUTE FUNCTION chaos_fail_agent_start()`.execute(
        s.db,
      );
      try {
        const features = [1, 2, 3].map((id) => ({ id, name: `f${id}` }));
        const project = await s.seedProject(features, 'pgwrite');
        const handle = await s.startRun(project, {
          concurrency: 3,
          pollIntervalMs: 500,
          simulate: { default: { action: 'pass', delayMs: 4000 } },
        });
        const result = await waitForResult(handle, 120_000);
        assert.equal(result.outcome, 'complete', result.message);
        const { rows } = await sql<{ n: string }>`SELECT last_value AS n FROM chaos_fail_once`.execute(s.db);
        assert.ok(Number(rows[0]!.n) >= 2, 'the failure was injected');
        const runs = await agentRunsOf(s.db, project, 'coding');
        for (const f of features) {
          const mine = runs.filter((r) => r.feature_id === f.id);
          assert.deepEqual(
            mine.map((r) => r.outcome),
            ['passed'],
            `#${f.id} passed by one agent run`,
          );
          const starts = agentStartsIn(mine[0]!.log_path!);
          assert.equal(starts, 1, `#${f.id}: one agent process started (log ${mine[0]!.log_path})`);
        }
        assert.deepEqual(
          (await featureRows(s.db, project)).map((r) => r.failure_count),
          [0, 0, 0],
        );
        assert.deepEqual(liveAgentProcesses(project), []);
      } finally {
        await sql`DROP TRIGGER IF EXISTS chaos_fail_agent_start ON agent_runs`.execute(s.db);
      }
    },
  );
});
