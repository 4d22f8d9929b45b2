/**
 * adoptAgent: take over a run started by a worker that has since died. The launcher is not our
 * child, so we cannot wait() for it: we poll /proc for it (pid and start time) and, once it is
 * gone, read the exit its launcher recorded in the status file.
 */
import { AgentHandle } from './handle.ts';
import type { LauncherEnd } from './handle.ts';
import { readFileSync } from 'node:fs';
import { isDeadState, isProcessAlive, listProcesses, whenGone, type ProcessRef } from './proc.ts';
import type { AgentProcessRef, WatchOptions } from './types.ts';

export type AdoptAgentOptions = WatchOptions & {
  /** How often to check whether the launcher still runs. Default 250 ms. */
  pollMs?: number;
};

/**
 * Returns a handle for the run named by `ref` (the last heartbeat of the worker that spawned it):
 * - launcher alive with the same start time: `handle.adopted` is true and the handle watches it
 *   like a spawned one (wait, kill, tail, timeout and abort all work);
 * - otherwise (ended, or the pid now belongs to another process): `handle.adopted` is false and
 *   the handle is already ending: its outcome comes from the status file, or is `crashed` when
 *   there is none. Either way, processes the run left behind are killed.
 * It never signals a process whose start time differs from the recorded one.
 */
export async function adoptAgent(ref: AgentProcessRef, options: AdoptAgentOptions = {}): Promise<AgentHandle> {
  const pollMs = options.pollMs ?? 250;
  const alive = isProcessAlive(ref.pid, ref.startTime);
  const launcherGone: Promise<LauncherEnd> = alive
    ? whenGone(ref.pid, ref.startTime, pollMs).then(() => null)
    : Promise.resolve(null);
  const command = ref.command ?? '(adopted)';
  return new AgentHandle({ ref, command, adopted: alive, startedAtMs: null, launcherGone }, options);
}

/**
 * The live launcher (a session leader) whose environment holds `name=value`, or null: how a run
 * that no heartbeat or record names is found again, by the run ID every agent tree carries.
 * Linux only (/proc environ); elsewhere null.
 */
export function findLauncherByEnv(name: string, value: string): ProcessRef | null {
  const marker = `\0${name}=${value}\0`;
  for (const info of listProcesses().values()) {
    if (info.pid !== info.sid || isDeadState(info.state)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${info.pid}/environ`, 'latin1');
    } catch {
      continue; // gone, not ours, or no /proc
    }
    if (`\0${environ}\0`.includes(marker)) return { pid: info.pid, startTime: info.startTime };
  }
  return null;
}
