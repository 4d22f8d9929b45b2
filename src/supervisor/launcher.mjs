// @ts-check
/**
 * The launcher: the first process of every agent tree, run as
 *   node launcher.mjs <statusPath> <argv0> [args...]
 * by spawnAgent in a new session (so its pid is the tree's process group id). It runs the agent
 * argv directly (no shell) in its own group, waits for it, records the exit to <statusPath>, then
 * exits the same way the agent did. The status file is how a worker that adopts the run after a
 * crash learns how the agent ended: it is not the agent's parent and cannot wait() for it.
 *
 * Signals: SIGTERM, SIGINT or SIGHUP sent to the launcher alone are forwarded once to the whole
 * group, so `kill <launcher pid>` stops the agent and its children. The launcher itself stays
 * until the agent ends (to write the status) and never outlives it; SIGKILL ends it at once.
 *
 * Plain JavaScript with node: imports only, because one starts per agent: as TypeScript it took
 * 110 ms and 70 MB RSS to start, as JavaScript 40 ms and 47 MB (type stripping loads a compiler).
 */
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

const [statusPath, command, ...args] = process.argv.slice(2);
if (!statusPath || !command) {
  process.stderr.write('usage: launcher.mjs <statusPath> <argv0> [args...]\n');
  process.exit(2);
}

// The supervisor moves the agent's NODE_OPTIONS aside so that they do not apply to this launcher.
const agentNodeOptions = process.env.AUTOCODER_AGENT_NODE_OPTIONS;
delete process.env.AUTOCODER_AGENT_NODE_OPTIONS;
if (agentNodeOptions !== undefined) process.env.NODE_OPTIONS = agentNodeOptions;

const startedAt = new Date().toISOString();
const agent = spawn(command, args, { stdio: 'inherit' });

/** @type {Set<NodeJS.Signals>} */
const forwarded = new Set();
/** @param {NodeJS.Signals} signal */
const forward = (signal) => {
  // A group signal also reaches the launcher; forwarding once keeps each member at one delivery.
  if (forwarded.has(signal)) return;
  forwarded.add(signal);
  try {
    process.kill(-process.pid, signal);
  } catch {
    agent.kill(signal); // not a group leader (run by hand): forward to the agent alone
  }
};
/** @type {NodeJS.Signals[]} */
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'];
for (const signal of FORWARDED) process.on(signal, forward);

agent.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
  // The agent could not be started at all; shells use 127 for "not found" and 126 otherwise.
  process.stderr.write(`autocoder launcher: cannot start ${JSON.stringify(command)}: ${err.message}\n`);
  record({ exitCode: null, signal: null, agentPid: null, error: err.message });
  process.exit(err.code === 'ENOENT' ? 127 : 126);
});

agent.on('exit', (exitCode, signal) => {
  record({ exitCode, signal, agentPid: agent.pid ?? null });
  if (signal) {
    // Re-raise so that our own exit status is true to the agent's.
    for (const s of FORWARDED) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  }
  process.exit(exitCode ?? 1);
});

/**
 * Writes the status atomically (tmp + fsync + rename), in the format of status-file.ts.
 * @param {{ exitCode: number | null; signal: NodeJS.Signals | null; agentPid: number | null; error?: string }} end
 */
function record(end) {
  const path = /** @type {string} */ (statusPath);
  try {
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify({ ...end, startedAt, endedAt: new Date().toISOString(), writtenBy: 'launcher' })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    process.stderr.write(`autocoder launcher: cannot write status file ${path}: ${String(err)}\n`);
  }
}
