import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AgentRunError,
  adoptAgent,
  isProcessAlive,
  readProcessStartTime,
  readStatusFile,
  spawnAgent,
} from '../../src/supervisor/index.ts';
import type { AgentProcessRef } from '../../src/supervisor/index.ts';
import { fixture, killQuietly, makeTempDir, waitFor } from './helpers.ts';

const tmp = makeTempDir();
after(tmp.cleanup);
let runs = 0;
const logPath = (): string => join(tmp.dir, 'logs', `adopt-${++runs}.log`);

async function failure(promise: Promise<unknown>): Promise<AgentRunError> {
  const err = await promise.then(
    () => assert.fail('expected the run to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AgentRunError, `expected AgentRunError, got ${String(err)}`);
  return err;
}

/** Starts an agent from a separate worker process, then SIGKILLs that worker; returns the last ref. */
async function spawnFromDoomedWorker(argv: string[]): Promise<AgentProcessRef> {
  const worker = spawn(
    process.execPath,
    [new URL('./worker-that-dies.ts', import.meta.url).pathname, logPath(), ...argv],
    {
      cwd: tmp.dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(worker.stdout, 'data')) as [Buffer];
  worker.kill('SIGKILL');
  await once(worker, 'exit');
  return JSON.parse(line.toString('utf8')) as AgentProcessRef;
}

describe('adoptAgent', () => {
  test('an agent whose worker was SIGKILLed keeps running, is adopted by {pid, startTime}, and its exit code is read from the status file', async () => {
    const ref = await spawnFromDoomedWorker([fixture('exit-with'), '7', '1']);
    assert.ok(isProcessAlive(ref.pid, ref.startTime), 'the agent outlives its worker');
    const handle = await adoptAgent(ref, { pollMs: 50 });
    assert.equal(handle.adopted, true);
    assert.equal(handle.state, 'running');
    const err = await failure(handle.wait());
    assert.equal(err.reason, 'exited');
    assert.equal(err.exitCode, 7);
    assert.match(err.outputTail, /exiting with 7/);
    assert.ok(err.durationMs !== null && err.durationMs >= 1000, 'duration from the recorded start and end');
    assert.equal(readStatusFile(ref.statusPath)?.writtenBy, 'launcher');
  });

  test('in one process: spawn, forget the handle, adopt from its JSON ref, and get exit code 0', async () => {
    const spawned = await spawnAgent({ argv: [fixture('exit-with'), '0', '0.5'], cwd: tmp.dir, logPath: logPath() });
    const ref = JSON.parse(JSON.stringify(spawned.ref)) as AgentProcessRef;
    const handle = await adoptAgent(ref, { pollMs: 50 });
    assert.equal(handle.adopted, true);
    const exit = await handle.wait();
    assert.equal(exit.exitCode, 0);
    assert.equal(exit.adopted, true);
  });

  test('an adopted agent can be killed like a spawned one', async () => {
    const ref = await spawnFromDoomedWorker([fixture('ignore-sigterm')]);
    const handle = await adoptAgent(ref, { pollMs: 50 });
    await waitFor('the agent to trap SIGTERM', () =>
      /ignore-sigterm \d+ started/.test(handle.tail()) ? true : undefined,
    );
    const report = await handle.kill('stopped', { graceMs: 200 });
    assert.ok(report.escalated);
    assert.equal(isProcessAlive(ref.pid, ref.startTime), false);
    const err = await failure(handle.wait());
    assert.equal(err.reason, 'stopped');
    assert.equal(err.command, fixture('ignore-sigterm'));
  });

  test('a run that already ended is not adopted; its outcome comes from the status file', async () => {
    const spawned = await spawnAgent({ argv: [fixture('exit-with'), '0'], cwd: tmp.dir, logPath: logPath() });
    await spawned.wait();
    const handle = await adoptAgent(spawned.ref);
    assert.equal(handle.adopted, false);
    const exit = await handle.wait();
    assert.equal(exit.exitCode, 0);
    assert.equal(handle.state, 'exited');
  });

  test('a dead pid with no status file is reported as crashed', async () => {
    const gone = spawn('true');
    const pid = gone.pid!;
    const startTime = readProcessStartTime(pid) ?? 1;
    await once(gone, 'exit');
    const path = logPath();
    const handle = await adoptAgent({ pid, pgid: pid, startTime, logPath: path, statusPath: `${path}.status.json` });
    assert.equal(handle.adopted, false);
    const err = await failure(handle.wait());
    assert.equal(err.reason, 'crashed');
    assert.equal(err.type, 'AgentCrashed');
    assert.equal(existsSync(`${path}.status.json`), false);
  });

  test('a live pid with another start time (pid reuse) is not adopted and not touched', async () => {
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pid = stranger.pid!;
    const startTime = readProcessStartTime(pid)!;
    try {
      const path = logPath();
      const handle = await adoptAgent({
        pid,
        pgid: pid,
        startTime: startTime - 1,
        logPath: path,
        statusPath: `${path}.status.json`,
      });
      assert.equal(handle.adopted, false);
      const err = await failure(handle.wait());
      assert.equal(err.reason, 'crashed');
      assert.deepEqual(err.leftovers, []);
      assert.ok(isProcessAlive(pid, startTime), 'the process that reused the pid is left alone');
    } finally {
      killQuietly([pid]);
    }
  });

  test('a worker that adopts an agent after a crash heartbeats a ref that includes descendants', async () => {
    const pidFile = join(tmp.dir, 'adopt-tree.pids');
    const ref = await spawnFromDoomedWorker([fixture('grandchild'), pidFile]);
    const handle = await adoptAgent(ref, { pollMs: 50 });
    try {
      const known = await waitFor('the tree to be recorded', () => {
        const found = handle.refreshDescendants();
        return found.length >= 5 ? found : undefined;
      });
      assert.equal(handle.ref.knownDescendants?.length, known.length);
    } finally {
      await handle.kill('stopped', { graceMs: 100 });
    }
    assert.equal((await failure(handle.wait())).reason, 'stopped');
  });
});
