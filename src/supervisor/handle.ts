/**
 * AgentHandle: one supervised agent run, spawned here or adopted from a dead worker. Small
 * policies (timeout, abort, descendant tracking, leftover cleanup) around one process object
 * with an explicit state. There is no retry here: Temporal owns retries.
 */
import { existsSync } from 'node:fs';
import { AgentRunError } from './errors.ts';
import type { AgentRunFailureReason } from './errors.ts';
import { DEFAULT_GRACE_MS, killTree } from './kill-tree.ts';
import type { KillReport } from './kill-tree.ts';
import { appendLogNote, readLogTail } from './log.ts';
import type { TailOptions } from './log.ts';
import { collectTree, hasChildren, isDeadState, listProcesses } from './proc.ts';
import type { ProcessRef, TreeRoot } from './proc.ts';
import { readStatusFile, writeStatusFile } from './status-file.ts';
import type { AgentStatus } from './status-file.ts';
import type { AgentExit, AgentOutcome, AgentProcessRef, AgentState, WatchOptions } from './types.ts';

/** How the launcher ended, as far as the watcher knows (null: not our child, so unknown). */
export type LauncherEnd = { code: number | null; signal: NodeJS.Signals | null } | null;

type HandleInit = {
  ref: AgentProcessRef;
  command: string;
  adopted: boolean;
  /** Epoch ms when the run started, if known (spawned here). */
  startedAtMs: number | null;
  /** Resolves when the launcher is gone. */
  launcherGone: Promise<LauncherEnd>;
};

export type KillReason = 'stopped' | 'timed_out';

/**
 * The handle's lifecycle, one value at a time (the public `state` is its `kind`, `ending` shown
 * as `stopping`):
 *
 *   spawning ─────────▶ running    the launcher has a child: the agent process exists
 *   spawning | running ─▶ stopping kill() (timeout, abort or a caller) while the agent runs
 *   spawning | running ─▶ ending   the launcher ended, or kill() found the agent's exit recorded
 *   stopping ─────────▶ exited     the launcher ended and the kill verified the tree gone
 *   ending ───────────▶ exited     the launcher ended and what the agent left running was killed
 *
 * The reason a run failed is read off the state the launcher's end finds: `stopping` carries the
 * kill's reason, which decides; from any other state the recorded exit (code, signal) decides.
 */
type Lifecycle =
  | { kind: 'spawning' }
  | { kind: 'running' }
  /** A kill was asked for while the agent ran: its reason is the run's, whatever the exit code. */
  | { kind: 'stopping'; reason: KillReason; kill: Promise<KillReport> }
  /** The agent ended on its own (the launcher recorded it): what is left of the tree is killed. */
  | { kind: 'ending' }
  | { kind: 'exited'; outcome: AgentOutcome };

const NO_KILL: KillReport = { killed: [], durationMs: 0, escalated: false, survivors: [] };

export class AgentHandle {
  /** Launcher pid = process group id = session id of the tree. */
  readonly pid: number;
  readonly pgid: number;
  readonly startTime: number;
  readonly logPath: string;
  readonly statusPath: string;
  readonly command: string;
  /** True when the run was started by another worker and is watched through /proc. */
  readonly adopted: boolean;

  #state: Lifecycle;
  #known = new Map<number, number>();
  #outcome: Promise<AgentOutcome>;
  #startedAtMs: number | null;
  #graceMs: number;
  #cleanups: Array<() => void> = [];

  constructor(init: HandleInit, options: WatchOptions = {}) {
    this.pid = init.ref.pid;
    this.pgid = init.ref.pgid;
    this.startTime = init.ref.startTime;
    this.logPath = init.ref.logPath;
    this.statusPath = init.ref.statusPath;
    this.command = init.command;
    this.adopted = init.adopted;
    this.#startedAtMs = init.startedAtMs;
    this.#graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    for (const known of init.ref.knownDescendants ?? []) this.#known.set(known.pid, known.startTime);
    this.#state = init.adopted ? { kind: 'running' } : { kind: 'spawning' };
    this.#watchStart();
    this.#watch(options);
    this.#outcome = init.launcherGone.then((end) => this.#finish(end, options.leftoverGraceMs ?? 2000));
  }

  get state(): AgentState {
    return this.#state.kind === 'ending' ? 'stopping' : this.#state.kind;
  }

