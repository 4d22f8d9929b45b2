import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixtures = `${repoRoot}test/fixtures/feature-files/`;

export type CliResult = { exitCode: number; stdout: string; stderr: string };

// Node's compile cache halves the CPU each CLI start costs (it loads every command's modules).
const env = { ...process.env, NODE_COMPILE_CACHE: join(tmpdir(), 'autocoder-test-compile-cache') };

/** Runs `bin/autocoder ...args` as a real subprocess from the repository root. */
export function runCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      `${repoRoot}bin/autocoder`,
      args,
      { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ exitCode: code, stdout, stderr });
      },
    );
  });
}

/** Maps over items with at most `limit` running at once (the machine's cores are shared). */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
