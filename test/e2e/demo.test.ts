/**
 * The README's first command, end to end on a real stack of its own: `autocoder demo` starts
 * Temporal and Postgres, runs every example feature to passing through the durable workflow,
 * prints the summary and the UI link; a second demo reuses the stack; `status --json` and the
 * Temporal CLI see the completed run; after `down`, `doctor` names what is down.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvConfig } from '../../src/config/env.ts';
import { findTemporalCli } from '../../src/stack/temporal-cli.ts';
import { hasStackTrace, makeHome, repoRoot, runCli, stackEnv } from '../stack/support.ts';

const { home, remove } = makeHome('ac-demo-');
let env: NodeJS.ProcessEnv;
const exampleCount = (
  JSON.parse(readFileSync(`${repoRoot}/examples/todo-app/features.json`, 'utf8')) as { features: unknown[] }
).features.length;

before(async () => {
  env = await stackEnv(home);
});
after(async () => {
  await runCli(['down'], env);
  remove();
});

test('demo runs every example feature to passing and links the run in the UI', async () => {
  const first = await runCli(['demo'], env, 300_000);
  assert.equal(first.code, 0, `demo failed:\n${first.stdout}\n${first.stderr}`);
  assert.match(first.stdout, /outcome: complete/);
  assert.equal(first.stdout.match(/^#\d+\s.*\spassing\s/gm)?.length, exampleCount, first.stdout);
  assert.match(
    first.stdout,
    new RegExp(
      `Temporal UI: http://localhost:${env.AUTOCODER_TEMPORAL_UI_PORT}/namespaces/default/workflows/autocoder%2Ftodo-app/[0-9a-f-]+/history`,
    ),
  );
  assert.match(first.stdout, /Dashboard: http:\/\/127\.0\.0\.1:8765\/#\/p\/todo-app/);
  assert.ok(!hasStackTrace(first.stderr), first.stderr);

  const status = await runCli(['status', 'todo-app', '--json'], env);
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as {
    project: string;
    phase: string;
    outcome: string;
    counts: Record<string, number>;
    running: unknown[];
  };
  assert.equal(report.project, 'todo-app');
  assert.equal(report.outcome, 'complete');
  assert.equal(report.counts.total, exampleCount);
  assert.equal(report.counts.passing, exampleCount);
  assert.deepEqual(report.running, []);

  // Worktree isolation on a git copy of the example: every feature landed on main, in a linear
  // history, with nothing left behind.
  assert.match(first.stdout, /isolation: worktree/);
  const projectDir = join(home, 'projects', 'todo-app');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: projectDir, encoding: 'utf8' });
  assert.equal(git('rev-list', '--merges', '--count', 'main').trim(), '0');
  assert.equal(git('log', '--format=%s', 'main').match(/^feature #\d+:/gm)?.length, exampleCount);
  assert.equal(git('worktree', 'list', '--porcelain').match(/^worktree /gm)?.length, 1);
  assert.equal(git('branch', '--list', 'autocoder/*').trim(), '');

  // The Temporal CLI sees the completed run.
  const cli = findTemporalCli(loadEnvConfig(env));
  assert.ok(cli, 'the temporal CLI is installed');
  const described = JSON.parse(
    execFileSync(
      cli.path,
      [
        'workflow',
        'describe',
        '--workflow-id',
        'autocoder/todo-app',
        '--address',
        `127.0.0.1:${env.AUTOCODER_TEMPORAL_PORT}`,
        '-o',
        'json',
      ],
      { encoding: 'utf8' },
    ),
  ) as { workflowExecutionInfo: { status: string } };
  assert.match(described.workflowExecutionInfo.status, /COMPLETED/);

  // Again: the stack is reused and the project reported complete without new agents.
  const second = await runCli(['demo'], env, 120_000);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /reused/);
  assert.match(second.stdout, /outcome: complete/);
  assert.match(second.stdout, /0 agent runs/);
});

test('doctor after down exits non-zero and names what is down', async () => {
  const down = await runCli(['down'], env);
  assert.equal(down.code, 0, down.stderr);
  const doctor = await runCli(['doctor'], env);
  assert.notEqual(doctor.code, 0);
  assert.match(doctor.stdout + doctor.stderr, /temporal.*down/i);
  assert.match(doctor.stdout + doctor.stderr, /postgres.*down/i);
  assert.ok(!hasStackTrace(doctor.stderr), doctor.stderr);
});
