/**
 * Two hosts on one machine (issue 23): two worker processes with distinct host ids and state dirs
 * on one task queue. Each agent run picks a host with a free slot and stays on that host's queue.
 * - A lost host: host A's worker is SIGKILLed and some of its agents with it, the others live on
 *   (stale). After --host-lost-after its agents end host_lost, not a failure, and their features
 *   run again on B. A stale agent's late `feature pass` is refused by the fence, and A's next
 *   worker reaps it. No feature passes twice or is claimed twice at once.
 * - A drain (SIGTERM, as Kubernetes stops a pod): A's agents end host_drained and run again on B,
 *   no failure counted.
 * - A DAG of HOSTS_DAG_FEATURES features (default 200) at concurrency 20 completes with agents on
 *   both hosts.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../../src/supervisor/index.ts';
import {
  agentRunsOf,
  featureRows,
  installPassAudit,
  liveAgentProcesses,
  maxOverlap,
  passCounts,
  waitForResult,
  waitUntil,
  withTemporal,
  type ChildWorker,
} from '../support/temporal.ts';
import { repeatCount, report, runCli, sleep } from '../chaos/support.ts';
import { commitAll, run, worktreeIsolation } from '../git/repo.ts';
import { statusQuery } from '../../src/workflows/messages.ts';

const DAG_FEATURES = repeatCount('HOSTS_DAG_FEATURES', 200);
// Part of every `npm test` (about 3.5 minutes on 2 cores), not only of the chaos suite.
const suite = { timeout: 600_000 };

/** The environment an agent process was started with (its launcher's), from /proc. */
function environOf(pid: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

describe('two hosts on one machine', suite, () => {
  const t = withTemporal({ name: 'chaos-hosts', startWorker: false });
  const stateDirs: string[] = [];
  const hostDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-host-'));
    stateDirs.push(dir);
    return dir;
  };
  const workers: ChildWorker[] = [];
  const host = async (options: { hostId: string; stateDir: string; maxAgents: number }) => {
    const worker = await t.startWorkerProcess(options);
    workers.push(worker);
    return worker;
  };
  // Each scenario has its hosts to itself: the ones before are gone.
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.process.kill('SIGKILL');
      await w.exited;
    }
  });
  const features = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `f${i + 1}` }));

  test('a lost host: its agents end host_lost and run again on the other; a stale agent is fenced and reaped', async () => {
    await installPassAudit(t.db);
    const dirA = hostDir();
    let a: ChildWorker = await host({ hostId: 'host-a', stateDir: dirA, maxAgents: 3 });
    const project = await t.seedProject(features(6), { base: 'lost' });
    const handle = await t.startRun(project, {
      concurrency: 6,
      maxConcurrency: 6,
      hostLostAfterMs: 4000,
      pollIntervalMs: 500,
      // Long enough that the stale agent still lives when its feature has run again elsewhere.
      simulate: { default: { action: 'pass', delayMs: 30_000 } },
    });
    // Host A fills its 3 slots first; then host B joins and takes the rest.
    const onA = await waitUntil('host A runs 3 agents', async () => {
      const runs = (await agentRunsOf(t.db, project)).filter((r) => r.host === 'host-a' && r.pid);
      return runs.length === 3 && runs;
    });
    // Frozen, A's agents still live but cannot finish: on a loaded machine B's start, A's loss and
    // the re-claim have outlasted their 30 s of work, and a pass made while the run still owned
    // the claim is rightly accepted. SIGKILL and the reaper's kill work on a stopped process.
    for (const r of onA) process.kill(-r.pgid!, 'SIGSTOP');
    await host({ hostId: 'host-b', stateDir: hostDir(), maxAgents: 10 });
    await waitUntil('host B runs the other 3', async () => {
      const runs = (await agentRunsOf(t.db, project)).filter((r) => r.host === 'host-b' && r.pid);
      return runs.length === 3;
    });

    // Host A goes: its worker, and two of its agents. The third lives on, stale.
    const [stale, ...lost] = onA as [(typeof onA)[number], ...typeof onA];
    a.process.kill('SIGKILL');
    await a.exited;
    for (const r of lost) process.kill(-r.pgid!, 'SIGKILL');
    const lostAt = Date.now();
    await waitUntil(
      "A's agent runs end host_lost",
      async () => {
        const runs = await agentRunsOf(t.db, project);
        return onA.every((r) => runs.find((x) => x.id === r.id)?.outcome === 'host_lost');
      },
      { timeoutMs: 60_000 },
    );
    const hostLostMs = Date.now() - lostAt;
    // Each of A's features runs again on B under a new claim (on a loaded machine this has taken
    // over a minute: the run's and the new agents' tasks first wait out A's sticky queues).
    await waitUntil(
      "A's features claimed again on host B",
      async () => {
        const runs = await agentRunsOf(t.db, project);
        return onA.every((r) => runs.some((x) => x.feature_id === r.feature_id && x.host === 'host-b' && x.pid));
      },
      { timeoutMs: 150_000 },
    ).catch(async (err: Error) => {
      // What the run and the store looked like, for the next one who reads this failure.
      const runs = (await agentRunsOf(t.db, project)).map((r) => [r.id, r.host, r.pid, r.outcome]);
      const claims = (await featureRows(t.db, project)).map((f) => [f.id, f.claimed_by, f.passes]);
      const status = await handle.query(statusQuery).catch((e: Error) => e.message);
      throw new Error(
        `${err.message}\nruns ${JSON.stringify(runs)}\nclaims ${JSON.stringify(claims)}\nstatus ${JSON.stringify(status)}`,
      );
    });

    // The stale agent still lives; its late pass is refused: its run no longer owns the claim.
    assert.ok(isProcessAlive(stale.pid!, stale.proc_start_time), 'the stale agent outlived its worker');
    const late = await runCli(['feature', 'pass', String(stale.feature_id)], {
      ...environOf(stale.pid!),
      NODE_TEST_CONTEXT: undefined,
    });
    assert.notEqual(late.code, 0, `the stale pass was refused: ${late.stdout}`);
    assert.match(late.stderr, /is not held by agent run/, late.stderr);
    assert.equal((await featureRows(t.db, project)).find((f) => f.id === stale.feature_id)?.passes, false);

    // Host A's worker comes back: it reaps the stale agent.
    a = await host({ hostId: 'host-a', stateDir: dirA, maxAgents: 3 });
    await waitUntil('the stale agent is reaped', async () => !isProcessAlive(stale.pid!, stale.proc_start_time), {
      timeoutMs: 20_000,
    });

    const result = await waitForResult(handle, 180_000);
    assert.equal(result.outcome, 'complete', result.message);
    const rows = await featureRows(t.db, project);
    assert.ok(
      rows.every((f) => f.passes && f.failure_count === 0),
      'every feature passed, no failure counted',
    );
    assert.deepEqual(
      (await passCounts(t.db, project)).map(([, n]) => n),
      [1, 1, 1, 1, 1, 1],
      'each feature passed once',
    );
    const runs = await agentRunsOf(t.db, project, 'coding');
    for (const f of rows) {
      assert.equal(maxOverlap(runs.filter((r) => r.feature_id === f.id)), 1, `#${f.id} claimed once at a time`);
    }
    assert.deepEqual(liveAgentProcesses(project), []);
    report('hosts-lost', { hostLostAfterMs: 4000, killToHostLostMs: hostLostMs, features: rows.length });
  });

  test('a drain (SIGTERM): the host stops its agents, they end host_drained and run again elsewhere', async () => {
    const a = await host({ hostId: 'host-c', stateDir: hostDir(), maxAgents: 2 });
    const project = await t.seedProject(features(4), { base: 'drain' });
    const handle = await t.startRun(project, {
      concurrency: 4,
      maxConcurrency: 4,
      pollIntervalMs: 500,
      simulate: { default: { action: 'pass', delayMs: 8000 } },
    });
    const onA = await waitUntil('host C runs 2 agents', async () => {
      const runs = (await agentRunsOf(t.db, project)).filter((r) => r.host === 'host-c' && r.pid);
      return runs.length === 2 && runs;
    });
    await host({ hostId: 'host-d', stateDir: hostDir(), maxAgents: 10 });
    const drainedAt = Date.now();
    a.process.kill('SIGTERM');
    await a.exited;
    const drainMs = Date.now() - drainedAt;
    for (const r of onA) assert.equal(isProcessAlive(r.pid!, r.proc_start_time), false, `${r.id} was stopped`);

    const result = await waitForResult(handle, 120_000);
    assert.equal(result.outcome, 'complete', result.message);
    const runs = await agentRunsOf(t.db, project, 'coding');
    for (const r of onA) assert.equal(runs.find((x) => x.id === r.id)?.outcome, 'host_drained', r.id);
    for (const r of onA)
      assert.ok(
        runs.some((x) => x.feature_id === r.feature_id && x.host === 'host-d' && x.outcome === 'passed'),
        `#${r.feature_id} ran again on host-d: ${JSON.stringify(runs.map((x) => [x.id, x.host, x.outcome]))}`,
      );
    assert.ok(
      (await featureRows(t.db, project)).every((f) => f.passes && f.failure_count === 0),
      'no failure counted',
    );
    report('hosts-drain', { workerExitAfterSigtermMs: drainMs });
  });

  test(`a ${DAG_FEATURES}-feature DAG at concurrency 20 completes across both hosts`, async () => {
    await host({ hostId: 'host-e', stateDir: hostDir(), maxAgents: 10 });
    await host({ hostId: 'host-f', stateDir: hostDir(), maxAgents: 10 });
    // Layers of 20, each feature depending on two of the layer above.
    const dag = Array.from({ length: DAG_FEATURES }, (_, i) => {
      const id = i + 1;
      const above = id - 20;
      return { id, name: `f${id}`, ...(above >= 1 ? { dependencies: [above, Math.max(1, above - 1)] } : {}) };
    });
    const project = await t.seedProject(dag, { base: 'dag' });
    // HOSTS_DAG_WORKTREE=1: as a real run across hosts goes, in worktree isolation with host-e
    // holding the project dir, host-f working in its clone, every feature landed on main by the
    // merge queue (about twice the time and CPU; hosts-git.test.ts covers the path in every run).
    const worktree = process.env.HOSTS_DAG_WORKTREE === '1';
    const dir = t.projectDir(project);
    if (worktree) {
      run(dir, 'init', '--quiet', '--initial-branch=main');
      writeFileSync(join(dir, 'README.md'), 'dag\n');
      commitAll(dir, 'initial');
    }
    const started = Date.now();
    const result = await waitForResult(
      await t.startRun(project, {
        concurrency: 20,
        maxConcurrency: 20,
        maxAgents: 20,
        pollIntervalMs: 500,
        ...(worktree ? { homeHost: 'host-e', isolation: worktreeIsolation() } : {}),
        simulate: { default: { action: 'pass', delayMs: [50, 400] } },
      }),
      480_000,
    );
    assert.equal(result.outcome, 'complete', result.message);
    assert.equal(result.counts.passing, DAG_FEATURES);
    if (worktree) {
      const landed = run(dir, 'ls-tree', '--name-only', 'main', 'simulated/').trim().split('\n');
      assert.equal(landed.length, DAG_FEATURES, 'every feature landed on main');
      assert.equal(run(dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').trim(), 'main');
    }
    const runs = await agentRunsOf(t.db, project, 'coding');
    const perHost = new Map<string, number>();
    for (const r of runs) perHost.set(r.host ?? '?', (perHost.get(r.host ?? '?') ?? 0) + 1);
    assert.ok((perHost.get('host-e') ?? 0) > 0 && (perHost.get('host-f') ?? 0) > 0, JSON.stringify([...perHost]));
    report('hosts-dag', {
      features: DAG_FEATURES,
      isolation: worktree ? 'worktree' : 'shared',
      wallMs: Date.now() - started,
      agentsPerHost: Object.fromEntries(perHost),
    });
  });

  test('cleanup', async () => {
    await sleep(0);
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  });
});
