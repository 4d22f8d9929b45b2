/**
 * killTree: SIGTERM → grace → SIGKILL → verify, for a whole process tree.
 *
 * The tree is found by walking the process table (see collectTree), not only by process group:
 * a child that called setsid has left the group but is still found through its parent link, and
 * descendants recorded earlier (knownDescendants) are found even after their parent died and they
 * were re-parented to init. Every round re-walks the table, so processes forked after the first
 * signal are signalled too. Start times are checked so that a reused pid is never signalled.
 *
 * Limitation: a process that called setsid and whose parent then died before anyone recorded it
 * (between two tracking rounds, or before adoption) has no link left to the tree and cannot be
 * found. A cgroup per agent would close that gap; Node cannot make the worker a child subreaper.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KillTreeError } from './errors.ts';
import { collectTree, isDeadState, listProcesses, readProcessStartTime } from './proc.ts';
import type { ProcessInfo, ProcessRef, TreeRoot } from './proc.ts';

export const DEFAULT_GRACE_MS = 5000;

export type KillTreeOptions = {
  /** Time between SIGTERM and SIGKILL. Default 5000 ms. */
  graceMs?: number;
  /** After SIGKILL, how long to keep re-killing and polling before giving up. Default 2000 ms. */
  verifyTimeoutMs?: number;
  /** Longest interval of the table walk during the grace period (it starts at 10 ms). Default 50 ms. */
  pollMs?: number;
  /**
   * The root forwards SIGTERM to its own group (the launcher does): send the group's SIGTERM to
   * the root alone so that each member gets exactly one. Processes outside the group are
   * signalled directly either way, and SIGKILL always goes to everyone.
   */
  termViaLeader?: boolean;
};

export type KillReport = {
  /** Every pid of the tree that was signalled, ascending. */
  killed: number[];
  /** From the call to the verified death of the last process. */
  durationMs: number;
  /** True when SIGKILL was needed (something outlived the grace period). */
  escalated: boolean;
  /** Always empty: when processes survive, killTree throws KillTreeError instead. */
  survivors: ProcessRef[];
};

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone. EPERM: not ours to kill; the survivors check reports it.
  }
}

function alive(members: Map<number, ProcessInfo>): ProcessInfo[] {
  return [...members.values()].filter((info) => !isDeadState(info.state));
}

/**
 * True when the walk below could find no live member: it starts from the root, the group and the
 * known descendants, so when the root and every known descendant are gone and the group is empty
 * (signal 0 says ESRCH; a zombie member still counts) nothing is reachable. Spares a read of every
 * /proc entry at the end of each run that left nothing behind, which is most of them.
 */
function certainlyGone(root: TreeRoot): boolean {
  if (process.platform !== 'linux') return false;
  try {
    process.kill(-(root.pgid ?? root.pid), 0);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') return false;
  }
  const gone = (ref: { pid: number; startTime?: number | null }): boolean => {
    const startTime = readProcessStartTime(ref.pid);
    return startTime === null || (ref.startTime != null && startTime !== ref.startTime);
  };
  return gone(root) && (root.knownDescendants ?? []).every(gone);
}

/**
 * Kills a process tree for certain, or throws KillTreeError naming the survivors.
 * `target` is a root pid, or a TreeRoot with the root's start time, group and known descendants.
 */
export async function killTree(target: number | TreeRoot, options: KillTreeOptions = {}): Promise<KillReport> {
  const started = performance.now();
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const verifyTimeoutMs = options.verifyTimeoutMs ?? 2000;
  const pollMs = options.pollMs ?? 50;
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new TypeError(`Expected graceMs to be a non-negative number, got ${String(graceMs)}`);
  }
  const root: TreeRoot = typeof target === 'number' ? { pid: target, startTime: readProcessStartTime(target) } : target;
  if (certainlyGone(root))
    return { killed: [], durationMs: Math.round(performance.now() - started), escalated: false, survivors: [] };
  const pgid = root.pgid ?? root.pid;
  const seen = new Map<number, number>(); // pid → start time of every tree member seen so far
  for (const known of root.knownDescendants ?? []) seen.set(known.pid, known.startTime);
  const signalled = new Set<number>();

  const walk = (): ProcessInfo[] => {
    const table = listProcesses();
    const own = table.get(process.pid);
    if (own && own.pgid === pgid) {
      throw new TypeError(`Refusing to kill process group ${pgid}: it is this worker's own group`);
    }
    const knownDescendants = [...seen].map(([pid, startTime]) => ({ pid, startTime }));
    const members = alive(collectTree(table, { ...root, knownDescendants }));
    for (const info of members) seen.set(info.pid, info.startTime);
    return members;
  };
  // `group`: one signal to the group (or to its leader, which forwards it) plus each process
  // outside the group; `each`: every process on its own.
  const signal = (members: ProcessInfo[], sig: NodeJS.Signals, how: 'group' | 'leader' | 'each'): void => {
    if (how !== 'each' && members.some((info) => info.pgid === pgid)) send(how === 'leader' ? root.pid : -pgid, sig);
    for (const info of members) {
      if (how === 'each' || info.pgid !== pgid) send(info.pid, sig);
      signalled.add(info.pid);
    }
  };

  // SIGTERM the snapshot, then re-walk: anything new (forked since, or moved out of the group) gets it too.
  let members = walk();
  const viaLeader = (options.termViaLeader ?? false) && members.some((info) => info.pid === root.pid);
  signal(members, 'SIGTERM', viaLeader ? 'leader' : 'group');
  const graceEnd = started + graceMs;
  // Most trees die within milliseconds of SIGTERM: look again soon, then back off to pollMs.
  let interval = Math.min(10, pollMs);
  while (members.length > 0 && performance.now() < graceEnd) {
    await sleep(Math.min(interval, Math.max(1, graceEnd - performance.now())));
    interval = Math.min(pollMs, interval * 2);
    members = walk();
    signal(
      members.filter((info) => !signalled.has(info.pid)),
      'SIGTERM',
      'each',
    );
  }

  // SIGKILL whatever is left, re-walking until the tree is gone or the verify window ends.
  const escalated = members.length > 0;
  const verifyEnd = performance.now() + verifyTimeoutMs;
  while (members.length > 0) {
    signal(members, 'SIGKILL', 'group');
    await sleep(10);
    members = walk();
    if (performance.now() >= verifyEnd) break;
  }
  const durationMs = Math.round(performance.now() - started);
  if (members.length > 0) {
    throw new KillTreeError(
      root.pid,
      members.map((info) => ({ pid: info.pid, startTime: info.startTime })),
      durationMs,
    );
  }
  return { killed: [...signalled].sort((a, b) => a - b), durationMs, escalated, survivors: [] };
}
