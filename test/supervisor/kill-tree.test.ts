import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_GRACE_MS,
  collectTree,
  isProcessAlive,
  listProcesses,
  killTree,
  readProcessStartTime,
  spawnAgent,
} from '../../src/supervisor/index.ts';
import { fixture, killQuietly, livePids, makeTempDir, percentile, waitFor, waitForTreePids } from './helpers.ts';

const tmp = makeTempDir();
after(tmp.cleanup);
let runs = 0;

/** Spawns the grandchild fixture under the supervisor and waits until all five processes are up. */
async function startTree(): Promise<{
  handle: Awaited<ReturnType<typeof spawnAgent>>;
  pids: number[];
  roles: Record<string, number>;
}> {
  const n = ++runs;
  const pidFile = join(tmp.dir, `tree-${n}.pids`);
  const handle = await spawnAgent({
    argv: [fixture('grandchild'), pidFile],
    cwd: tmp.dir,
    logPath: join(tmp.dir, `tree-${n}.log`),
  });
  const roles = await waitForTreePids(pidFile);
  return { handle, roles, pids: [handle.pid, ...Object.values(roles)] };
}

/** Kills a started tree through its handle; returns how long until every process was gone. */
async function killAndMeasure(graceMs: number): Promise<number> {
  const { handle, pids, roles } = await startTree();
  try {
    const started = performance.now();
    const report = await handle.kill('stopped', { graceMs });
    await waitFor(
      'every process of the tree to be gone',
      () => (livePids(pids).length === 0 ? true : undefined),
      graceMs + 1000,
    );
    const elapsed = performance.now() - started;
    assert.ok(report.escalated, 'the SIGTERM-ignoring grandchildren need SIGKILL');
    for (const pid of pids) assert.ok(report.killed.includes(pid), `pid ${pid} was signalled`);
    assert.ok(roles['grandchild-of-setsid-child'] !== undefined);
    assert.ok(elapsed <= graceMs + 1000, `tree gone in ${elapsed.toFixed(0)} ms, allowed ${graceMs + 1000}`);
    const err = await handle.wait().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err && typeof err === 'object' && 'reason' in err && err.reason === 'stopped');
    return elapsed;
  } finally {
    killQuietly(livePids(pids));
  }
}

describe('killTree', () => {
  test('a 3-level tree with a setsid child and SIGTERM-ignoring grandchildren dies within grace + 1 s, 20 times in a row', async () => {
    const graceMs = 300;
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await killAndMeasure(graceMs));
    console.log(
      `tree kill, grace ${graceMs} ms, 20 runs: p50 ${percentile(times, 50).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`,
    );
  });

  test('at the default grace the tree is gone within grace + 1 s', async () => {
    const elapsed = await killAndMeasure(DEFAULT_GRACE_MS);
    assert.ok(elapsed >= DEFAULT_GRACE_MS, 'SIGKILL waits for the grace period');
    console.log(`tree kill, default grace ${DEFAULT_GRACE_MS} ms: ${elapsed.toFixed(0)} ms`);
  });

  test("negative control: a plain SIGTERM to the parent leaves the fixture's descendants running", async () => {
    const pidFile = join(tmp.dir, 'negative.pids');
    const parent = spawn(fixture('grandchild'), [pidFile], { detached: true, stdio: 'ignore' });
    const roles = await waitForTreePids(pidFile);
    const descendants = Object.entries(roles)
      .filter(([role]) => role !== 'parent')
      .map(([, pid]) => pid);
    const known = descendants.map((pid) => ({ pid, startTime: readProcessStartTime(pid) ?? -1 }));
    try {
      process.kill(parent.pid!, 'SIGTERM');
      await waitFor('the parent to die', () => (isProcessAlive(parent.pid!) ? undefined : true));
      await sleep(300);
      assert.deepEqual(livePids(descendants), descendants, 'children and grandchildren outlive their parent');
    } finally {
      // Clean-up is itself a check: only the recorded descendants lead back to these orphans.
      const report = await killTree({ pid: parent.pid!, knownDescendants: known }, { graceMs: 200 });
      assert.deepEqual(livePids(descendants), []);
      assert.deepEqual(
        report.killed,
        [...descendants].sort((a, b) => a - b),
      );
    }
  });

  test('an orphan that left the session is still killed when the handle recorded it before its parent died', async () => {
    const { handle, roles, pids } = await startTree();
    try {
      const orphan = roles['grandchild-of-setsid-child']!;
      handle.refreshDescendants();
      // Its parent dies: it is re-parented to init, outside the launcher's session and group.
      process.kill(roles['setsid-child']!, 'SIGKILL');
      await waitFor('the setsid child to die', () => (isProcessAlive(roles['setsid-child']!) ? undefined : true));
      // Without the record, nothing leads from the launcher to the orphan (the documented limit).
      const walked = collectTree(listProcesses(), { pid: handle.pid, startTime: handle.startTime });
      assert.ok(walked.has(roles['grandchild-of-child']!), 'the walk does find the rest of the tree');
      assert.ok(!walked.has(orphan), 'an unrecorded orphan is out of reach of a walk from the launcher');
      const report = await handle.kill('stopped', { graceMs: 100 });
      assert.ok(report.killed.includes(orphan));
      assert.equal(isProcessAlive(orphan), false, 'recorded orphan is killed');
    } finally {
      killQuietly(livePids(pids));
    }
  });

  test('a tree that honours SIGTERM ends without SIGKILL, long before the grace period', async () => {
    const handle = await spawnAgent({ argv: [fixture('forever')], cwd: tmp.dir, logPath: join(tmp.dir, 'polite.log') });
    await waitFor('the agent to start', () => (/started/.test(handle.tail()) ? true : undefined));
    const report = await handle.kill('stopped', { graceMs: 5000 });
    assert.equal(report.escalated, false);
    assert.ok(report.durationMs < 1000, `took ${report.durationMs} ms`);
  });

  test('a recorded descendant whose pid now has another start time is never signalled', async () => {
    const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pid = bystander.pid!;
    const startTime = readProcessStartTime(pid)!;
    try {
      // A dead root whose group is the bystander's own pid, and a stale record of that pid.
      const report = await killTree(
        { pid, startTime: startTime + 1, knownDescendants: [{ pid, startTime: startTime + 1 }] },
        { graceMs: 100 },
      );
      assert.deepEqual(report.killed, []);
      assert.equal(isProcessAlive(pid, startTime), true);
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  test("refuses to kill the worker's own process group", async () => {
    const ownGroup = Number(
      (await import('node:fs')).readFileSync('/proc/self/stat', 'latin1').split(') ')[1]?.split(' ')[2],
    );
    await assert.rejects(killTree({ pid: 999_999_999, pgid: ownGroup }), TypeError);
  });
});
