/**
 * The built CLI as a user drives it: a run in a pseudo-terminal shows the live view (progress bar,
 * running agents) and piped shows plain timestamped lines; bad input exits 2 naming it, a down
 * stack exits 3 naming it, and nothing prints a stack trace.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDb, type TestDb } from '../support/db.ts';
import { hasStackTrace, repoRoot } from '../stack/support.ts';

let t: TestDb;
const home = mkdtempSync(join(tmpdir(), 'ac-cli-e2e-'));
const features = join(home, 'features.json');
const cliPath = join(repoRoot, 'bin', 'autocoder');
type Result = { code: number; stdout: string; stderr: string };

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: t.url,
  AUTOCODER_HOME: home,
  AUTOCODER_TASK_QUEUE: `cli-e2e-${process.pid}`,
  NODE_TEST_CONTEXT: undefined,
  ...extra,
});

function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) =>
    execFile(cliPath, args, { env: env(extra), timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    }),
  );
}

/** Runs the CLI in a pseudo-terminal (util-linux `script`), as an operator at a terminal does. */
function cliInPty(args: string[]): Promise<Result> {
  const command = `stty rows 40 cols 120; ${[cliPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}`;
  return new Promise((resolve) =>
    execFile(
      'script',
      ['-qefc', command, '/dev/null'],
      { env: { ...env(), COLUMNS: '120', LINES: '40', TERM: 'xterm-256color' }, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    ),
  );
}

before(async () => {
  t = await createTestDb();
  writeFileSync(
    features,
    JSON.stringify({
      features: [1, 2, 3, 4].map((id) => ({ id, name: `Feature ${id}`, dependencies: id > 2 ? [id - 2] : [] })),
    }),
  );
});
after(async () => {
  await t.close();
  rmSync(home, { recursive: true, force: true });
});

test('in a terminal, run shows the live view: a progress bar and the running agents', async () => {
  const result = await cliInPty([
    'run',
    join(home, 'tty-app'),
    '--features',
    features,
    '--agent',
    'simulate',
    '--concurrency',
    '2',
    '--yolo',
    '--poll-interval',
    '500',
  ]);
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /\[[█░]{10,}\]\s+\d+\/4 passing/, 'a progress bar');
  assert.match(result.stdout, /coding\s+#\d\s+Feature \d/, 'running agents with kind, feature and name');
  assert.match(result.stdout, /outcome: complete/);
});

test('piped, run prints plain timestamped lines and the summary', async () => {
  const result = await cli([
    'run',
    join(home, 'pipe-app'),
    '--features',
    features,
    '--agent',
    'simulate',
    '--concurrency',
    '2',
    '--yolo',
    '--poll-interval',
    '500',
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout, /\u001b\[/, 'no escape sequences when piped');
  assert.match(result.stdout, /^\d\d:\d\d:\d\d started {2}coding #\d Feature \d$/m);
  assert.match(result.stdout, /^outcome: complete/m);
  const status = JSON.parse((await cli(['status', 'pipe-app', '--json'])).stdout) as {
    outcome: string;
    counts: { passing: number };
  };
  assert.equal(status.outcome, 'complete');
  assert.equal(status.counts.passing, 4);
});

test('bad input exits 2 naming the input, the value and the fix; no stack trace', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['status', 'no-such-project'], /unknown project "no-such-project"/],
    [['status', 'Bad_Project'], /must be a slug.*"Bad_Project"/],
    [['run', home, '--concurrency', '9', '--agent', 'simulate'], /--concurrency must be an integer in 1\.\.5, got "9"/],
    [['run', home, '--testing-ratio', '-1', '--agent', 'simulate'], /--testing-ratio must be an integer in 0\.\.3/],
    [['run', home, '--agent', 'gpt'], /--agent must be one of claude, simulate, command, got "gpt"/],
    [['run', home, '--agent', 'command'], /--agent command needs --agent-cmd/],
    [['set', 'speed', '3', '--project', 'pipe-app'], /unknown setting "speed"/],
    [['run', home, '--batch-size', '4', '--agent', 'simulate'], /--batch-size must be an integer in 1\.\.3, got "4"/],
    [
      ['run', home, '--testing-batch-size', '0', '--agent', 'simulate'],
      /--testing-batch-size must be an integer in 1\.\.5/,
    ],
    [['set', 'batch-size', '4', '--project', 'pipe-app'], /batch-size must be an integer in 1\.\.3, got "4"/],
    [['set', 'testing-batch-size', '6', '--project', 'pipe-app'], /testing-batch-size must be an integer in 1\.\.5/],
    [['stop-feature', 'x', '--project', 'pipe-app'], /feature id must be an integer/],
    [['stop', 'pipe-app'], /pipe-app has no run in progress/],
    [['logs', '77', '--project', 'pipe-app'], /feature #77 of pipe-app has no agent runs yet/],
    [['nonsense'], /unknown command 'nonsense'/],
  ];
  for (const [args, message] of cases) {
    const result = await cli(args);
    assert.equal(result.code, 2, `${args.join(' ')} → ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.ok(!hasStackTrace(result.stderr), `${args.join(' ')} printed a stack trace:\n${result.stderr}`);
  }
});

test('a run already in progress cannot be reset; a stack that is down exits 3 naming it', async () => {
  const started = await cli([
    'run',
    join(home, 'busy-app'),
    '--features',
    features,
    '--agent',
    'simulate',
    '--detach',
    '--yolo',
  ]);
  assert.equal(started.code, 0, started.stderr);
  const reset = await cli(['run', join(home, 'busy-app'), '--features', features, '--agent', 'simulate', '--reset']);
  assert.equal(reset.code, 2, reset.stderr);
  assert.match(reset.stderr, /busy-app has a run in progress, so --reset cannot start over now/);
  assert.equal((await cli(['stop', 'busy-app'])).code, 0);

  const down = await cli(['status', 'busy-app'], {
    TEMPORAL_ADDRESS: '',
    DATABASE_URL: '',
    AUTOCODER_HOME: join(home, 'no-stack'),
  });
  assert.equal(down.code, 3, down.stderr);
  assert.match(
    down.stderr,
    /the local stack is not running: temporal \(127\.0\.0\.1:\d+\) and postgres \(127\.0\.0\.1:\d+\) are down/,
  );
  assert.match(down.stderr, /autocoder up/);
  assert.ok(!hasStackTrace(down.stderr), down.stderr);
});
