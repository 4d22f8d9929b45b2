/**
 * Shared pieces of the chaos scenarios (docs/reliability.md): when the suite runs, how many times
 * a scenario repeats, the real CLIs (ours and Temporal's) as subprocesses, and a dump of the rows
 * a scenario must leave alone.
 *
 * The scenarios take minutes, so `npm test` (which globs every test file) skips them; they run
 * under `npm run test:chaos`, with AUTOCODER_CHAOS=1, or when a file is run on its own
 * (`bin/node --test 'test/chaos/*.test.ts'`).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/tables.ts';
import { temporalVenvBinary, findTemporalCli } from '../../src/stack/temporal-cli.ts';
import { repoRoot, type TemporalTestEnv } from '../support/temporal.ts';

const insideNpmTest = process.env.npm_lifecycle_event === 'test';
/**
 * Options for a scenario's describe(): a skip reason when the chaos suite should not run here, and
 * a timeout for the scenario's N (scripts/test.ts gives each test 5 minutes by default).
 */
export function chaosSuite(timeoutMs = 300_000): { skip: string | false; timeout: number } {
  return {
    skip:
      insideNpmTest && process.env.AUTOCODER_CHAOS !== '1'
        ? 'chaos scenarios run with `npm run test:chaos` (or AUTOCODER_CHAOS=1)'
        : false,
    timeout: timeoutMs,
  };
}

/** A scenario's repeat count: the environment variable, else the issue's number. */
export function repeatCount(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${variable} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export type ProcResult = { code: number; stdout: string; stderr: string };

export function runProcess(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<ProcResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Environment for `bin/autocoder` aimed at a test env's stack, database and task queue. */
export function cliEnv(t: TemporalTestEnv, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // NODE_TEST_CONTEXT would make the CLI's node think it is a test-runner child.
  delete env.NODE_TEST_CONTEXT;
  return {
    ...env,
    AUTOCODER_HOME: home,
    AUTOCODER_TOOLS_DIR: t.stack.toolsDir,
    DATABASE_URL: t.databaseUrl,
    TEMPORAL_ADDRESS: t.stack.address,
    TEMPORAL_NAMESPACE: t.stack.namespace,
    AUTOCODER_TASK_QUEUE: t.taskQueue,
    ...extra,
  };
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<ProcResult> {
  return runProcess(join(repoRoot, 'bin', 'autocoder'), args, env, timeoutMs);
}

/** The Temporal CLI the stack uses. */
export function temporalCliPath(toolsDir: string): string {
  return findTemporalCli({ temporalCli: process.env.TEMPORAL_CLI, toolsDir })?.path ?? temporalVenvBinary(toolsDir);
}

/** True when the output looks like a stack trace (user-facing errors must never have one). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text) || /internal error/i.test(text);
}

/**
 * Every projects, features and agent_runs row, as JSON text, except those of `exceptProject` (a
 * run in progress changes its own rows): equal dumps before and after = nothing written.
 */
export async function dumpRows(db: Kysely<Database>, exceptProject = ''): Promise<string> {
  const { rows } = await sql<{ dump: string }>`SELECT json_build_object(
      'projects', (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM projects p WHERE p.id <> ${exceptProject}),
      'features', (SELECT coalesce(json_agg(f ORDER BY f.project_id, f.id), '[]') FROM features f WHERE f.project_id <> ${exceptProject}),
      'agent_runs', (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM agent_runs a WHERE a.project_id <> ${exceptProject})
    )::text AS dump`.execute(db);
  return rows[0]!.dump;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** p50 and max of some durations, for the report. */
export function summarize(values: readonly number[]): { n: number; p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0, max: sorted.at(-1) ?? 0 };
}

/** One line for the test output and docs/reliability.md: `[chaos] <scenario>: k=v ...`. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(
    `[chaos] ${scenario}: ${Object.entries(figures)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ')}`,
  );
}
