/**
 * `autocoder worker --metrics` on the real stack: the worker (a CLI process, host id from
 * AUTOCODER_HOST_ID) serves the SDK's metrics and every autocoder series, and they follow a run
 * of the fake `claude` that hits a usage limit once: agents running, features by state, run
 * durations by outcome, spend, one quota pause, the merge queue's depth.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricNames } from '../../src/metrics/meter.ts';
import { parsePrometheus, valueOf, type Sample } from '../support/prometheus.ts';
import { dashboardSeries } from '../support/grafana.ts';
import { repoRoot, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';
import { commitAll, run as git, worktreeIsolation } from '../git/repo.ts';
import { approveFeatureUpdate, mergeStatusQuery } from '../../src/workflows/merge-messages.ts';
import { mergeQueueId } from '../../src/workflows/run-ids.ts';

const fakeClaudeDir = fileURLToPath(new URL('../fixtures/fake-claude/', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'ac-metrics-'));
const HOST = 'metrics-host-a';
const t = withTemporal({ name: 'metrics', startWorker: false });
let worker: ChildProcess | undefined;
let address = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`http://${address}/metrics`);
  assert.equal(response.status, 200);
  return parsePrometheus(await response.text());
}

let started: Promise<void> | undefined;
const startWorker = (): Promise<void> => (started ??= spawnWorker());

async function spawnWorker(): Promise<void> {
  address = `127.0.0.1:${await freePort()}`;
  worker = spawn(join(repoRoot, 'bin', 'autocoder'), ['worker', '--max-agents', '4', '--metrics', address], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: t.stack.address,
      TEMPORAL_NAMESPACE: t.stack.namespace,
      DATABASE_URL: t.databaseUrl,
      AUTOCODER_TASK_QUEUE: t.taskQueue,
      AUTOCODER_HOME: home,
      AUTOCODER_HOST_ID: HOST,
      PATH: `${fakeClaudeDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      FAKE_CLAUDE_LIMIT_FILE: join(home, 'limit-{project}.json'),
      FAKE_CLAUDE_DELAY_MS: '2500',
      NODE_TEST_CONTEXT: undefined,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = await new Promise<string>((resolve, reject) => {
    let seen = '';
    worker!.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const line = seen.split('\n').find((l) => l.includes('worker polling'));
      if (line) resolve(line);
    });
    worker!.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
    });
    worker!.on('exit', (code) => reject(new Error(`worker exited ${code}: ${seen}`)));
  });
  // The ready line keeps its prefix and names the host, its cap and the endpoint.
  assert.match(ready, new RegExp(`as host ${HOST}, max agents 4, metrics at http://${address}/metrics`));
}

after(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker!.once('exit', resolve));
  }
  rmSync(home, { recursive: true, force: true });
});

test('the metrics endpoint serves the SDK metrics and every autocoder series, and they follow a run', async () => {
  await startWorker();
  const before = await scrape();
  assert.ok(
    before.some((s) => s.name.startsWith('temporal_')),
    `the SDK's own metrics are served: ${before.map((s) => s.name).join(' ')}`,
  );
  for (const kind of ['coding', 'testing', 'initializer', 'merge'])
    assert.equal(valueOf(before, metricNames.agentsRunning, { kind, host: HOST }), 0, `idle ${kind}`);

  const key = `metrics-${Date.now().toString(36)}`;
  const project = await t.seedProject(
    [1, 2, 3].map((id) => ({ id, name: `Feature ${id}` })),
    { base: 'metrics' },
  );
  // The first agent hits a usage limit that resets in 3 s: one quota pause, then all pass.
  writeFileSync(join(home, `limit-${project}.json`), JSON.stringify({ form: 'event', resetInSeconds: 3 }));
  const pending = await waitUntil(
    'the sampler to see the project',
    async () => valueOf(await scrape(), metricNames.features, { project, state: 'pending' }),
    { timeoutMs: 20_000 },
  );
  assert.equal(pending, 3);
  assert.equal(valueOf(await scrape(), metricNames.spendUsd, { project }), 0);
  assert.equal(valueOf(await scrape(), metricNames.mergeQueueDepth, { project }), 0);

  const handle = await t.startRun(project, {
    agent: 'claude',
    concurrency: 1,
    quotaKey: key,
    agentSafety: {
      policy: 'strict',
      allowHosts: [],
      maxTurns: {},
      env: ['FAKE_CLAUDE_LIMIT_FILE', 'FAKE_CLAUDE_DELAY_MS'],
      additions: { commands: [], pkillProcesses: [], blocked: [] },
    },
  });
  await waitUntil(
    'an agent counted as running on the host',
    async () => valueOf(await scrape(), metricNames.agentsRunning, { kind: 'coding', host: HOST }) === 1,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  // Three short agents and a 5 s pause; a loaded CI machine has taken over two minutes.
  const result = await waitForResult(handle, 240_000);
  assert.equal(result.outcome, 'complete', result.message);

  const end = await waitUntil(
    'the gauges to catch up with the end',
    async () => {
      const samples = await scrape();
      return valueOf(samples, metricNames.features, { project, state: 'passing' }) === 3 && samples;
    },
    { timeoutMs: 20_000 },
  );
  assert.equal(valueOf(end, metricNames.features, { project, state: 'pending' }), 0);
  assert.equal(valueOf(end, metricNames.agentsRunning, { kind: 'coding', host: HOST }), 0);
  assert.ok((valueOf(end, metricNames.spendUsd, { project }) ?? 0) > 0, 'spend went up');
  assert.equal(valueOf(end, metricNames.quotaPauses, { key }), 1, 'one quota pause, served under its _total name');
  assert.equal(valueOf(end, metricNames.mergeQueueDepth, { project }), 0);
  const runs = (outcome: string) =>
    valueOf(end, `${metricNames.agentRunSeconds}_count`, { kind: 'coding', outcome }) ?? 0;
  assert.equal(runs('passed'), 3, 'three passed runs observed');
  assert.equal(runs('rate_limited'), 1, 'the limited run observed');
  assert.ok(
    end.some((s) => s.name === `${metricNames.agentRunSeconds}_bucket` && s.labels.le === '+Inf'),
    'the run durations are a histogram',
  );
  // The dashboard reads series that exist (SDK failure counters appear with their first failure).
  const served = new Set(end.map((s) => s.name));
  for (const name of dashboardSeries())
    if (!name.endsWith('_failed'))
      assert.ok(served.has(name) || served.has(`${name}_count`), `the dashboard's ${name} is served`);
});

test('autocoder_merge_queue_depth follows features waiting to land (worktree isolation, --review)', async () => {
  await startWorker();
  const project = await t.seedProject(
    [1, 2].map((id) => ({ id, name: `Reviewed ${id}` })),
    { base: 'metrics-merge' },
  );
  const dir = t.projectDir(project);
  git(dir, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(dir, 'README.md'), 'x\n');
  commitAll(dir, 'initial');
  const plan = join(home, `${project}-plan.json`);
  writeFileSync(plan, '{}');
  const handle = await t.startRun(project, {
    agent: 'command',
    agentCmd: [process.execPath, join(repoRoot, 'test/fixtures/agents/git-agent.ts'), plan],
    concurrency: 2,
    isolation: worktreeIsolation({ review: true }),
  });
  // Both pass their agents and wait for review: two in the queue.
  await waitUntil(
    'both features waiting to land',
    async () => valueOf(await scrape(), metricNames.mergeQueueDepth, { project }) === 2,
    { timeoutMs: 60_000 },
  );
  const queue = t.client.workflow.getHandle(mergeQueueId(project));
  for (let landed = 0; landed < 2; landed++) {
    const current = await waitUntil('a feature in review', async () => {
      const s = await queue.query(mergeStatusQuery);
      return s.current?.step === 'reviewing' ? s.current : null;
    });
    await queue.executeUpdate(approveFeatureUpdate, { args: [current.featureId] });
  }
  const result = await waitForResult(handle, 120_000);
  assert.equal(result.outcome, 'complete', result.message);
  await waitUntil(
    'the queue empty again',
    async () => valueOf(await scrape(), metricNames.mergeQueueDepth, { project }) === 0,
    { timeoutMs: 20_000 },
  );
});
