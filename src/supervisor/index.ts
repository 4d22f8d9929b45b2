/**
 * The supervisor: agent process trees that are spawned, watched, adopted after a worker crash
 * and killed for certain. Imports neither Temporal nor the database (DESIGN.md §6).
 *
 *   const handle = await spawnAgent({ argv, cwd, env, logPath, timeoutMs, signal });
 *   heartbeat(handle.ref);                   // every few seconds: plain JSON
 *   const exit = await handle.wait();        // AgentExit, or throws AgentRunError
 *
 *   // in a later worker, from the last heartbeat:
 *   const handle = await adoptAgent(lastHeartbeat, { signal });
 *
 * See README.md beside this file for the full contract.
 */
export { spawnAgent, LAUNCHER_PATH } from './spawn.ts';
export type { SpawnAgentOptions } from './spawn.ts';
export { adoptAgent, findLauncherByEnv } from './adopt.ts';
export type { AdoptAgentOptions } from './adopt.ts';
export { AgentHandle } from './handle.ts';
export { killTree, DEFAULT_GRACE_MS } from './kill-tree.ts';
export type { KillReport, KillTreeOptions } from './kill-tree.ts';
export { AgentRunError, KillTreeError } from './errors.ts';
export type { AgentRunFailureReason } from './errors.ts';
export { isProcessAlive, readProcessStartTime, listProcesses, collectTree } from './proc.ts';
export type { ProcessInfo, ProcessRef, TreeRoot } from './proc.ts';
export { readStatusFile, statusPathFor } from './status-file.ts';
export type { AgentStatus } from './status-file.ts';
export { readLogTail } from './log.ts';
export type { TailOptions } from './log.ts';
export { buildAgentEnv, INHERITED_ENV_NAMES } from './env.ts';
export type { AgentExit, AgentOutcome, AgentProcessRef, AgentState, WatchOptions } from './types.ts';
