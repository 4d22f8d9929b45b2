/**
 * The spawn helper (src/supervisor/spawn-helper.ts): launchers are forked by a small helper
 * process, not by the worker; their exits come back over its channel; if the helper dies, running
 * agents are still watched to their end (through /proc and the status file) and the next spawn
 * starts a new helper. `direct` forks from this process as before.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnAgent, type AgentOutcome } from '../../src/supervisor/index.ts';
import { fixture, makeTempDir, waitFor } from './helpers.ts';

const tmp = makeTempDir();
after(tmp.cleanup);
let runs = 0;
const logPath = (): string => join(tmp.dir, 'state', 'logs', `helper-run-${++runs}.log`);
const exitCodeOf = (outcome: AgentOutcome): number | null =>
  outcome.ok ? outcome.exit.exitCode : outcome.error.exitCode;
const parentOf = (pid: number): number =>
  Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

describe('spawn helper', () => {
  test("the launcher is the helper's child, and its exit comes back as it was", async () => {
    const handle = await spawnAgent({ argv: [fixture('exit-with'), '7', '0.3'], cwd: tmp.dir, logPath: logPath() });
    const helper = parentOf(handle.pid);
    assert.notEqual(helper, process.pid, 'forked by the helper, not by this process');
    assert.match(readFileSync(`/proc/${helper}/cmdline`, 'utf8'), /spawn-helper-process\.ts/);
    const outcome = await handle.outcome();
    assert.equal(exitCodeOf(outcome), 7);
    // The same helper serves the next spawn.
    const next = await spawnAgent({ argv: [fixture('exit-with'), '0', '0.3'], cwd: tmp.dir, logPath: logPath() });
    assert.equal(parentOf(next.pid), helper);
    assert.equal((await next.wait()).exitCode, 0);
  });

  test('an agent outlives a killed helper and is still watched to its end; the next spawn starts a new helper', async () => {
    const handle = await spawnAgent({ argv: [fixture('exit-with'), '3', '1.5'], cwd: tmp.dir, logPath: logPath() });
    await waitFor('agent running', () => (handle.state === 'running' ? true : undefined));
    const helper = parentOf(handle.pid);
    process.kill(helper, 'SIGKILL');
    await waitFor('helper gone', () => (parentOf(handle.pid) !== helper ? true : undefined));
    const outcome = await handle.outcome();
    // The exit comes from the launcher's status file now.
    assert.equal(exitCodeOf(outcome), 3);
    const next = await spawnAgent({ argv: [fixture('exit-with'), '0', '0.3'], cwd: tmp.dir, logPath: logPath() });
    const newHelper = parentOf(next.pid);
    assert.notEqual(newHelper, helper);
    assert.notEqual(newHelper, process.pid);
    assert.equal((await next.wait()).exitCode, 0);
  });

  test("direct: the launcher is this process's child", async () => {
    const handle = await spawnAgent({
      argv: [fixture('exit-with'), '4', '0.3'],
      cwd: tmp.dir,
      logPath: logPath(),
      direct: true,
    });
    assert.equal(parentOf(handle.pid), process.pid);
    assert.equal(exitCodeOf(await handle.outcome()), 4);
  });
});
