/**
 * User-facing failures of `autocoder up` through the real CLI: one readable line, the right exit
 * code, no stack trace, nothing left running.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stackPaths } from '../../src/stack/index.ts';
import { loadEnvConfig } from '../../src/config/env.ts';
import { findFreePort, processStartTime } from '../../src/stack/process.ts';
import { hasStackTrace, makeHome, runCli, stackEnv } from './support.ts';

/** Another process's listener on a port (here: a server in this test process). */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { port: address.port, server };
}

describe('autocoder up with bad input', () => {
  const homes: (() => void)[] = [];
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
    for (const remove of homes) remove();
  });

  async function freshEnv(): Promise<NodeJS.ProcessEnv> {
    const { home, remove } = makeHome('ac-bad-');
    homes.push(remove);
    return stackEnv(home);
  }

  for (const [what, flag, variable] of [
    ['Temporal frontend', '--temporal-port', 'AUTOCODER_TEMPORAL_PORT'],
    ['Temporal UI', '--ui-port', 'AUTOCODER_TEMPORAL_UI_PORT'],
    ['Postgres', '--pg-port', 'AUTOCODER_PG_PORT'],
  ] as const) {
    test(`${what} port taken by another process: one line naming the port, ${variable} and ${flag}`, async () => {
      const env = await freshEnv();
      const { port, server } = await holdPort();
      servers.push(server);
      const result = await runCli(['up', flag, String(port)], env);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`port ${port} \\(${what}\\) is in use`));
      assert.match(lines[0]!, new RegExp(variable));
      assert.match(lines[0]!, new RegExp(flag));
      assert.equal(hasStackTrace(result.stderr), false);
      // The conflict was found before anything started.
      const paths = stackPaths(loadEnvConfig(env));
      assert.equal(existsSync(paths.temporalPidFile), false);
      assert.equal(existsSync(paths.pgPidFile), false);
    });
  }

  test('unreachable DATABASE_URL names host:port and what was tried, hides the password, starts nothing', async () => {
    const env = await freshEnv();
    const port = await findFreePort(); // nobody listens there
    env.DATABASE_URL = `postgres://someone:hunter2secret@127.0.0.1:${port}/autocoder`;
    const result = await runCli(['up'], env);
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `Postgres at 127\\.0\\.0\\.1:${port} \\(DATABASE_URL\\) is unreachable: tried to connect to postgres://someone:\\*\\*\\*@`,
      ),
    );
    assert.match(result.stderr, /ECONNREFUSED/);
    assert.match(result.stderr, /fix: .*DATABASE_URL/);
    assert.doesNotMatch(result.stderr + result.stdout, /hunter2secret/);
    assert.equal(hasStackTrace(result.stderr), false);
    assert.equal(existsSync(stackPaths(loadEnvConfig(env)).temporalPidFile), false, 'no Temporal was started');
  });

  test('unreachable TEMPORAL_ADDRESS names the address and the check that failed', async () => {
    const env = await freshEnv();
    const port = await findFreePort();
    env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
    const result = await runCli(['up'], env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `Temporal at 127\\.0\\.0\\.1:${port} \\(TEMPORAL_ADDRESS\\) is unreachable: tried a gRPC health check`,
      ),
    );
    assert.equal(hasStackTrace(result.stderr), false);
    // checked before anything local starts
    assert.equal(existsSync(stackPaths(loadEnvConfig(env)).pgPidFile), false, 'no Postgres was started');
  });

  test('invalid values are all reported at once, naming variable or flag and value', async () => {
    const env = await freshEnv();
    env.AUTOCODER_PG_PORT = 'abc';
    env.TEMPORAL_ADDRESS = 'no-port-here';
    const result = await runCli(['up', '--temporal-port', '70000'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid configuration \(3 problems\)/);
    assert.match(result.stderr, /--temporal-port must be a TCP port number 1-65535, got "70000"/);
    assert.match(result.stderr, /AUTOCODER_PG_PORT \(or --pg-port\) must be a TCP port number 1-65535, got "abc"/);
    assert.match(result.stderr, /TEMPORAL_ADDRESS must be host:port/);
    assert.equal(hasStackTrace(result.stderr), false);
  });

  test('down never signals a recorded pid whose start time does not match (a reused pid)', async (t) => {
    const env = await freshEnv();
    const paths = stackPaths(loadEnvConfig(env));
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    t.after(() => bystander.kill('SIGKILL'));
    const pid = bystander.pid!;
    const startTime = processStartTime(pid)!;
    mkdirSync(dirname(paths.temporalPidFile), { recursive: true });
    writeFileSync(
      paths.temporalPidFile,
      JSON.stringify({ pid, startTime: `${startTime}-not-this-one`, ports: { frontend: 1, ui: 2 }, startedAt: '' }),
    );
    const result = await runCli(['down'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /temporal: was not running/);
    assert.equal(processStartTime(pid), startTime, 'the bystander is untouched');
  });
});
