/**
 * Where the local stack keeps its files under the state dir, and the lock that keeps two
 * `autocoder up` (or `run`) processes from starting the same servers at once.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../errors.ts';
import type { EnvConfig } from '../config/env.ts';
import { isRecordAlive, processStartTime, waitUntil, type ProcessRecord } from './process.ts';

export type StackPaths = {
  home: string;
  toolsDir: string;
  temporalDir: string;
  temporalDb: string;
  temporalLog: string;
  /** JSON ProcessRecord of the dev server we started */
  temporalPidFile: string;
  postgresDir: string;
  /** generated once, mode 600 */
  pgPasswordFile: string;
  /** JSON ProcessRecord of the postmaster we started */
  pgPidFile: string;
  lockFile: string;
};

export function stackPaths(cfg: Pick<EnvConfig, 'home' | 'toolsDir'>): StackPaths {
  const temporalDir = join(cfg.home, 'temporal');
  const postgresDir = join(cfg.home, 'postgres');
  return {
    home: cfg.home,
    toolsDir: cfg.toolsDir,
    temporalDir,
    temporalDb: join(temporalDir, 'temporal.db'),
    temporalLog: join(temporalDir, 'server.log'),
    temporalPidFile: join(temporalDir, 'server.pid'),
    postgresDir,
    pgPasswordFile: join(postgresDir, 'password'),
    pgPidFile: join(postgresDir, 'server.pid'),
    lockFile: join(cfg.home, 'stack.lock'),
  };
}

/**
 * Runs `fn` holding the state dir's lock file (created with O_EXCL, holding our pid record).
 * A lock whose holder is gone is taken over; a live holder is waited for up to `timeoutMs`.
 */
export async function withStackLock<T>(
  paths: StackPaths,
  fn: () => Promise<T>,
  options: { log?: (line: string) => void; timeoutMs?: number } = {},
): Promise<T> {
  mkdirSync(paths.home, { recursive: true });
  const me: ProcessRecord = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? '',
    ports: {},
    startedAt: new Date().toISOString(),
  };
  let announced = false;
  const acquired = await waitUntil(
    () => {
      try {
        const fd = openSync(paths.lockFile, 'wx', 0o600);
        writeSync(fd, JSON.stringify(me));
        closeSync(fd);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let holder: ProcessRecord | undefined;
      let text = '';
      try {
        text = readFileSync(paths.lockFile, 'utf8');
        holder = JSON.parse(text) as ProcessRecord;
      } catch {
        holder = undefined;
      }
      if (holder !== undefined && isRecordAlive(holder)) {
        if (!announced)
          options.log?.(`waiting for another autocoder process (pid ${holder.pid}) to finish starting the stack`);
        announced = true;
        return false;
      }
      // Stale (holder died mid-way): remove it unless someone replaced it meanwhile.
      try {
        if (readFileSync(paths.lockFile, 'utf8') === text) rmSync(paths.lockFile, { force: true });
      } catch {
        // already gone
      }
      return false;
    },
    options.timeoutMs ?? 300_000,
    100,
  );
  if (!acquired) {
    throw new InfraError(`timed out waiting for the stack lock ${paths.lockFile}`, {
      hint: 'another autocoder process is starting the stack; wait for it, or delete the lock file if no such process runs',
    });
  }
  try {
    return await fn();
  } finally {
    rmSync(paths.lockFile, { force: true });
  }
}
