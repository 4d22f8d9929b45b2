/** Types shared by spawnAgent, adoptAgent and the handle they return. */
import type { AgentRunError } from './errors.ts';
import type { ProcessRef } from './proc.ts';

/**
 * Where a supervised agent is in its life:
 * - `spawning`: the launcher runs but has not started the agent process yet;
 * - `running`: the agent process has been started (an adopted run starts here) and is watched;
 * - `stopping`: a kill is in progress, or the agent ended and leftovers of its tree are being killed;
 * - `exited`: the run is over and its outcome is settled; no process of the tree is left.
 */
export type AgentState = 'spawning' | 'running' | 'stopping' | 'exited';

/**
 * Everything needed to find a running agent again from another worker process: heartbeat this
 * (it is plain JSON) and pass it to adoptAgent after a crash.
 */
export type AgentProcessRef = {
  /** Pid of the launcher, which leads the agent's session and process group. */
  pid: number;
  pgid: number;
  /** The launcher's start time (/proc/<pid>/stat field 22): tells a reused pid apart. */
  startTime: number;
  logPath: string;
  statusPath: string;
  /** argv[0] of the agent, for error messages. */
  command?: string;
  /** Descendants seen so far; lets a later kill find children that left the group and lost their parent. */
  knownDescendants?: ProcessRef[];
};

/** The success path: the agent exited with code 0 (every other ending is an AgentRunError). */
export type AgentExit = {
  exitCode: 0;
  signal: null;
  pid: number;
  command: string;
  /** Wall time of the run; null when unknown (adopted run without a recorded start). */
  durationMs: number | null;
  endedAt: string;
  logPath: string;
  /** True when this handle adopted a run started by another worker process. */
  adopted: boolean;
  /** Processes of the tree still running when the agent exited; the supervisor killed them. */
  leftovers: number[];
};

/** An outcome as a value, for callers that record both paths without try/catch. */
export type AgentOutcome = { ok: true; exit: AgentExit } | { ok: false; error: AgentRunError };

/** Options shared by spawnAgent and adoptAgent for watching a run. */
export type WatchOptions = {
  /** Kill the tree with reason `timed_out` after this long (from spawn, or from adoption). */
  timeoutMs?: number;
  /** Kill the tree with reason `stopped` when this aborts (e.g. Temporal's cancellationSignal). */
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL for kills started by timeoutMs or signal. Default 5000 ms. */
  graceMs?: number;
  /** How often the handle records the tree's descendants while the agent runs. Default 1000 ms. */
  trackIntervalMs?: number;
  /** Grace for killing processes the agent left behind when it exited. Default 2000 ms. */
  leftoverGraceMs?: number;
};
