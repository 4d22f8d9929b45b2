/**
 * spawnAgent: start one agent argv (never through a shell) under the launcher, in a new session
 * and process group, with its output appended to a log file.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAgentEnv } from './env.ts';
import { AgentRunError } from './errors.ts';
import { AgentHandle } from './handle.ts';
import type { LauncherEnd } from './handle.ts';
import { launcherNote, openLogForAppend, readLogTail, writeLogNote } from './log.ts';
import { readProcessStartTime } from './proc.ts';
import { SpawnHelperLost, spawnHelper } from './spawn-helper.ts';
import { statusPathFor } from './status-file.ts';
import type { WatchOptions } from './types.ts';

export const LAUNCHER_PATH = fileURLToPath(new URL('./launcher.sh', import.meta.url));

export type SpawnAgentOptions = WatchOptions & {
  /** The agent's argv: argv[0] is looked up on the env's PATH; no shell ever parses any of it. */
  argv: readonly string[];
  /** Working directory (the project directory); must exist. */
  cwd: string;
  /** Agent variables (DESIGN.md §5) merged over the inherited ones; `undefined` removes one. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Names inherited from the worker's environment. Default INHERITED_ENV_NAMES (PATH, HOME, LANG, ...). */
  inheritEnv?: readonly string[];
  /** Output file, appended to (directories are created), e.g. `<stateDir>/logs/<runId>.log`. */
  logPath: string;
  /** Where the launcher records the agent's exit. Default `<logPath>.status.json`. */
  statusPath?: string;
  /** Fork the launcher from this process instead of through the spawn helper (spawn-helper.ts). */
  direct?: boolean;
};

function validateArgv(argv: unknown): asserts argv is readonly string[] {
  const ok = Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === 'string' && !a.includes('\0'));
  if (!ok || argv[0] === '') {
    throw new TypeError(`Expected argv to be a non-empty array of strings without NUL, got ${JSON.stringify(argv)}`);
  }
}

/**
 * Starts the agent and resolves with its handle once the launcher process exists. Rejects with
 * AgentRunError (reason `crashed`) when the launcher cannot be started (e.g. cwd is missing); an
 * argv[0] that cannot be executed surfaces the same way from `wait()`.
 */
export async function spawnAgent(options: SpawnAgentOptions): Promise<AgentHandle> {
  validateArgv(options.argv);
  const argv = [...options.argv];
  const command = argv[0]!;
  const { cwd, logPath } = options;
  const statusPath = options.statusPath ?? statusPathFor(logPath);
  const env = buildAgentEnv(options.env ?? {}, options.inheritEnv);
  const startedAtMs = Date.now();
  const fail = (cause: unknown): AgentRunError =>
    new AgentRunError({
      reason: 'crashed',
      command,
      pid: 0,
      exitCode: null,
      signal: null,
      durationMs: Date.now() - startedAtMs,
      outputTail: readLogTail(logPath),
      logPath,
      cause,
    });

  try {
    if (!statSync(cwd).isDirectory()) throw new Error(`cwd is not a directory: ${cwd}`);
  } catch (err) {
    throw fail(err);
  }
  // A status file left by an earlier run under the same path would be taken for this run's.
  rmSync(statusPath, { force: true });
  mkdirSync(dirname(statusPath), { recursive: true });
  // Written by the spawner into the log it opens (one file creation fewer on this thread).
  const startNote = `starting ${JSON.stringify(command)} with ${argv.length - 1} argument(s) in ${JSON.stringify(cwd)}`;
  const launcherArgs = [LAUNCHER_PATH, statusPath, ...argv];
  let started: { pid: number; startTime: number | null; launcherGone: Promise<LauncherEnd> };
  try {
    started = options.direct
      ? await spawnHere(launcherArgs, cwd, env, logPath, startNote)
      : await spawnHelper().spawn({ file: '/bin/sh', args: launcherArgs, cwd, env, logPath, startNote });
  } catch (err) {
    // The helper went away mid-request: a launcher may exist. Not the agent's failure: the caller
    // retries, and a retry finds that launcher by its run ID instead of starting a second one.
    if (err instanceof SpawnHelperLost) throw err;
    throw fail(err);
  }
  const { pid, startTime, launcherGone } = started;
  if (startTime === null) throw fail(new Error(`launcher pid ${pid} vanished before its start time could be read`));
  return new AgentHandle(
    { ref: { pid, pgid: pid, startTime, logPath, statusPath, command }, command, adopted: false, startedAtMs, launcherGone },
    options,
  );
}

/** The launcher as this process's own child (`direct`): what the spawn helper does, in here. */
async function spawnHere(args: string[], cwd: string, env: NodeJS.ProcessEnv, logPath: string, startNote: string): Promise<{ pid: number; startTime: number | null; launcherGone: Promise<LauncherEnd> }> {
  const logFd = openLogForAppend(logPath);
  let child;
  try {
    writeLogNote(logFd, startNote);
    // detached: the launcher leads a new session and process group (setsid) that outlives this
    // worker. The child writes straight into the log file: no pipe through us.
    child = spawn('/bin/sh', args, { cwd, env, detached: true, stdio: ['ignore', logFd, logFd] });
    if (child.pid !== undefined) writeLogNote(logFd, launcherNote(child.pid));
  } finally {
    closeSync(logFd); // the child holds its own copy
  }
  const pid = child.pid;
  if (pid === undefined) throw await new Promise<unknown>((resolve) => child.once('error', resolve));
  // Read now, before the event loop can reap the child: even a zombie still shows its start time.
  const startTime = readProcessStartTime(pid);
  const launcherGone = new Promise<LauncherEnd>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.on('error', () => undefined); // errors after spawn (e.g. kill of a gone pid) change nothing
  return { pid, startTime, launcherGone };
}
