/**
 * How a run shows while it goes. On a terminal: one live view, redrawn in place (log-update),
 * with a progress bar, each running agent (kind, feature, elapsed, its last output line) and the
 * failures. Elsewhere (CI, pipes): plain timestamped lines, one per change.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { styleText } from 'node:util';
import { createLogUpdate } from 'log-update';
import { logFileFor } from '../activities/supervise.ts';
import { escapeForTerminal } from '../features/terminal.ts';
import { agentLabel } from '../workflows/agent-label.ts';
import type { ProjectRunStatus, RunningAgent } from '../workflows/messages.ts';
import { describePause, describeSpend } from './pause-line.ts';
import { describeChanges } from './progress.ts';

const POLL_MS = 500;

export type LiveViewOptions = {
  read: () => Promise<ProjectRunStatus>;
  /** State dir of the worker, for the agents' last output lines (same host only). */
  stateDir: string;
  out: (line: string) => void;
  tty?: boolean;
};

/** Starts the view; the returned function stops it and resolves once no query is in flight. */
export function startLiveView(options: LiveViewOptions): () => Promise<void> {
  // A terminal with no size (a pty nobody sized) cannot show a frame: plain lines there too.
  const tty = options.tty ?? (Boolean(process.stdout.isTTY) && (process.stdout.rows ?? 0) > 0);
  let stopped = false;
  let wakeUp = (): void => undefined;
  let previous: ProjectRunStatus | null = null;
  const draw = tty ? createLogUpdate(process.stdout, { showCursor: true }) : null;
  const stamp = () => new Date().toISOString().slice(11, 19);
  const loop = async () => {
    while (!stopped) {
      try {
        const status = await options.read();
        if (draw) draw(renderFrame(status, options.stateDir, process.stdout.columns || 100));
        else for (const line of describeChanges(previous, status)) options.out(`${stamp()} ${line}`);
        previous = status;
      } catch {
        // Between continue-as-new runs or just ended: the next poll tells.
      }
      if (!stopped)
        await new Promise<void>((r) => {
          wakeUp = r;
          setTimeout(r, POLL_MS);
        });
    }
  };
  const looping = loop();
  return async () => {
    stopped = true;
    wakeUp();
    // The connection closes after this: no query may still be on the wire then.
    await looping;
    // The summary that follows says it all; the live frame goes.
    draw?.clear();
    draw?.done();
  };
}

const color = (style: Parameters<typeof styleText>[0], text: string) =>
  styleText(style, text, { validateStream: true, stream: process.stdout });

export function renderFrame(status: ProjectRunStatus, stateDir: string, width: number): string {
  const c = status.counts;
  const elapsed = formatDuration(Date.now() - Date.parse(status.startedAt));
  const paused = describePause(status.pause);
  const phase = paused ? `${status.phase} (${paused})` : status.phase;
  const s = status.settings;
  const lines = [
    `${color('bold', status.project)}  ${color('cyan', phase)}  ·  concurrency ${s.concurrency} · testing ratio ${s.yolo ? 'off (yolo)' : s.testingRatio} · ${elapsed}`,
    `${progressBar(c.passing, c.total, Math.min(30, Math.max(10, width - 60)))}  ${c.passing}/${c.total} passing · ${status.running.length} running · ${c.failed} failed · ${c.blocked} blocked`,
  ];
  // Histories from before spend have no spend in their status.
  if (status.spend) lines.push(`  ${describeSpend(status)}`);
  if (status.quotaWarning) lines.push(color('yellow', `  ${escapeForTerminal(status.quotaWarning.message)}`));
  for (const agent of status.running) lines.push(agentLine(agent, stateDir, width));
  for (const f of status.failures.slice(0, 5)) {
    lines.push(
      color(
        'red',
        truncate(`  failed #${f.featureId} ×${f.count}: ${escapeForTerminal(f.lastError ?? '')}`, width - 1),
      ),
    );
  }
  if (status.held.length)
    lines.push(
      color(
        'yellow',
        `  held by operator: ${status.held.map((id) => `#${id}`).join(', ')} (retry-feature to schedule again)`,
      ),
    );
  return lines.join('\n');
}

function agentLine(agent: RunningAgent, stateDir: string, width: number): string {
  // A batch is one agent with its features: "coding #4 +#5 +#7".
  const label = agentLabel(agent.kind, agent.featureId, agent.featureIds);
  const head = `  ${label.padEnd(17)} ${truncate(escapeForTerminal(agent.featureName), 32).padEnd(32)} ${formatDuration(Date.now() - Date.parse(agent.startedAt)).padStart(6)}`;
  const last = lastLine(logFileFor(stateDir, agent.workflowId));
  const room = width - head.length - 4;
  return last && room > 10
    ? `${head}  ${color('dim', `› ${truncate(escapeForTerminal(last), room)}`)}`
    : truncate(head, width);
}

export function progressBar(done: number, total: number, width: number): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function truncate(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

/** The last non-empty line of a log file, reading at most its last 4 KB. */
export function lastLine(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = statSync(path).size;
    const length = Math.min(size, 4096);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return lines.at(-1) ?? null;
  } finally {
    closeSync(fd);
  }
}
