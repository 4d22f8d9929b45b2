/**
 * The local Temporal dev server (`temporal server start-dev`): persistent SQLite file under the
 * state dir, our search attributes registered, started in its own session so it outlives the CLI,
 * output to a log file, identity in a JSON pid file.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { InfraError, UserError } from '../errors.ts';
import { probeTemporal } from './health.ts';
import type { StackPaths } from './paths.ts';
import {
  isRecordAlive,
  portAnswers,
  portIsFree,
  processStartTime,
  readRecord,
  removeRecord,
  stopRecordedProcess,
  tailFile,
  waitUntil,
  writeRecord,
  type ProcessRecord,
  type StopResult,
} from './process.ts';

const run = promisify(execFile);

/** DESIGN.md §3: registered by `autocoder up` in every namespace the dev server creates. */
export const SEARCH_ATTRIBUTES = {
  AutocoderProject: 'Keyword',
  AutocoderKind: 'Keyword',
  AutocoderFeature: 'Int',
} as const;

export const LOCAL_HOST = '127.0.0.1';

export type TemporalServerOptions = {
  /** path of the temporal CLI; called only when a server must be started */
  resolveCli: () => Promise<string>;
  paths: StackPaths;
  port: number;
  uiPort: number;
  namespace: string;
  log: (line: string) => void;
  /** how long to wait for SERVING (default 60 s; the machine may be busy) */
  startTimeoutMs?: number;
};

export type TemporalServer = { address: string; uiUrl: string; record: ProcessRecord; reused: boolean };

export function temporalAddressOf(record: ProcessRecord): string {
  return `${LOCAL_HOST}:${record.ports.frontend}`;
}

export function temporalUiUrlOf(record: ProcessRecord): string {
  return `http://localhost:${record.ports.ui}`;
}

/** The record of the dev server this state dir started, if that process still runs. */
export function runningTemporalServer(paths: StackPaths): ProcessRecord | undefined {
  const record = readRecord(paths.temporalPidFile);
  return isRecordAlive(record) ? record : undefined;
}

/**
 * History queue readers poll at most 20 times a second per shard by default, a guard for a shared
 * cluster database. Past a short burst, every child start, child close and signal delivery then
 * waited up to 50 ms for its turn (the chain benchmark's dependency-to-start p50: 133 ms with the
 * guard, 83 ms without). One project's runs on a local server need no such guard.
 */
const DEV_SERVER_DYNAMIC_CONFIG = [
  'history.transferProcessorMaxPollRPS=1000',
  'history.timerProcessorMaxPollRPS=1000',
  'history.visibilityProcessorMaxPollRPS=1000',
];

export function startDevArgs(
  options: Pick<TemporalServerOptions, 'paths' | 'port' | 'uiPort' | 'namespace'>,
  supported: { disableNewsFetch: boolean; sqlitePragma?: boolean; dynamicConfig?: boolean },
): string[] {
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    options.paths.temporalDb,
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--ip',
    LOCAL_HOST,
    '--log-level',
    'warn',
  ];
  // Keeps the UI from calling out to the internet; older CLIs (a user's own, the go-built one) may lack it.
  if (supported.disableNewsFetch) args.push('--ui-disable-news-fetch');
  if (supported.dynamicConfig)
    for (const value of DEV_SERVER_DYNAMIC_CONFIG) args.push('--dynamic-config-value', value);
  // A write-ahead log synced at checkpoints: every workflow task is a few SQLite commits, and the
  // rollback journal's fsync per commit cost the chain benchmark ~40 ms per feature (bench/). A
  // commit still survives the server being killed; only an OS crash may lose the last ones.
  if (supported.sqlitePragma) args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  if (options.namespace !== 'default') args.push('--namespace', options.namespace);
  return args;
}

