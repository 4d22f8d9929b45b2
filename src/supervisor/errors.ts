/**
 * The supervisor's failure domain. An agent run that did not end with exit code 0 is one
 * `AgentRunError`; a kill that could not prove the tree dead is one `KillTreeError`.
 * `type` strings are stable: the activity maps them to Temporal failure types.
 */
import type { ProcessRef } from './proc.ts';
import { failureTypes } from '../workflows/vocabulary.ts';

/**
 * Why an agent run failed:
 * - `exited`: the agent exited on its own with a non-zero code, or was killed by a signal we did not send;
 * - `crashed`: it could not be started, or its launcher died without recording the agent's exit
 *   (so how it ended is unknown);
 * - `timed_out`: we killed it because `timeoutMs` passed;
 * - `stopped`: we killed it on request (`kill('stopped')` or the abort signal).
 */
export type AgentRunFailureReason = 'exited' | 'crashed' | 'timed_out' | 'stopped';

export type AgentRunErrorDetails = {
  reason: AgentRunFailureReason;
  /** argv[0] of the agent, or `(adopted)` when an adopted run's command is not known. */
  command: string;
  /** The launcher's pid, which is also the agent's process group id. */
  pid: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Wall time from start to end; null when neither is known (adopted run that crashed). */
  durationMs: number | null;
  /** Last lines of the agent's output (stdout and stderr interleaved), from the log file. */
  outputTail: string;
  logPath: string;
  /** Processes of the tree still running when the agent ended, killed by the supervisor. */
  leftovers?: number[];
  cause?: unknown;
};

const MESSAGE_TAIL_LINES = 20;

function summary(d: AgentRunErrorDetails): string {
  const took = d.durationMs === null ? '' : `, after ${(d.durationMs / 1000).toFixed(1)}s`;
  const who = `${d.command} (pid ${d.pid}${took})`;
  switch (d.reason) {
    case 'exited':
      if (d.signal) return `agent was killed by ${d.signal}: ${who}`;
      if (d.exitCode === 0) return `agent exited with code 0 but processes it left could not be killed: ${who}`;
      return `agent exited with code ${d.exitCode}: ${who}`;
    case 'crashed':
      return `agent crashed, its exit is unknown${d.cause instanceof Error ? ` (${d.cause.message})` : ''}: ${who}`;
    case 'timed_out':
      return `agent timed out and was killed: ${who}`;
    case 'stopped':
      return `agent was stopped: ${who}`;
  }
}

/** One agent run that did not succeed, with everything needed to debug it. */
export class AgentRunError extends Error {
  override name = 'AgentRunError';
  /** Stable failure type for Temporal: `AgentExited`, `AgentCrashed`, `AgentTimedOut`, `AgentStopped`. */
  readonly type: string;
  readonly reason: AgentRunFailureReason;
  readonly command: string;
  readonly pid: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly durationMs: number | null;
  readonly outputTail: string;
  readonly logPath: string;
  readonly leftovers: number[];

  constructor(details: AgentRunErrorDetails) {
    const tail = details.outputTail.split('\n').slice(-MESSAGE_TAIL_LINES).join('\n').trimEnd();
    const message = `${summary(details)}; log: ${details.logPath}${tail ? `\n${tail}` : ''}`;
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.type = FAILURE_TYPES[details.reason];
    this.reason = details.reason;
    this.command = details.command;
    this.pid = details.pid;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.durationMs = details.durationMs;
    this.outputTail = details.outputTail;
    this.logPath = details.logPath;
    this.leftovers = details.leftovers ?? [];
  }
}

/** The stable failure type of each reason, from the one vocabulary (src/workflows/vocabulary.ts). */
const FAILURE_TYPES: Record<AgentRunFailureReason, string> = {
  exited: failureTypes.agentExited,
  crashed: failureTypes.agentCrashed,
  timed_out: failureTypes.agentTimedOut,
  stopped: failureTypes.agentStopped,
};

/** Some processes of a tree were still alive after SIGKILL and the verification window. */
export class KillTreeError extends Error {
  override name = 'KillTreeError';
  readonly type = 'KillTreeSurvivors';
  readonly pid: number;
  readonly survivors: ProcessRef[];
  readonly durationMs: number;
  constructor(pid: number, survivors: ProcessRef[], durationMs: number) {
    super(
      `process tree of pid ${pid} still has ${survivors.length} live process(es) after SIGKILL: ` +
        `${survivors.map((s) => s.pid).join(', ')}. They may be stuck in uninterruptible I/O (state D); ` +
        `check with \`ps -o pid,stat,cmd -p ${survivors.map((s) => s.pid).join(',')}\``,
    );
    this.pid = pid;
    this.survivors = survivors;
    this.durationMs = durationMs;
  }
}
