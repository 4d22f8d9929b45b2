/** Shared pieces of the supervisor tests: fixture paths, temp dirs, polling for pids. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../../src/supervisor/index.ts';

export const FIXTURES = new URL('../fixtures/agents/', import.meta.url).pathname;

export function fixture(name: 'forever' | 'grandchild' | 'ignore-sigterm' | 'exit-with' | 'flood-stdout'): string {
  return join(FIXTURES, name);
}

/** A fresh temp dir, removed by the returned cleanup. */
export function makeTempDir(prefix = 'autocoder-supervisor-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `check` every 20 ms until it returns a value other than undefined, or fails after timeoutMs. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The pids the grandchild fixture wrote, by role, once all five processes are up. */
export async function waitForTreePids(pidFile: string): Promise<Record<string, number>> {
  return waitFor(`5 pids in ${pidFile}`, () => {
    let text: string;
    try {
      text = readFileSync(pidFile, 'utf8');
    } catch {
      return undefined;
    }
    const lines = text.trim().split('\n').filter(Boolean);
    if (lines.length < 5) return undefined;
    return Object.fromEntries(
      lines.map((line) => {
        const [role, pid] = line.split(' ');
        return [role ?? '', Number(pid)];
      }),
    );
  });
}

export function livePids(pids: number[]): number[] {
  return pids.filter((pid) => isProcessAlive(pid));
}

/** Kills leftovers of a failed test so that one failure does not leak into the next. */
export function killQuietly(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