/** Reuses the running dev server of this state dir, or starts one and waits until it serves. */
export async function ensureTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const { paths, log } = options;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const running = runningTemporalServer(paths);
  if (running) {
    if (running.ports.frontend !== options.port || running.ports.ui !== options.uiPort) {
      log(
        `temporal: already running from ${paths.home} on ports ${running.ports.frontend}/${running.ports.ui}; ` +
          `keeping those (run autocoder down first to change ports)`,
      );
    }
    // It served when the `up` that started it returned; a live process with an open port still
    // does (a plain TCP check keeps reuse cheap). Otherwise wait as for a fresh start.
    if (!(await portAnswers(LOCAL_HOST, running.ports.frontend!, 1000)))
      await waitForServing(running, paths, timeoutMs);
    return { address: temporalAddressOf(running), uiUrl: temporalUiUrlOf(running), record: running, reused: true };
  }
  removeRecord(paths.temporalPidFile);

  await assertPortFree(options.port, 'Temporal frontend', 'AUTOCODER_TEMPORAL_PORT', '--temporal-port');
  await assertPortFree(options.uiPort, 'Temporal UI', 'AUTOCODER_TEMPORAL_UI_PORT', '--ui-port');

  const cli = await options.resolveCli();
  mkdirSync(paths.temporalDir, { recursive: true });
  const help = await helpText(cli, ['server', 'start-dev']);
  const args = startDevArgs(options, {
    disableNewsFetch: help.includes('--ui-disable-news-fetch'),
    sqlitePragma: help.includes('--sqlite-pragma'),
    dynamicConfig: help.includes('--dynamic-config-value'),
  });
  const logFd = openSync(paths.temporalLog, 'a');
  writeSync(logFd, `\n--- ${new Date().toISOString()} autocoder starts: ${cli} ${args.join(' ')}\n`);
  let child;
  try {
    // detached: own session and process group, so it survives our exit and terminal signals.
    child = spawn(cli, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  const startTime = pid === undefined ? undefined : processStartTime(pid);
  if (pid === undefined || startTime === undefined) {
    throw new InfraError(
      `could not start the Temporal dev server (${cli}); see ${paths.temporalLog}: ${tailFile(paths.temporalLog, 1)}`,
    );
  }
  child.unref();
  child.on('error', () => undefined);
  const record: ProcessRecord = {
    pid,
    startTime,
    ports: { frontend: options.port, ui: options.uiPort },
    startedAt: new Date().toISOString(),
    details: { db: paths.temporalDb, log: paths.temporalLog, cli: cli },
  };
  writeRecord(paths.temporalPidFile, record);
  try {
    await waitForServing(record, paths, timeoutMs);
  } catch (error) {
    await stopRecordedProcess(record, { signal: 'SIGTERM', graceMs: 5000 });
    removeRecord(paths.temporalPidFile);
    throw error;
  }
  return { address: temporalAddressOf(record), uiUrl: temporalUiUrlOf(record), record, reused: false };
}

async function waitForServing(record: ProcessRecord, paths: StackPaths, timeoutMs: number): Promise<void> {
  const address = temporalAddressOf(record);
  let lastError = 'port not open yet';
  let exited = false;
  const ready = await waitUntil(
    async () => {
      if (!isRecordAlive(record)) {
        exited = true;
        return true;
      }
      if (!(await portAnswers(LOCAL_HOST, record.ports.frontend!, 500))) return false;
      const probe = await probeTemporal(address, { timeoutMs: 2000 });
      if (!probe.ok) lastError = probe.error;
      return probe.ok;
    },
    timeoutMs,
    100,
  );
  if (exited) {
    const tail = tailFile(paths.temporalLog, 20);
    const inUse = /address already in use/i.test(tail);
    if (inUse) {
      // Someone bound the port between our check and the server's bind.
      throw new UserError(
        `port ${record.ports.frontend} or ${record.ports.ui} is in use by another process: ` +
          `set AUTOCODER_TEMPORAL_PORT / AUTOCODER_TEMPORAL_UI_PORT or pass --temporal-port / --ui-port`,
      );
    }
    throw new InfraError(`the Temporal dev server exited while starting; last log line: ${lastLine(tail)}`, {
      hint: `read ${paths.temporalLog}`,
    });
  }
  if (!ready) {
    throw new InfraError(
      `the Temporal dev server at ${address} was not serving after ${Math.round(timeoutMs / 1000)} s (${lastError})`,
      {
        hint: `read ${paths.temporalLog}; on a busy machine retry, or run autocoder down && autocoder up`,
      },
    );
  }
}

/** Stops the dev server only if the recorded process is the one we started. */
export async function stopTemporalServer(paths: StackPaths): Promise<StopResult> {
  const record = readRecord(paths.temporalPidFile);
  if (record === undefined) return 'not-running';
  const result = await stopRecordedProcess(record, { signal: 'SIGTERM', graceMs: 10_000 });
  removeRecord(paths.temporalPidFile);
  return result;
}

/** One line naming the port and what changes it; no hint line, so the whole error is one line. */
export async function assertPortFree(port: number, what: string, variable: string, flag: string): Promise<void> {
  if (await portIsFree(port, LOCAL_HOST)) return;
  throw new UserError(
    `port ${port} (${what}) is in use by another process: set ${variable} or pass ${flag} to use another port`,
  );
}

/** A command's --help, to tell which flags this CLI (perhaps a user's older one) has; '' if it fails. */
async function helpText(cli: string, command: string[]): Promise<string> {
  try {
    return (await run(cli, [...command, '--help'], { timeout: 30_000 })).stdout;
  } catch {
    return '';
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--- '));
  return lines[lines.length - 1] ?? '(log is empty)';
}
