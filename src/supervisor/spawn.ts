/**
 * spawnAgent: start one agent argv (never through a shell) under the launcher, in a new session
 * and process group, with its output appended to a log file.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAgentEnv } from './env.ts';
import { AgentRunError } from './errors.ts';
import { AgentHandle } from './handle.ts';
import { forkLauncher, type ForkedLauncher, type LauncherFork } from './fork-launcher.ts';
import { readLogTail } from './log.ts';
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
  const launch: LauncherFork = {
    file: '/bin/sh',
    args: [LAUNCHER_PATH, statusPath, ...argv],
    cwd,
    env,
    logPath,
    // Written by the spawner into the log it opens (one file creation fewer on this thread).
    startNote: `starting ${JSON.stringify(command)} with ${argv.length - 1} argument(s) in ${JSON.stringify(cwd)}`,
  };
  let started: ForkedLauncher;
  try {
    started = await (options.direct ? forkLauncher(launch) : spawnHelper().spawn(launch));
  } catch (err) {
    // The helper went away mid-request: a launcher may exist. Not the agent's failure: the caller
    // retries, and a retry finds that launcher by its run ID instead of starting a second one.
    if (err instanceof SpawnHelperLost) throw err;
    throw fail(err);
  }
  const { pid, startTime, exited: launcherGone } = started;
  if (startTime === null) throw fail(new Error(`launcher pid ${pid} vanished before its start time could be read`));
  return new AgentHandle(
    {
      ref: { pid, pgid: pid, startTime, logPath, statusPath, command },
      command,
      adopted: false,
      startedAtMs,
      launcherGone,
    },
    options,
  );
}