  /** What to heartbeat; adoptAgent(ref) finds this run again from another process. */
  get ref(): AgentProcessRef {
    return {
      pid: this.pid,
      pgid: this.pgid,
      startTime: this.startTime,
      logPath: this.logPath,
      statusPath: this.statusPath,
      command: this.command,
      knownDescendants: this.knownDescendants(),
    };
  }

  /** Descendants recorded so far (by the periodic tracking and right before a kill). */
  knownDescendants(): ProcessRef[] {
    return [...this.#known].map(([pid, startTime]) => ({ pid, startTime }));
  }

  /** Walks the process table now and records every live descendant with its start time. */
  refreshDescendants(): ProcessRef[] {
    const tree = collectTree(listProcesses(), this.#root());
    this.#known.clear();
    for (const info of tree.values()) {
      if (info.pid !== this.pid && !isDeadState(info.state)) this.#known.set(info.pid, info.startTime);
    }
    return this.knownDescendants();
  }

  /** The end of the agent's output (stdout and stderr), read from the log file. */
  tail(options?: TailOptions): string {
    return readLogTail(this.logPath, options);
  }

  /** Settles once the run is over and its whole tree is gone; never rejects. */
  outcome(): Promise<AgentOutcome> {
    return this.#outcome;
  }

  /** Resolves when the agent exits 0; rejects with AgentRunError for every other ending. */
  async wait(): Promise<AgentExit> {
    const outcome = await this.#outcome;
    if (outcome.ok) return outcome.exit;
    throw outcome.error;
  }

  /**
   * SIGTERM to the tree, SIGKILL after `graceMs`, then verify no process is left. Resolves when the
   * tree is dead (the outcome, with this reason, settles right after); rejects with KillTreeError
   * if processes survive. A no-op once the run is over; concurrent calls share one kill. When the
   * agent has already ended on its own, the run's own cleanup kills what is left and the recorded
   * exit, not this reason, decides the outcome.
   */
  kill(reason: KillReason = 'stopped', options: { graceMs?: number } = {}): Promise<KillReport> {
    const state = this.#state;
    if (state.kind === 'exited') return Promise.resolve(NO_KILL);
    if (state.kind === 'stopping') return state.kill;
    // The launcher writes the status file only once the agent has ended: it is the fact that says
    // "too late to stop it", where comparing its endedAt with the time of this call would be a guess.
    if (state.kind !== 'ending' && existsSync(this.statusPath)) this.#state = { kind: 'ending' };
    if (this.#state.kind === 'ending') return this.#outcome.then(() => NO_KILL);
    const graceMs = options.graceMs ?? this.#graceMs;
    appendLogNote(this.logPath, `stopping (${reason}): SIGTERM to the process tree, SIGKILL after ${graceMs} ms`);
    this.refreshDescendants();
    // SIGTERM goes to the whole group: the launcher traps it and outlives the agent to record its exit.
    const kill = killTree(this.#root(), { graceMs }).then(
      (report) => {
        const how = report.escalated ? 'SIGKILL was needed' : 'all ended on SIGTERM';
        appendLogNote(
          this.logPath,
          `stopped: ${report.killed.length} process(es) gone in ${report.durationMs} ms, ${how}`,
        );
        return report;
      },
      (err: unknown) => {
        appendLogNote(this.logPath, `kill failed: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      },
    );
    this.#state = { kind: 'stopping', reason, kill };
    return kill;
  }

  #root(): TreeRoot {
    return { pid: this.pid, pgid: this.pgid, startTime: this.startTime, knownDescendants: this.knownDescendants() };
  }

  /** `spawning` lasts until the launcher has a child, i.e. the agent process exists. */
  #watchStart(): void {
    const check = (): void => {
      if (this.#state.kind !== 'spawning') return;
      if (hasChildren(this.pid)) this.#state = { kind: 'running' };
      else setTimeout(check, 10).unref();
    };
    check();
  }

  #watch(options: WatchOptions): void {
    const trackIntervalMs = options.trackIntervalMs ?? 1000;
    const tracker = setInterval(() => {
      if (this.#state.kind === 'running' || this.#state.kind === 'spawning') this.refreshDescendants();
    }, trackIntervalMs);
    tracker.unref();
    this.#cleanups.push(() => clearInterval(tracker));
    const killQuietly = (reason: KillReason): void => {
      // A failed kill is reported by the outcome (#finish awaits the same promise).
      this.kill(reason).catch(() => undefined);
    };
    if (options.timeoutMs !== undefined) {
      const timer = setTimeout(() => killQuietly('timed_out'), options.timeoutMs);
      timer.unref();
      this.#cleanups.push(() => clearTimeout(timer));
    }
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => killQuietly('stopped');
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
      this.#cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /** The launcher is gone: the state it found decides the reason; then the rest of the tree goes. */
  async #finish(end: LauncherEnd, leftoverGraceMs: number): Promise<AgentOutcome> {
    for (const cleanup of this.#cleanups) cleanup();
    const ended = this.#state;
    let killReason: KillReason | null = null;
    let leftovers: number[] = [];
    let failure: unknown = undefined;
    if (ended.kind === 'stopping') {
      killReason = ended.reason;
      failure = await ended.kill.then(
        () => undefined,
        (err: unknown) => err,
      );
    } else {
      this.#state = { kind: 'ending' };
      // Whatever the agent left running (its own children, or the agent itself if the launcher
      // died alone) is killed, so that a finished run never leaves processes behind.
      try {
        const report = await killTree(this.#root(), { graceMs: leftoverGraceMs });
        leftovers = report.killed;
        if (leftovers.length > 0)
          appendLogNote(this.logPath, `killed ${leftovers.length} leftover process(es): ${leftovers.join(', ')}`);
      } catch (err) {
        failure = err;
      }
    }
    const status = readStatusFile(this.statusPath) ?? this.#recordMissingStatus(end, killReason);
    const outcome = this.#toOutcome(status, killReason, leftovers, failure);
    this.#state = { kind: 'exited', outcome };
    return outcome;
  }

  /** The launcher died without writing a status (killed with the tree, or killed alone): record that. */
  #recordMissingStatus(end: LauncherEnd, killReason: KillReason | null): AgentStatus | null {
    if (!killReason && end === null) return null; // adopted and gone without a trace: crashed
    const how = end?.signal ?? (end?.code !== null && end?.code !== undefined ? `exit code ${end.code}` : 'unknown');
    const status: AgentStatus = {
      exitCode: null,
      signal: end?.signal ?? 'SIGKILL',
      agentPid: null,
      startedAt: new Date(this.#startedAtMs ?? Date.now()).toISOString(),
      endedAt: new Date().toISOString(),
      writtenBy: 'supervisor',
      ...(killReason ? {} : { error: `launcher ended (${how}) without recording the agent's exit` }),
    };
    try {
      writeStatusFile(this.statusPath, status);
    } catch {
      // Best effort: the outcome below does not depend on it.
    }
    return status;
  }

  /** `killReason`: the reason of the kill that was under way when the launcher ended, if any. */
  #toOutcome(
    status: AgentStatus | null,
    killReason: KillReason | null,
    leftovers: number[],
    cause: unknown,
  ): AgentOutcome {
    const endedAt = status?.endedAt ?? new Date().toISOString();
    const statusStart = status?.writtenBy === 'launcher' ? Date.parse(status.startedAt) : NaN;
    const startMs = Number.isFinite(statusStart) ? statusStart : this.#startedAtMs;
    const durationMs = startMs === null ? null : Math.max(0, Date.parse(endedAt) - startMs);
    // A kill under way decides, even if the agent exited 0 on its SIGTERM; else the recorded exit.
    let reason: AgentRunFailureReason | null;
    if (killReason) reason = killReason;
    else if (!status || status.error !== undefined) reason = 'crashed';
    else if (status.exitCode === 0 && !cause) reason = null;
    else reason = 'exited';
    if (reason === null) {
      return {
        ok: true,
        exit: {
          exitCode: 0,
          signal: null,
          pid: this.pid,
          command: this.command,
          durationMs,
          endedAt,
          logPath: this.logPath,
          adopted: this.adopted,
          leftovers,
        },
      };
    }
    const crashCause =
      reason === 'crashed' ? new Error(status?.error ?? 'launcher gone and no status file was written') : undefined;
    const error = new AgentRunError({
      reason,
      command: this.command,
      pid: this.pid,
      exitCode: status?.exitCode ?? null,
      signal: status?.signal ?? null,
      durationMs,
      outputTail: this.tail(),
      logPath: this.logPath,
      leftovers,
      cause: cause ?? crashCause,
    });
    return { ok: false, error };
  }
}
