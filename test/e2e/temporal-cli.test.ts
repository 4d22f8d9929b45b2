/**
 * The README's "Operating with the Temporal CLI" commands, run exactly as written against a live
 * run: a real `autocoder worker` subprocess, the test stack's Temporal server, and the project's
 * features imported with `autocoder features import`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvConfig } from '../../src/config/env.ts';
import { findTemporalCli } from '../../src/stack/temporal-cli.ts';
import { createTestDb, type TestDb } from '../support/db.ts';
import { repoRoot } from '../stack/support.ts';

/** The commands of the README block marked for this test, continuation lines joined, split like sh. */
export function readmeCommands(): string[][] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- e2e: test/e2e/temporal-cli.test.ts');
  assert.ok(start >= 0, 'README has the marked Temporal CLI block');
  const block = readme.slice(
    readme.indexOf('```sh', start) + 5,
    readme.indexOf('```', readme.indexOf('```sh', start) + 5),
  );
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map(shellWords);
}

function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let current = '';
  let last = 0;
  for (const m of line.matchAll(re)) {
    if (m.index > last && current) {
      words.push(current);
      current = '';
    }
    current += m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3] ?? '';
    last = m.index + m[0].length;
    if (line[last] === undefined || /\s/.test(line[last] ?? '')) {
      words.push(current);
      current = '';
    }
  }
  return words;
}

let t: TestDb;
let worker: ChildProcess;
let temporalPath: string;
const home = mkdtempSync(join(tmpdir(), 'ac-temporal-cli-'));
const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: t.url,
  AUTOCODER_HOME: home,
  AUTOCODER_TASK_QUEUE: 'autocoder',
  NODE_TEST_CONTEXT: undefined,
});

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { env: env(), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    }),
  );
}

before(async () => {
  t = await createTestDb();
  const cli = findTemporalCli(loadEnvConfig(process.env));
  assert.ok(cli, 'the temporal CLI is installed');
  temporalPath = cli.path;
  const features = join(home, 'features.json');
  writeFileSync(features, JSON.stringify({ features: [1, 2, 3, 4].map((id) => ({ id, name: `Feature ${id}` })) }));
  const imported = await run(join(repoRoot, 'bin', 'autocoder'), [
    'features',
    'import',
    features,
    '--project',
    'my-app',
    '--dir',
    '/tmp/my-app',
  ]);
  assert.equal(imported.code, 0, imported.stderr);
  worker = spawn(join(repoRoot, 'bin', 'autocoder'), ['worker'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    worker.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('worker polling')) resolve();
    });
    worker.on('exit', (code) => reject(new Error(`worker exited ${code}: ${seen}`)));
  });
});

after(async () => {
  if (worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
  await t.close();
  rmSync(home, { recursive: true, force: true });
});

test('the README Temporal CLI commands start, steer, query and stop a run', async () => {
  const commands = readmeCommands();
  assert.deepEqual(
    commands.map((c) => c.slice(0, 3).join(' ')),
    [
      'temporal workflow start',
      'temporal workflow signal',
      'temporal workflow query',
      'temporal workflow update',
      'temporal workflow list',
      'temporal workflow signal',
    ],
  );
  const outputs: string[] = [];
  for (const [index, command] of commands.entries()) {
    const result = await run(temporalPath, command.slice(1));
    assert.equal(result.code, 0, `${command.join(' ')}\n${result.stdout}\n${result.stderr}`);
    outputs.push(result.stdout);
    if (index === 1) await new Promise((r) => setTimeout(r, 1000)); // let the stopFeature signal be processed
  }
  const [, , query, update, list] = outputs as [string, string, string, string, string, string];
  assert.match(query, /"held":\[1\]/, 'stopFeature 1 holds feature #1');
  assert.match(query, /"project":"my-app"/);
  assert.match(update, /concurrency:4/);
  assert.match(list, /autocoder\/my-app/);

  // The final `stop` ends the run 'stopped' with no agent left.
  const described = await run(temporalPath, [
    'workflow',
    'describe',
    '--workflow-id',
    'autocoder/my-app',
    '-o',
    'json',
  ]);
  const deadline = Date.now() + 30_000;
  let status = '';
  while (Date.now() < deadline) {
    const d = await run(temporalPath, ['workflow', 'describe', '--workflow-id', 'autocoder/my-app', '-o', 'json']);
    status = (JSON.parse(d.stdout) as { workflowExecutionInfo: { status: string } }).workflowExecutionInfo.status;
    if (!/RUNNING/.test(status)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.match(status, /COMPLETED/, described.stdout);
  const result = await run(temporalPath, ['workflow', 'result', '--workflow-id', 'autocoder/my-app', '-o', 'json']);
  assert.match(result.stdout, /"outcome":\s*"stopped"/, result.stdout);
  const left = await t.db
    .selectFrom('features')
    .select('id')
    .where('project_id', '=', 'my-app')
    .where('in_progress', '=', true)
    .execute();
  assert.deepEqual(left, [], 'every claim released');
});

test('an out-of-range update is rejected by the validator, naming the value', async () => {
  // The run above has ended; start a fresh one to reject an update against.
  const start = readmeCommands()[0]!;
  const id = ['--workflow-id', 'autocoder/my-app'];
  const started = await run(temporalPath, start.slice(1));
  assert.equal(started.code, 0, started.stderr);
  const rejected = await run(temporalPath, [
    'workflow',
    'update',
    'execute',
    ...id,
    '--name',
    'setConcurrency',
    '--input',
    '60',
  ]);
  assert.notEqual(rejected.code, 0);
  // Over the run's maxConcurrency (default 50); the message names the value and the fix.
  assert.match(rejected.stderr + rejected.stdout, /concurrency must be an integer in 1\.\.50, got 60/);
  assert.match(rejected.stderr + rejected.stdout, /run --max-concurrency N/);
  const stopped = await run(temporalPath, ['workflow', 'signal', ...id, '--name', 'stop']);
  assert.equal(stopped.code, 0, stopped.stderr);
  await run(temporalPath, ['workflow', 'result', ...id]);
});
