/**
 * The rule that names a run's ending: the state the handle is in when the launcher ends decides.
 * A kill under way (stopping) gives its own reason whatever the agent's exit code; otherwise the
 * exit the launcher recorded decides. No timestamps are compared.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import {
  AgentHandle,
  AgentRunError,
  LAUNCHER_PATH,
  readProcessStartTime,
  readStatusFile,
  spawnAgent,
} from '../../src/supervisor/index.ts';
import type { LauncherEnd } from '../../src/supervisor/handle.ts';
import { fixture, livePids, makeTempDir, waitFor } from './helpers.ts';

const tmp = makeTempDir();
after(tmp.cleanup);
let runs = 0;
const logPath = (): string => join(tmp.dir, 'logs', `reason-${++runs}.log`);

// Exits 0 on SIGTERM, as a well-behaved agent does: only the handle's state can tell "stopped".
const EXITS_0_ON_SIGTERM = ['/bin/sh', '-c', 'trap "exit 0" TERM; echo "polite $$ up"; while :; do sleep 0.05; done'];

async function failure(promise: Promise<unknown>): Promise<AgentRunError> {
  const err = await promise.then(
    () => assert.fail('expected the run to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AgentRunError, `expected AgentRunError, got ${String(err)}`);
  return err;
}

describe('the exit reason comes from the state the launcher ends in', () => {
  test('kill() while running: stopped, although the agent exited 0 on SIGTERM', async () => {
    const handle = await spawnAgent({ argv: EXITS_0_ON_SIGTERM, cwd: tmp.dir, logPath: logPath() });
    await waitFor('the agent to trap SIGTERM', () => (/polite \d+ up/.test(handle.tail()) ? true : undefined));
    const kill = handle.kill('stopped', { graceMs: 2000 });
    assert.equal(handle.state, 'stopping');
    const report = await kill;
    assert.equal(report.escalated, false, 'it ended on SIGTERM');
    const err = await failure(handle.wait());
    assert.equal(err.reason, 'stopped');
    assert.equal(err.exitCode, 0, 'the recorded exit is kept; it just does not decide');
    assert.equal(readStatusFile(handle.statusPath)?.exitCode, 0);
    assert.equal(handle.state, 'exited');
  });

  test('timeoutMs: timed_out, although the agent exited 0 on SIGTERM', async () => {
    const handle = await spawnAgent({
      argv: EXITS_0_ON_SIGTERM,
      cwd: tmp.dir,
      logPath: logPath(),
      timeoutMs: 500,
      graceMs: 2000,
    });
    const err = await failure(handle.wait());
    assert.equal(err.reason, 'timed_out');
    assert.equal(err.type, 'AgentTimedOut');
    assert.equal(err.exitCode, 0);
    assert.deepEqual(livePids([handle.pid]), []);
  });

  test('no kill: the recorded exit decides (code 3 is exited, code 0 is success)', async () => {
    const failed = await spawnAgent({ argv: [fixture('exit-with'), '3'], cwd: tmp.dir, logPath: logPath() });
    const err = await failure(failed.wait());
    assert.equal(err.reason, 'exited');
    assert.equal(err.exitCode, 3);
    const passed = await spawnAgent({ argv: [fixture('exit-with'), '0'], cwd: tmp.dir, logPath: logPath() });
    assert.equal((await passed.wait()).exitCode, 0);
  });

  test('a kill asked for after the agent ended, before its launcher is seen gone, does not decide', async () => {
    // The launcher is started here and its end is handed to the handle only when the test says,
    // so the kill lands in the window between the agent's recorded exit and the launcher's end.
    const log = logPath();
    const statusPath = `${log}.status.json`;
    const launcher = spawn('/bin/sh', [LAUNCHER_PATH, statusPath, fixture('exit-with'), '0'], {
      cwd: tmp.dir,
      detached: true,
      stdio: 'ignore',
    });
    const pid = launcher.pid!;
    const startTime = readProcessStartTime(pid)!;
    const launcherExit = once(launcher, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let release!: (end: LauncherEnd) => void;
    const launcherGone = new Promise<LauncherEnd>((resolve) => (release = resolve));
    const handle = new AgentHandle(
      {
        ref: { pid, pgid: pid, startTime, logPath: log, statusPath },
        command: fixture('exit-with'),
        adopted: false,
        startedAtMs: Date.now(),
        launcherGone,
      },
      {},
    );
    await waitFor('the launcher to record the exit', () => readStatusFile(statusPath) ?? undefined);
    const kill = handle.kill('timed_out', { graceMs: 100 });
    assert.equal(handle.state, 'stopping', 'ending: what is left of the tree is being killed');
    const [code, signal] = await launcherExit;
    release({ code, signal });
    assert.deepEqual((await kill).killed, [], 'nothing was signalled for this kill');
    const exit = await handle.wait();
    assert.equal(exit.exitCode, 0);
    assert.equal(handle.state, 'exited');
  });
});
