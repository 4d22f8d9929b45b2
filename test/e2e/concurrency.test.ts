/**
 * No cap of 5: `run --concurrency` and `set concurrency` accept any value up to the run's
 * maxConcurrency (`run --max-concurrency`, default 50, ceiling 1,000) and refuse above it with
 * exit 2, naming the value and the fix; `status` says when the live hosts' caps add up to less
 * than the concurrency.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunStatus } from '../../src/client.ts';
import { queryStatus, repoRoot, waitUntil, withTemporal } from '../support/temporal.ts';
import { projectRunHandle } from '../../src/client.ts';
import { cliEnv, runCli, type ProcResult } from '../chaos/support.ts';

type Result = ProcResult;
const t = withTemporal({ name: 'concurrency', startWorker: false });
const home = mkdtempSync(join(tmpdir(), 'ac-concurrency-'));

const cli = (args: string[]): Promise<Result> => runCli(args, cliEnv(t, home), 120_000);

test('concurrency above 5 is accepted up to maxConcurrency and refused above it (run and set), exit 2', async () => {
  const project = `conc-${Date.now().toString(36)}`;
  const dir = join(home, project);
  mkdirSync(dir);
  const features = join(home, 'features.json');
  writeFileSync(features, JSON.stringify(Array.from({ length: 12 }, (_, i) => ({ id: i + 1, name: `f${i + 1}` }))));
  const run = (...extra: string[]) =>
    cli([
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
      '--detach',
      ...extra,
    ]);

  const over = await run('--concurrency', '60');
  assert.equal(over.code, 2, over.stderr);
  assert.match(over.stderr, /--concurrency 60 is above --max-concurrency 50/);
  assert.match(over.stderr, /raise --max-concurrency \(up to 1000\) or lower --concurrency/);
  const ceiling = await run('--concurrency', '8', '--max-concurrency', '1001');
  assert.equal(ceiling.code, 2, ceiling.stderr);
  assert.match(ceiling.stderr, /--max-concurrency must be an integer in 1\.\.1000, got "1001"/);
  assert.equal(await readRunStatus(t.client, project), null, 'nothing was started');

  await t.startWorker();
  const started = await run('--concurrency', '8', '--max-concurrency', '30');
  assert.equal(started.code, 0, started.stderr);
  const handle = projectRunHandle(t.client, project);
  await waitUntil('eight agents at once', async () => (await queryStatus(handle)).running.length === 8, {
    timeoutMs: 60_000,
  });

  const refused = await cli(['set', 'concurrency', '31', '--project', project]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /concurrency must be an integer in 1\.\.30, got 31/);
  assert.match(refused.stderr, /run --max-concurrency N/);
  assert.equal((await queryStatus(handle)).settings.concurrency, 8, 'the refused value changed nothing');

  // The one live worker runs at most 20 agents (its --max-agents): status says so at 25.
  const raised = await cli(['set', 'concurrency', '25', '--project', project]);
  assert.equal(raised.code, 0, raised.stderr);
  assert.match(raised.stdout, /concurrency 25/);
  const status = await cli(['status', project]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /capacity: live hosts \S+ \(20\) run at most 20 agents, below concurrency 25/);
  const json = JSON.parse((await cli(['status', project, '--json'])).stdout) as {
    capacity: { maxAgents: number; concurrency: number; short: boolean };
    running: Array<{ host: string | null }>;
  };
  assert.deepEqual([json.capacity.maxAgents, json.capacity.concurrency, json.capacity.short], [20, 25, true]);
  assert.ok(
    json.running.some((a) => typeof a.host === 'string'),
    'running agents name their host',
  );

  const stopped = await cli(['stop', project]);
  assert.equal(stopped.code, 0, stopped.stderr);
});
