/**
 * Agent output goes straight from the agent to its log file (the child inherits the file
 * descriptor), never through the worker, so ten agents printing gigabytes cost the worker nothing.
 * The "in-memory tail" is read back from the end of that file when it is needed, bounded in bytes
 * and lines.
 */
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const DEFAULT_TAIL_BYTES = 64 * 1024;
export const DEFAULT_TAIL_LINES = 200;

export type TailOptions = { maxBytes?: number; maxLines?: number };

/** Opens the log for appending (creating its directory); the caller closes the fd after spawning. */
export function openLogForAppend(logPath: string): number {
  mkdirSync(dirname(logPath), { recursive: true });
  return openSync(logPath, 'a', 0o644);
}

const noteLine = (note: string): string => `--- autocoder supervisor ${new Date().toISOString()}: ${note}\n`;

/** Appends one supervisor line (kill notices) so the log tells the whole story of the run. */
export function appendLogNote(logPath: string, note: string): void {
  try {
    appendFileSync(logPath, noteLine(note));
  } catch {
    // The log is for people; failing to annotate it must not fail the run.
  }
}

export const launcherNote = (pid: number): string => `launcher pid ${pid} (process group ${pid})`;

/** The same, through a log file descriptor the caller holds open (the spawner, around a spawn). */
export function writeLogNote(logFd: number, note: string): void {
  try {
    writeSync(logFd, noteLine(note));
  } catch {
    // As above.
  }
}

/** The last `maxLines` lines within the last `maxBytes` bytes of the log, '' if there is no log. */
export function readLogTail(logPath: string, options: TailOptions = {}): string {
  const maxBytes = options.maxBytes ?? DEFAULT_TAIL_BYTES;
  const maxLines = options.maxLines ?? DEFAULT_TAIL_LINES;
  let fd: number;
  try {
    fd = openSync(logPath, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    const read = readSync(fd, buffer, 0, buffer.length, start);
    let text = buffer.subarray(0, read).toString('utf8');
    // A cut in the middle of the file starts mid-line (maybe mid-character): drop that fragment.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    const lines = text.split('\n');
    const endsWithNewline = lines.at(-1) === '';
    if (endsWithNewline) lines.pop();
    return lines.slice(-maxLines).join('\n') + (endsWithNewline ? '\n' : '');
  } finally {
    closeSync(fd);
  }
}
