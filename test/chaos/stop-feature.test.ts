/**
 * Scenario 4: `autocoder stop-feature` on an agent whose tree holds a SIGTERM-ignoring
 * grandchild in its process group and another in a session of its own (setsid): the simulate
 * agent's 'grandchildren' behaviour. N rounds (CHAOS_N_STOP_FEATURE, default 20) in one run; each
 * tree must be dead within the kill grace + 2 s of the signal, and features not stopped go on
 * and pass. Kill times are reported (p50, max). A zombie counts as dead: it runs nothing, and an
 * orphan's zombie waits for pid 1 to reap it, which on some hosts takes a while.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../../src/supervisor/index.ts';
import { agentRunsOf, featureRows, queryStatus, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';
import { chaosSuite, cliEnv, repeatCount, report, runCli, sleep, summarize } from './support.ts';

const N = repeatCount('CHAOS_N_STOP_FEATURE', 20);
const GRACE_MS = 1000;
const PASSING = 5;

/** Live processes of one feature's agent tree: they all carry its agent environment. */
function treeOf(projectId: string, featureId: number): number[] {
  const markers = [`AUTOCODER_PROJECT_ID=${projectId}\0`, `AUTOCODER_FEATURE_ID=${featureId}\0`];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = `${readFileSync(`/proc/${entry}/environ`, 'latin1')}\0`;
    } catch {
      continue;
    }
    if (markers.every((m) => environ.includes(m))) pids.push(Number(entry));
  }
  return pids;
}

/** Session ids of some processes (field 6 of /proc/<pid>/stat). */
function sessionsOf(pids: readonly number[]): Set<number> {
  const sessions = new Set<number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      sessions.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]));
    } catch {
      // gone
    }
  }
  return sessions;
}

const suite = chaosSuite(60_000 + N * 30_000);

describe('scenario 4: stop-feature kills the whole tree', suite, () => {
  const t = withTemporal({ name: 'chaos-stop-feature', startWorker: false });

  test(`N=${N}: tree dead within grace + 2 s, the rest of the run goes on`, { timeout: suite.timeout }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'ac-chaos-stop-'));
    await t.startWorker({ killGraceMs: GRACE_MS });
    // Stopped features (1..N, 'grandchildren') and passing ones interleaved by priority, so
    // passing features run beside the trees being killed.
    const features = [
      ...Array.from({ length: N }, (_, i) => ({ id: i + 1, name: `tree ${i + 1}`, priority: (i + 1) * 10 })),
      ...Array.from({ length: PASSING }, (_, j) => ({
        id: 101 + j,
        name: `goes on ${j + 1}`,
        priority: Math.round(((j + 1) * N * 10) / (PASSING + 1)) + 5,
      })),
    ];
    const project = await t.seedProject(features, { base: 'stopf' });
    const handle = await t.startRun(project, {
      concurrency: 2,
      pollIntervalMs: 500,
      simulate: {
        default: { action: 'grandchildren', delayMs: 0 },
        features: Object.fromEntries(
          features.filter((f) => f.id > 100).map((f) => [String(f.id), { action: 'pass', delayMs: 3000 }]),
        ),
      },
    });
    const env = cliEnv(t, home);
    const killMs: number[] = [];
    const stopMs: number[] = [];
    /** Signal → the first process of the tree gone (the agent itself, on SIGTERM): how late the kill began. */
    const termMs: number[] = [];
    const failures: string[] = [];
    for (let k = 1; k <= N; k++) {
      // The agent, its same-group grandchild and its setsid grandchild: 3 processes in 2+ sessions.
      const tree = await waitUntil(
        `tree of #${k} up`,
        () => {
          const pids = treeOf(project, k);
          return pids.length >= 3 && sessionsOf(pids).size >= 2 && pids;
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      await sleep(200); // let the grandchildren install their SIGTERM handlers
      const sent = Date.now();
      const stopped = await runCli(['stop-feature', String(k), '--project', project], env);
      assert.equal(stopped.code, 0, stopped.stderr);
      const signalled = Date.now();
      let firstDeath = 0;
      await waitUntil(
        `tree of #${k} dead`,
        () => {
          const left = tree.filter((pid) => isProcessAlive(pid)).length;
          if (left < tree.length && !firstDeath) firstDeath = Date.now();
          return left === 0 && treeOf(project, k).length === 0;
        },
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      const dead = Date.now();
      termMs.push(firstDeath - signalled);
      killMs.push(dead - signalled);
      stopMs.push(dead - sent);
      if (dead - signalled > GRACE_MS + 2000) failures.push(`#${k}: ${dead - signalled} ms after the signal`);
    }
    report('stop-feature', {
      n: N,
      graceMs: GRACE_MS,
      sigtermMsFromSignal: summarize(termMs),
      killMsFromSignal: summarize(killMs),
      killMsFromCommandStart: summarize(stopMs),
      late: failures.length,
    });
    assert.deepEqual(failures, [], `trees dead later than grace + 2 s (${GRACE_MS + 2000} ms)`);

    // The rest of the run went on: every feature not stopped passes once, nothing counted as failed.
    await waitUntil(
      'the passing features passed',
      async () => (await featureRows(t.db, project)).filter((f) => f.id > 100 && f.passes).length === PASSING,
      { timeoutMs: 60_000 },
    );
    const status = await queryStatus(handle);
    assert.deepEqual(
      [...status.held].sort((a, b) => a - b),
      Array.from({ length: N }, (_, i) => i + 1),
      'stopped features are held',
    );
    assert.deepEqual(status.failures, []);
    // The outcome is recorded after the tree is dead (the agentRun workflow hears of it, then
    // writes): the last stopped feature's row can still be open when its tree is gone.
    const runs = await waitUntil(
      'every agent run recorded its outcome',
      async () => {
        const all = await agentRunsOf(t.db, project, 'coding');
        return all.length === features.length && all.every((r) => r.outcome !== null) && all;
      },
      { timeoutMs: 30_000 },
    );
    for (const f of features) {
      const mine = runs.filter((r) => r.feature_id === f.id);
      assert.deepEqual(
        mine.map((r) => r.outcome),
        [f.id > 100 ? 'passed' : 'stopped'],
        `#${f.id} ran once`,
      );
    }
    // An agent started before a feature was stopped may claim it as its next (its exclude list
    // predates the stop); the run gives such a claim back as soon as the agent's report or a pass
    // shows it: wait for that, bounded.
    const rows = await waitUntil('no claim left', async () => {
      const all = await featureRows(t.db, project);
      return all.every((r) => r.claimed_by === null) && all;
    });
    assert.deepEqual(
      rows.filter((r) => r.failure_count !== 0).map((r) => [r.id, r.failure_count]),
      [],
      'no failure counted',
    );
    const result = await waitForResult(handle, 30_000);
    assert.equal(result.counts.passing, PASSING, result.message);
    rmSync(home, { recursive: true, force: true });
  });
});
