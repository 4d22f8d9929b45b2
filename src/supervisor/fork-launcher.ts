/**
 * forkLauncher: the one fork of an agent's launcher, done in the spawn helper's process (or, for a
 * `direct` spawn, in the caller's). The launcher leads a new session and process group (setsid)
 * that outlives this process, and writes straight into the log file: no pipe through us. The log
 * gets the supervisor's notes before and after the fork. Imports next to nothing: the spawn
 * helper loads it, and its fork() stays cheap while it is small.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { launcherNote, openLogForAppend, writeLogNote } from './log.ts';
import type { LauncherEnd } from './handle.ts';
import { readProcessStartTime } from './proc.ts';

export type LauncherFork = {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logPath: string;
  startNote: string;
};
/** `exited` resolves null when the exit cannot be known any more (a lost spawn helper). */
export type ForkedLauncher = { pid: number; startTime: number | null; exited: Promise<LauncherEnd> };

/** Rejects when the log cannot be opened or the launcher cannot be started (e.g. cwd is missing). */
export async function forkLauncher({
  file,
  args,
  cwd,
  env,
  logPath,
  startNote,
}: LauncherFork): Promise<ForkedLauncher> {
  const logFd = openLogForAppend(logPath);
  let child;
  try {
    writeLogNote(logFd, startNote);
    child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', logFd, logFd] });
    if (child.pid !== undefined) writeLogNote(logFd, launcherNote(child.pid));
  } finally {
    closeSync(logFd); // the child holds its own copy
  }
  const pid = child.pid;
  if (pid === undefined) throw await new Promise<unknown>((resolve) => child.once('error', resolve));
  // Read now, before the event loop can reap the child: even a zombie still shows its start time.
  const startTime = readProcessStartTime(pid);
  const exited = new Promise<LauncherEnd>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.on('error', () => undefined); // errors after spawn (e.g. kill of a gone pid) change nothing
  return { pid, startTime, exited };
}
