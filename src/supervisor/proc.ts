/**
 * The process table: who is alive, who descends from whom, and when each process started.
 *
 * A pid alone does not name a process: pids are reused. Everywhere in the supervisor a process is
 * named by `{ pid, startTime }`, where startTime is field 22 of /proc/<pid>/stat (clock ticks
 * since boot) on Linux. On other systems it comes from `ps -o lstart=` (milliseconds since the
 * epoch, one-second resolution); only the Linux path is exercised by the tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** One row of the process table. `state` is the one-letter kernel state (R, S, D, Z, ...). */
export type ProcessInfo = {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  state: string;
  startTime: number;
};

/** A process named so that a reused pid is not mistaken for it. */
export type ProcessRef = { pid: number; startTime: number };

const isLinux = process.platform === 'linux';

/**
 * The fields of a /proc/<pid>/stat line after the command name (which is in parentheses and may
 * itself hold spaces or ')'): field n of proc(5) is at index n - 3, from field 3 (state).
 */
export function statFields(text: string): string[] | null {
  const close = text.lastIndexOf(')');
  return close < 0 ? null : text.slice(close + 2).split(' ');
}

function parseStat(text: string): ProcessInfo | null {
  const fields = statFields(text);
  if (!fields) return null;
  const pid = Number.parseInt(text, 10);
  const field = (n: number): number => Number(fields[n - 3]);
  const info: ProcessInfo = {
    pid,
    state: fields[0] ?? '?',
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    startTime: field(22),
  };
  return Number.isFinite(info.startTime) ? info : null;
}

function readStat(pid: number): ProcessInfo | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null; // gone, or never existed
  }
}

/** Start time of a live (or zombie) process, or null when there is no such pid. */
export function readProcessStartTime(pid: number): number | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (isLinux) return readStat(pid)?.startTime ?? null;
  return psTable([pid])[0]?.startTime ?? null;
}

/** A zombie has exited and only waits to be reaped: it counts as dead and cannot be signalled. */
export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

/**
 * True if `pid` is running and, when `startTime` is given, is the same process that had that
 * start time (not a later process that reused the pid).
 */
export function isProcessAlive(pid: number, startTime?: number | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const info = isLinux ? readStat(pid) : (psTable([pid])[0] ?? null);
  if (!info || isDeadState(info.state)) return false;
  return startTime === undefined || startTime === null || info.startTime === startTime;
}

/** Resolves once `pid` with that start time is gone (checked now, then every `pollMs`): how a process that is not our child is watched. */
export function whenGone(pid: number, startTime: number, pollMs: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => {
      if (isProcessAlive(pid, startTime)) setTimeout(poll, pollMs);
      else resolve();
    };
    poll();
  });
}

/**
 * True once `pid` has at least one child (the launcher has started the agent). Linux only; where
 * /proc/<pid>/task/<pid>/children is missing it answers true rather than wait forever.
 */
export function hasChildren(pid: number): boolean {
  if (!isLinux) return true;
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim() !== '';
  } catch {
    return existsSync(`/proc/${pid}`); // gone: no; there but no children file: assume started
  }
}

/** Every process visible to us. Linux reads /proc; elsewhere one `ps` call. */
export function listProcesses(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  if (!isLinux) {
    for (const info of psTable()) table.set(info.pid, info);
    return table;
  }
  for (const name of readdirSync('/proc')) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid directory
    const info = readStat(Number(name));
    if (info) table.set(info.pid, info);
  }
  return table;
}

/** Fallback for systems without /proc (macOS, BSD). Untested here: the CI machine is Linux. */
function psTable(pids?: number[]): ProcessInfo[] {
  const args = ['-o', 'pid=,ppid=,pgid=,sess=,stat=,lstart='];
  args.unshift(...(pids ? ['-p', pids.join(',')] : ['-A']));
  let out: string;
  try {
    out = execFileSync('ps', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return []; // ps exits 1 when none of the pids exist
  }
  const rows: ProcessInfo[] = [];
  for (const line of out.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.+)$/.exec(line);
    if (!match) continue;
    const [, pid, ppid, pgid, sid, stat, lstart] = match;
    rows.push({
      pid: Number(pid),
      ppid: Number(ppid),
      pgid: Number(pgid),
      sid: Number(sid),
      state: (stat ?? '?').charAt(0),
      startTime: Date.parse(lstart ?? ''),
    });
  }
  return rows;
}

/** Our own pid and every ancestor: never signalled, whatever a caller passes. */
export function protectedPids(table: Map<number, ProcessInfo>): Set<number> {
  const keep = new Set<number>([0, 1, process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !keep.has(pid)) {
    keep.add(pid);
    pid = table.get(pid)?.ppid ?? 0;
  }
  return keep;
}

/** What identifies a process tree: its root (the launcher), its group, and what we saw before. */
export type TreeRoot = {
  pid: number;
  /** Process group to include; defaults to `pid` (the launcher leads its own session and group). */
  pgid?: number;
  /** The root's start time; when the pid now belongs to another process, its group is skipped. */
  startTime?: number | null;
  /** Descendants recorded earlier: found again even after their parent died and they moved to init. */
  knownDescendants?: readonly ProcessRef[];
};

/**
 * Every live member of a tree, by pid → start time: the root, the members of its process group
 * and session, the known descendants that still have their recorded start time, and, to a fixed
 * point, every child of any member (this finds children that called setsid while their parent
 * lives). Zombies are included (they still hold their pid); callers filter with isDeadState.
 */
export function collectTree(table: Map<number, ProcessInfo>, root: TreeRoot): Map<number, ProcessInfo> {
  const keep = protectedPids(table);
  const members = new Map<number, ProcessInfo>();
  const add = (info: ProcessInfo | undefined): void => {
    if (info && !keep.has(info.pid)) members.set(info.pid, info);
  };
  const rootNow = table.get(root.pid);
  const rootStartKnown = root.startTime !== undefined && root.startTime !== null;
  const rootReused = rootNow !== undefined && rootStartKnown && rootNow.startTime !== root.startTime;
  if (rootNow && !rootReused) add(rootNow);
  // While any member of group X lives, the kernel will not hand out pid X, so members of group X
  // are ours unless pid X itself now belongs to a different process (then the group is its).
  if (!rootReused) {
    const pgid = root.pgid ?? root.pid;
    for (const info of table.values()) {
      if (info.pgid === pgid || info.sid === root.pid) add(info);
    }
  }
  for (const known of root.knownDescendants ?? []) {
    const info = table.get(known.pid);
    if (info && info.startTime === known.startTime) add(info);
  }
  // Children of members, to a fixed point.
  let grew = true;
  while (grew) {
    grew = false;
    for (const info of table.values()) {
      if (!members.has(info.pid) && members.has(info.ppid) && !keep.has(info.pid)) {
        members.set(info.pid, info);
        grew = true;
      }
    }
  }
  return members;
}
