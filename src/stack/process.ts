/**
 * Process identity and ports for the local stack. A pid alone is not an identity (pids are reused),
 * so every server we start is recorded as pid + start time (+ boot id on Linux) in a JSON pid file,
 * and we only ever signal a pid whose start time still matches the record.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type ProcessRecord = {
  pid: number;
  /** opaque identity from processStartTime(pid) at the time we started it */
  startTime: string;
  /** the ports it serves, by role (frontend, ui, postgres) */
  ports: Record<string, number>;
  startedAt: string;
  /** anything else worth showing (data dir, db file, binary) */
  details?: Record<string, string>;
};

let bootId: string | undefined;

/**
 * When the process started, as an opaque string, or undefined when no such process is alive
 * (zombies count as gone: a detached server reparented to a lazy init may linger as one).
 */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // Fields after the command name (which may hold spaces and parentheses): state is field 3,
    // starttime is field 22 (clock ticks since boot).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${bootId}:${rest[19]}`;
  }
  try {
    const out = execFileSync('ps', ['-o', 'stat=,lstart=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    if (out === '' || out.startsWith('Z')) return undefined;
    return out.slice(out.indexOf(' ') + 1).trim();
  } catch {
    return undefined;
  }
}

/** True when the recorded process is still the one we started. */
export function isRecordAlive(record: ProcessRecord | undefined): record is ProcessRecord {
  return record !== undefined && processStartTime(record.pid) === record.startTime;
}

export function readRecord(file: string): ProcessRecord | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProcessRecord>;
    if (typeof data.pid !== 'number' || typeof data.startTime !== 'string' || typeof data.ports !== 'object')
      return undefined;
    return data as ProcessRecord;
  } catch {
    return undefined;
  }
}

export function writeRecord(file: string, record: ProcessRecord): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, file);
}

export function removeRecord(file: string): void {
  rmSync(file, { force: true });
}

export type StopResult = 'stopped' | 'killed' | 'not-running';

/**
 * Stops the recorded process: `signal` first, then SIGKILL after `graceMs`. Does nothing unless
 * the pid still has the recorded start time.
 */
export async function stopRecordedProcess(
  record: ProcessRecord,
  options: { signal: NodeJS.Signals; graceMs: number; escalate?: NodeJS.Signals[] },
): Promise<StopResult> {
  const signals = [options.signal, ...(options.escalate ?? []), 'SIGKILL' as const];
  for (const [index, signal] of signals.entries()) {
    if (!isRecordAlive(record)) return index === 0 ? 'not-running' : 'stopped';
    try {
      process.kill(record.pid, signal);
    } catch {
      return index === 0 ? 'not-running' : 'stopped';
    }
    if (await waitUntil(() => !isRecordAlive(record), signal === 'SIGKILL' ? 5000 : options.graceMs)) {
      return signal === 'SIGKILL' ? 'killed' : 'stopped';
    }
  }
  return 'killed';
}

/** Polls `check` every `intervalMs` until it is true (→ true) or `timeoutMs` passes (→ false). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** True when something accepts TCP connections on host:port within timeoutMs. */
export function portAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when we could bind host:port right now (nobody listens there, on that or the wildcard address). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolvePromise(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

/** `count` distinct ports that are free on 127.0.0.1 right now (for tests and private stacks). */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolvePromise, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen({ port: 0, host, exclusive: true }, () => resolvePromise(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('listen(0) gave no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await findFreePorts(1, host);
  return port!;
}

/** The last `lines` lines of a log file ('' when missing), for error messages; reads at most 64 KiB. */
export function tailFile(file: string, lines = 5): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 65536);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
