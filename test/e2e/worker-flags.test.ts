/**
 * The worker's host, metrics and version flags as an operator uses them: a bad AUTOCODER_HOST_ID,
 * --metrics, --deployment or --build-id (or one of the last two alone) exits 2 naming it, a taken metrics port exits 3 naming it, and `run`'s own worker
 * takes --max-agents (its cap, which status reports against the concurrency) and --metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricNames } from '../../src/metrics/meter.ts';
import { parsePrometheus, valueOf } from '../support/prometheus.ts';
import { repoRoot, waitUntil, withTemporal } from '../support/temporal.ts';
import { cliEnv, runCli, type ProcResult } from '../chaos/support.ts';

type Result = ProcResult;
const t = withTemporal({ name: 'worker-flags', startWorker: false });
const home = mkdtempSync(join(tmpdir(), 'ac-worker-flags-'));
const cliPath = join(repoRoot, 'bin', 'autocoder');
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => cliEnv(t, home, extra);

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Result> => runCli(args, env(extra), 120_000);

async function listening(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('a bad AUTOCODER_HOST_ID or --metrics exits 2 naming it; a taken metrics port exits 3 naming it', async () => {
  const badHost = await cli(['worker'], { AUTOCODER_HOST_ID: 'no spaces allowed' });
  assert.equal(badHost.code, 2, badHost.stderr);
  assert.match(
    badHost.stderr,
    /AUTOCODER_HOST_ID must be 1-63 letters, digits, dots, dashes or underscores.*"no spaces allowed"/,
  );
  for (const args of [
    ['worker', '--metrics', 'nowhere'],
    ['run', home, '--metrics', 'nowhere', '--agent', 'simulate'],
  ]) {
    const bad = await cli(args);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--metrics must be host:port or a port \(1-65535\), got "nowhere"/);
  }
  const detached = await cli(['run', home, '--detach', '--metrics', '--agent', 'simulate']);
  assert.equal(detached.code, 2, detached.stderr);
  assert.match(detached.stderr, /--metrics serves the metrics of run's own worker, and with --detach there is none/);
  const taken = await listening();
  try {
    const busy = await cli(['worker', '--metrics', String(taken.port)]);
    assert.equal(busy.code, 3, busy.stderr);
    assert.match(busy.stderr, new RegExp(`metrics could not be served at 127\\.0\\.0\\.1:${taken.port}: .*in use`));
    assert.match(busy.stderr, /choose a free address with --metrics host:port/);
  } finally {
    await taken.close();
  }
});

test('--deployment and --build-id go together and are checked: exit 2 naming them, before any connection', async () => {
  const alone = await cli(['worker', '--deployment', 'autocoder']);
  assert.equal(alone.code, 2, alone.stderr);
  assert.match(alone.stderr, /--deployment is "autocoder" but AUTOCODER_BUILD_ID \(or --build-id\) is not set/);
  const fromEnv = await cli(['worker'], { AUTOCODER_BUILD_ID: 'v0.4.0' });
  assert.equal(fromEnv.code, 2, fromEnv.stderr);
  assert.match(
    fromEnv.stderr,
    /AUTOCODER_BUILD_ID \(or --build-id\) is "v0\.4\.0" but AUTOCODER_DEPLOYMENT \(or --deployment\) is not set/,
  );
  const bad = await cli(['worker', '--deployment', 'auto.coder', '--build-id', 'v1 beta']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--deployment must be 1-100 letters, digits, dashes or underscores.*got "auto\.coder"/);
  assert.match(bad.stderr, /--build-id must be 1-100 letters, digits, dots, dashes, underscores or \+.*got "v1 beta"/);
  assert.doesNotMatch(bad.stdout + bad.stderr, /worker polling/);
});

test("run's own worker takes --max-agents and --metrics; status says the host's cap is below the concurrency", async () => {
  const free = await listening();
  await free.close();
  const address = `127.0.0.1:${free.port}`;
  const project = `flags-${Date.now().toString(36)}`;
  const dir = join(home, project);
  mkdirSync(dir);
  const features = join(home, `${project}.json`);
  writeFileSync(features, JSON.stringify(Array.from({ length: 6 }, (_, i) => ({ id: i + 1, name: `f${i + 1}` }))));
  const run = spawn(
    cliPath,
    [
      'run',
      dir,
      '--project',
      project,
      '--features',
      features,
      '--agent',
      'command',
      '--agent-cmd',
      join(repoRoot, 'test/fixtures/agents/forever'),
      '--isolation',
      'shared',
      '--concurrency',
      '5',
      '--max-agents',
      '3',
      '--metrics',
      address,
    ],
    { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
  try {
    const host = hostname();
    // run's worker serves its metrics and names its host. (How strictly --max-agents holds agents
    // on one host is the per-host queue's business; here it is the cap status reports.)
    await waitUntil(
      "agents on run's worker",
      async () => {
        const text = await fetch(`http://${address}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        return (valueOf(parsePrometheus(text), metricNames.agentsRunning, { kind: 'coding', host }) ?? 0) >= 3;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.match(output, new RegExp(`metrics at http://${address}/metrics`));
    const status = await cli(['status', project]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /below concurrency 5/);
    assert.match(status.stdout, new RegExp(`live hosts ${host.replaceAll('.', '\\.')} \\(3\\) run at most 3 agents`));
    assert.ok((status.stdout.match(new RegExp(` on ${host.replaceAll('.', '\\.')}\\)`, 'g')) ?? []).length >= 3);
    const stopped = await cli(['stop', project]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(await exited, 0, output);
  } finally {
    if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
  }
});
