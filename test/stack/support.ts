/**
 * Helpers for the stack tests: a private state dir under the temp dir, free ports, the Temporal
 * CLI cached in <repo>/.autocoder-test/tools (installed once, shared by every run), and the real
 * CLI run as a subprocess.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePorts } from '../../src/stack/index.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedToolsDir = process.env.AUTOCODER_TOOLS_DIR ?? join(repoRoot, '.autocoder-test', 'tools');

export function makeHome(prefix = 'ac-stack-'): { home: string; remove: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

/** Environment for a private stack: own state dir and ports, shared tools, no external servers. */
export async function stackEnv(home: string): Promise<NodeJS.ProcessEnv> {
  const [temporal, ui, pg] = await findFreePorts(3);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // NODE_TEST_CONTEXT would make the CLI's node think it is a test-runner child.
  for (const name of [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'AUTOCODER_TASK_QUEUE',
    'NODE_TEST_CONTEXT',
  ])
    delete env[name];
  return {
    ...env,
    AUTOCODER_HOME: home,
    AUTOCODER_TOOLS_DIR: sharedToolsDir,
    AUTOCODER_TEMPORAL_PORT: String(temporal),
    AUTOCODER_TEMPORAL_UI_PORT: String(ui),
    AUTOCODER_PG_PORT: String(pg),
  };
}

export type CliResult = { code: number; stdout: string; stderr: string };

export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(join(repoRoot, 'bin', 'autocoder'), args, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** True when the output looks like a stack trace (user-facing errors must never have one). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text) || /internal error/i.test(text);
}
