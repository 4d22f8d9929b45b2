/**
 * The launcher: the first process of every agent tree, run as
 *   node launcher.ts <statusPath> <argv0> [args...]
 * by spawnAgent in a new session (so its pid is the tree's process group id). It runs the agent
 * argv directly (no shell) in its own group, waits for it, records the exit to <statusPath>, then
 * exits the same way the agent did. The status file is how a worker that adopts the run after a
 * crash learns how the agent ended: it is not the agent's parent and cannot wait() for it.
 *
 * Signals: SIGTERM, SIGINT or SIGHUP sent to the launcher alone are forwarded once to the whole
 * group, so `kill <launcher pid>` stops the agent and its children. The launcher itself stays
 * until the agent ends (to write the status) and never outlives it; SIGKILL ends it at once.
 * Keep this file small and free of imports beyond node:* and the status file: it starts per agent.
 */
import { spawn } from 'node:child_process';
import { writeStatusFile } from './status-file.ts';

const [statusPath, command, ...args] = process.argv.slice(2);
if (!statusPath || !command) {
  process.stderr.write('usage: launcher.ts <statusPath> <argv0> [args...]\n');
  process.exit(2);
}

// The supervisor moves the agent's NODE_OPTIONS aside so that they do not apply to this launcher.
const agentNodeOptions = process.env.AUTOCODER_AGENT_NODE_OPTIONS;
delete process.env.AUTOCODER_AGENT_NODE_OPTIONS;
if (agentNodeOptions !== undefined) process.env.NODE_OPTIONS = agentNodeOptions;

const startedAt = new Date().toISOString();
const agent = spawn(command, args, { stdio: 'inherit' });

const forwarded = new Set<NodeJS.Signals>();
const forward = (signal: NodeJS.Signals): void => {
  // A group signal also reaches the launcher; forwarding once keeps each member at one delivery.
  if (forwarded.has(signal)) return;
  forwarded.add(signal);
  try {
    process.kill(-process.pid, signal);
  } catch {
    agent.kill(signal); // not a group leader (run by hand): forward to the agent alone
  }
};
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
for (const signal of FORWARDED) process.on(signal, forward);

agent.on('error', (err: NodeJS.ErrnoException) => {
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

function record(end: { exitCode: number | null; signal: NodeJS.Signals | null; agentPid: number | null; error?: string }): void {
  try {
    writeStatusFile(statusPath!, { ...end, startedAt, endedAt: new Date().toISOString(), writtenBy: 'launcher' });
  } catch (err) {
    process.stderr.write(`autocoder launcher: cannot write status file ${statusPath}: ${String(err)}\n`);
  }
}
