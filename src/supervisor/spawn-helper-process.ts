/**
 * The spawn helper's process (see spawn-helper.ts): starts launchers for the worker that forked
 * it, over its IPC channel, and reports their exits. It imports next to nothing, so that its
 * fork() stays cheap; it leaves when the worker does (the channel closes).
 *
 * Requests and replies are spawn-helper.ts's HelperRequest and HelperReply.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { launcherNote, openLogForAppend, writeLogNote } from './log.ts';
import { readProcessStartTime } from './proc.ts';
import type { HelperReply, HelperRequest } from './spawn-helper.ts';

const send = (reply: HelperReply): void => {
  if (process.connected) process.send?.(reply);
};

process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the worker's whole process group: the worker decides what stops.
process.on('SIGINT', () => undefined);

process.on('message', (request: HelperRequest) => {
  const { id } = request;
  let logFd: number;
  try {
    logFd = openLogForAppend(request.logPath);
  } catch (err) {
    send({ type: 'failed', id, error: (err as Error).message });
    return;
  }
  let child;
  try {
    writeLogNote(logFd, request.startNote);
    // As spawn.ts does: a new session and process group, output straight into the log file.
    child = spawn(request.file, request.args, { cwd: request.cwd, env: request.env, detached: true, stdio: ['ignore', logFd, logFd] });
    if (child.pid !== undefined) writeLogNote(logFd, launcherNote(child.pid));
  } catch (err) {
    send({ type: 'failed', id, error: (err as Error).message });
    return;
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    child.once('error', (err) => send({ type: 'failed', id, error: err.message }));
    return;
  }
  // Read now, before this loop can reap the child: even a zombie still shows its start time.
  const startTime = readProcessStartTime(pid);
  child.on('error', () => undefined);
  child.once('exit', (code, signal) => send({ type: 'exit', pid, code, signal }));
  send({ type: 'spawned', id, pid, startTime });
});
