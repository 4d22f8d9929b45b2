/**
 * A quota pause survives its worker and its server: a usage limit ("Claude AI usage limit
 * reached|<epoch>", exit 1) with a reset in 25 s, then, during the pause, the worker (a child
 * process) is SIGKILLed and the Temporal dev server restarted on its own database file; a new
 * worker starts. Dispatch resumes at the reset, not before, from the governor's durable timer.
 * On a private stack (test/chaos/own-stack.ts), since the server goes down.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quotaStatusQuery, type QuotaStatus } from '../../src/workflows/quota-governor.ts';
import { quotaGovernorId } from '../../src/workflows/run-ids.ts';
import { createOwnStack, type OwnStack } from '../chaos/own-stack.ts';
import { agentRunsOf, featureRows, repoRoot, waitForResult, waitUntil } from '../support/temporal.ts';

const fakeClaudeDir = fileURLToPath(new URL('../fixtures/fake-claude/', import.meta.url));
process.env.PATH = `${fakeClaudeDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const home = mkdtempSync(join(tmpdir(), 'ac-quota-restart-'));
process.env.AUTOCODER_HOME = home;
process.env.FAKE_CLAUDE_LIMIT_FILE = join(home, 'limit-{project}.json');

const safety = {
  policy: 'strict' as const,
  allowHosts: [],
  maxTurns: {},
  env: ['FAKE_CLAUDE_LIMIT_FILE'],
  additions: { commands: [], pkillProcesses: [], blocked: [] },
};

describe('a quota pause across a worker SIGKILL and a Temporal restart', { timeout: 240_000 }, () => {
  let s: OwnStack;
  const children: ChildProcess[] = [];
  const startWorker = async (): Promise<ChildProcess> => {
    const options = {
      temporal: { address: s.stack.temporal.address, namespace: s.stack.temporal.namespace },
      taskQueue: s.taskQueue,
      databaseUrl: s.stack.databaseUrl,
      stateDir: s.stateDir,
      killGraceMs: 500,
    };
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'test/workflows/fixtures/worker-process.ts'), JSON.stringify(options)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready\n')) resolve();
      });
      child.once('exit', () => reject(new Error(`worker exited before it was ready: ${out}`)));
    });
    return child;
  };
  before(async () => {
    s = await createOwnStack('quota', { worker: false });
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await s?.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('dispatch resumes at the reset, not before', { timeout: 240_000 }, async () => {
    const key = `restart-${Date.now().toString(36)}`;
    const worker = await startWorker();
    const project = await s.seedProject(
      [
        { id: 1, name: 'one' },
        { id: 2, name: 'two' },
      ],
      'qr',
    );
    writeFileSync(join(home, `limit-${project}.json`), JSON.stringify({ form: 'usage-text', resetInSeconds: 25 }));
    const handle = await s.startRun(project, {
      agent: 'claude',
      concurrency: 1,
      testingRatio: 0,
      quotaKey: key,
      agentSafety: safety,
    });
    const limited = await waitUntil(
      'the usage-limited run',
      async () => (await agentRunsOf(s.db, project)).find((r) => r.outcome === 'rate_limited'),
      { timeoutMs: 60_000 },
    );
    const paused = await waitUntil(
      'the governor paused',
      async () => {
        const q: QuotaStatus = await s.client.workflow.getHandle(quotaGovernorId(key)).query(quotaStatusQuery);
        return q.state === 'paused' && q.projects.includes(project) && q;
      },
      { timeoutMs: 30_000 },
    );
    const until = Date.parse(paused.until!);
    assert.equal(paused.source, 'reset');
    assert.ok(until - limited.ended_at!.getTime() > 15_000, 'the reset from the text form');

    worker.kill('SIGKILL');
    await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const { upAt } = await s.restartTemporal(2000);
    assert.ok(upAt < until - 5_000, 'the restart happened during the pause');
    await startWorker();

    const result = await waitForResult(handle, 150_000);
    assert.equal(result.outcome, 'complete', result.message);
    const runs = await agentRunsOf(s.db, project, 'coding');
    const resumed = runs.filter((r) => r.id !== limited.id);
    assert.ok(resumed.length >= 2);
    const firstStart = Math.min(...resumed.map((r) => r.started_at.getTime()));
    assert.ok(firstStart >= until, `no agent before the reset (first start ${firstStart - until} ms after it)`);
    assert.ok(firstStart - until < 20_000, `dispatch resumed at the reset, ${firstStart - until} ms after it`);
    assert.equal(resumed[0]!.feature_id, limited.feature_id, 'the limited feature first');
    assert.deepEqual(
      (await featureRows(s.db, project)).map((f) => f.failure_count),
      [0, 0],
    );
  });
});
