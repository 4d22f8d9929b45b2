import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentRunError, readStatusFile, spawnAgent } from '../../src/supervisor/index.ts';
import { fixture, livePids, makeTempDir, waitFor } from './helpers.ts';

const tmp = makeTempDir();
after(tmp.cleanup);
let runs = 0;
const logPath = (): string => join(tmp.dir, 'state', 'logs', `run-${++runs}.log`);

async function rejection(promise: Promise<unknown>): Promise<AgentRunError> {
  const err = await promise.then(
    () => assert.fail('expected the run to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AgentRunError, `expected AgentRunError, got ${String(err)}`);
  return err;
}

describe('spawnAgent', () => {
  test('an agent that exits 0 resolves wait() with its exit, output in the log and the tail', async () => {
    const handle = await spawnAgent({ argv: [fixture('exit-with'), '0', '0.3'], cwd: tmp.dir, logPath: logPath() });
    // The sh launcher starts the agent within a millisecond or two, so either state may be seen.
    assert.ok(handle.state === 'spawning' || handle.state === 'running', handle.state);
    await waitFor('state running', () => (handle.state === 'running' ? true : undefined));
    assert.equal(handle.pgid, handle.pid);
    const exit = await handle.wait();
    assert.equal(handle.state, 'exited');
    assert.equal(exit.exitCode, 0);
    assert.equal(exit.adopted, false);
    assert.deepEqual(exit.leftovers, []);
    const log = readFileSync(handle.logPath, 'utf8');
    assert.match(log, /exit-with: stdout line, exiting with 0/);
    assert.match(log, /exit-with: stderr line/);
    assert.match(handle.tail(), /exit-with: stderr line/);
  });

  test('the launcher records the exit in the status file, atomically and with the agent pid', async () => {
    const handle = await spawnAgent({ argv: [fixture('exit-with'), '5'], cwd: tmp.dir, logPath: logPath() });
    await handle.outcome();
    assert.equal(handle.statusPath, `${handle.logPath}.status.json`);
    const status = readStatusFile(handle.statusPath);
    assert.ok(status);
    assert.equal(status.writtenBy, 'launcher');
    assert.equal(status.exitCode, 5);
    assert.equal(status.signal, null);
    assert.ok(Number.isInteger(status.agentPid) && status.agentPid !== handle.pid);
    assert.ok(Date.parse(status.endedAt) >= Date.parse(status.startedAt));
  });

  test('a non-zero exit rejects with AgentRunError carrying code, command, pid, duration and tail', async () => {
    const handle = await spawnAgent({ argv: [fixture('exit-with'), '3'], cwd: tmp.dir, logPath: logPath() });
    const err = await rejection(handle.wait());
    assert.equal(err.reason, 'exited');
    assert.equal(err.type, 'AgentExited');
    assert.equal(err.exitCode, 3);
    assert.equal(err.signal, null);
    assert.equal(err.command, fixture('exit-with'));
    assert.equal(err.pid, handle.pid);
    assert.ok(err.durationMs !== null && err.durationMs >= 0);
    assert.match(err.outputTail, /exit-with: stderr line/);
    assert.match(err.message, /exited with code 3/);
  });

  test('the tail is bounded in bytes and lines, and ends with the last output', async () => {
    const handle = await spawnAgent({
      argv: [fixture('flood-stdout'), String(2 * 1024 * 1024)],
      cwd: tmp.dir,
      logPath: logPath(),
    });
    await handle.wait();
    const tail = handle.tail({ maxBytes: 4096, maxLines: 10 });
    assert.ok(Buffer.byteLength(tail) <= 4096);
    assert.ok(tail.trimEnd().split('\n').length <= 10);
    assert.match(tail, /flood-stdout \d+ done/);
    assert.ok(Buffer.byteLength(handle.tail()) <= 64 * 1024);
  });

  test('an argv[0] that does not exist fails as crashed, with the reason in the log', async () => {
    const handle = await spawnAgent({ argv: [join(tmp.dir, 'no-such-agent')], cwd: tmp.dir, logPath: logPath() });
    const err = await rejection(handle.wait());
    assert.equal(err.reason, 'crashed');
    assert.match(err.message, /not found/);
    assert.match(readFileSync(handle.logPath, 'utf8'), /no-such-agent.*not found/);
  });

  test('a missing cwd rejects spawnAgent itself', async () => {
    const err = await rejection(
      spawnAgent({ argv: [fixture('forever')], cwd: join(tmp.dir, 'missing'), logPath: logPath() }),
    );
    assert.equal(err.reason, 'crashed');
    assert.match(err.message, /ENOENT|missing/);
  });

  test('timeoutMs kills the tree and fails with timed_out', async () => {
    const handle = await spawnAgent({
      argv: [fixture('ignore-sigterm')],
      cwd: tmp.dir,
      logPath: logPath(),
      timeoutMs: 300,
      graceMs: 200,
    });
    const err = await rejection(handle.wait());
    assert.equal(err.reason, 'timed_out');
    assert.equal(err.type, 'AgentTimedOut');
    assert.deepEqual(livePids([handle.pid]), []);
    assert.match(readFileSync(handle.logPath, 'utf8'), /got SIGTERM, carrying on/);
  });

  test('an abort signal kills the tree and fails with stopped', async () => {
    const controller = new AbortController();
    const handle = await spawnAgent({
      argv: [fixture('forever')],
      cwd: tmp.dir,
      logPath: logPath(),
      signal: controller.signal,
    });
    await sleep(200);
    controller.abort();
    const err = await rejection(handle.wait());
    assert.equal(err.reason, 'stopped');
    assert.equal(handle.state, 'exited');
    assert.deepEqual(livePids([handle.pid]), []);
  });

  test('a kill while still spawning leaves nothing behind, and a custom status path gets the status', async () => {
    const statusPath = join(tmp.dir, 'elsewhere', 'status.json');
    const handle = await spawnAgent({ argv: [fixture('forever')], cwd: tmp.dir, logPath: logPath(), statusPath });
    assert.ok(handle.state === 'spawning' || handle.state === 'running', handle.state);
    await handle.kill('stopped', { graceMs: 1000 });
    const err = await rejection(handle.wait());
    assert.equal(err.reason, 'stopped');
    assert.deepEqual(livePids([handle.pid]), []);
    assert.ok(readStatusFile(statusPath), 'written by the launcher or, if it died first, by the supervisor');
  });

  test('SIGTERM to the process group ends the agent by that signal; the launcher outlives it and records it', async () => {
    const handle = await spawnAgent({ argv: [fixture('forever')], cwd: tmp.dir, logPath: logPath() });
    await waitFor('the agent to start', () => (/forever \d+ started/.test(handle.tail()) ? true : undefined));
    process.kill(-handle.pgid, 'SIGTERM');
    const err = await rejection(handle.wait());
    assert.equal(err.reason, 'exited');
    assert.equal(err.signal, 'SIGTERM');
  });

  test("an agent killed behind the launcher's back is crashed, and the agent is not left running", async () => {
    const handle = await spawnAgent({ argv: [fixture('forever')], cwd: tmp.dir, logPath: logPath() });
    const agentPid = await waitFor(
      'the agent pid',
      () => Number(/forever (\d+) started/.exec(handle.tail())?.[1]) || undefined,
    );
    process.kill(handle.pid, 'SIGKILL'); // the launcher alone: it cannot record anything
    const err = await rejection(handle.wait());
    assert.equal(err.reason, 'crashed');
    assert.deepEqual(err.leftovers, [agentPid]);
    assert.deepEqual(livePids([agentPid]), []);
  });

  test('processes an agent leaves behind when it exits are killed and reported', async () => {
    const handle = await spawnAgent({
      argv: ['/bin/sh', '-c', 'sleep 1000 & echo "left $!"; exit 0'],
      cwd: tmp.dir,
      logPath: logPath(),
      leftoverGraceMs: 500,
    });
    const exit = await handle.wait();
    const leftPid = Number(/left (\d+)/.exec(handle.tail())?.[1]);
    assert.deepEqual(exit.leftovers, [leftPid]);
    assert.deepEqual(livePids([leftPid]), []);
  });

  test('the agent gets the given env over a minimal inherited one, and nothing else of the worker', async () => {
    process.env.AUTOCODER_TEST_WORKER_SECRET = 'must-not-leak';
    const handle = await spawnAgent({
      argv: ['env'],
      cwd: tmp.dir,
      logPath: logPath(),
      env: { AUTOCODER_PROJECT_ID: 'demo', NODE_OPTIONS: '--max-old-space-size=100', HOME: '/nowhere' },
    });
    await handle.wait();
    delete process.env.AUTOCODER_TEST_WORKER_SECRET;
    const log = readFileSync(handle.logPath, 'utf8');
    assert.match(log, /^AUTOCODER_PROJECT_ID=demo$/m);
    assert.match(log, /^NODE_OPTIONS=--max-old-space-size=100$/m);
    assert.match(log, /^HOME=\/nowhere$/m);
    assert.match(log, /^PATH=/m);
    assert.doesNotMatch(log, /must-not-leak|AUTOCODER_AGENT_NODE_OPTIONS/);
  });

  // The payloads aim at files in the temp dir rather than at `~`: if the supervisor ever did run
  // a shell, this test must fail without doing harm.
  test('shell metacharacters in argv, env, cwd and log path execute nothing', async () => {
    const marker = (n: number): string => join(tmp.dir, `marker-${n}`);
    const victim = join(tmp.dir, 'victim');
    writeFileSync(victim, 'still here');
    // A file name cannot hold '/', so this one's payload is relative (checked in both dirs below).
    const evilDir = join(tmp.dir, `$(touch marker-1); echo '"\n`);
    mkdirSync(evilDir);
    const args = [
      `$(touch ${marker(2)})`,
      `; rm -f ${victim}`,
      `\`touch ${marker(3)}\``,
      `'"; touch ${marker(4)}; echo "'`,
      `line one\nline two && touch ${marker(5)}`,
      `| touch ${marker(6)} &`,
    ];
    const handle = await spawnAgent({
      argv: ['printf', '[%s]\\n', ...args],
      cwd: evilDir,
      logPath: join(evilDir, `run $(touch marker-7).log`),
      env: { AUTOCODER_FEATURE_NAME: `$(touch ${marker(8)}); rm -f ${victim}` },
    });
    await handle.wait();
    const log = readFileSync(handle.logPath, 'utf8');
    for (const arg of args) assert.ok(log.includes(`[${arg}]`), `argv passed verbatim: ${JSON.stringify(arg)}`);
    const asCommand = await spawnAgent({ argv: [`touch ${marker(9)}`], cwd: evilDir, logPath: logPath() });
    assert.equal((await rejection(asCommand.wait())).reason, 'crashed');
    for (let n = 1; n <= 9; n++) assert.equal(existsSync(marker(n)), false, `marker ${n} must not exist`);
    for (const name of ['marker-1', 'marker-7']) assert.equal(existsSync(join(evilDir, name)), false, `${name} in cwd`);
    assert.equal(readFileSync(victim, 'utf8'), 'still here');
  });
});
