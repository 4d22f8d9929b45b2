/**
 * The status file: how an agent ended, written by its launcher (or, when the launcher itself was
 * killed, by the supervisor that killed it). It outlives the worker, so a later worker that adopts
 * the run can learn the exit. The supervisor writes it atomically (tmp + rename); the launcher writes
 * it in place, and nobody reads it before the launcher is gone (a cut-short write is no JSON: null).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export type AgentStatus = {
  /** The agent's exit code, or null when it was ended by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Pid of the agent itself (the launcher's child); null if it could not be started. */
  agentPid: number | null;
  startedAt: string;
  endedAt: string;
  /** Set when the agent could not be started (e.g. `spawn ./x ENOENT`). */
  error?: string;
  writtenBy: 'launcher' | 'supervisor';
};

/** The default status path for a log file. */
export function statusPathFor(logPath: string): string {
  return `${logPath}.status.json`;
}

export function writeStatusFile(path: string, status: AgentStatus): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(status)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The recorded status, or null if there is none (or it is not a status file we wrote). */
export function readStatusFile(path: string): AgentStatus | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const s = raw as Record<string, unknown>;
  const codeOk = s.exitCode === null || Number.isInteger(s.exitCode);
  const signalOk = s.signal === null || typeof s.signal === 'string';
  if (!codeOk || !signalOk || typeof s.endedAt !== 'string') return null;
  return raw as AgentStatus;
}
