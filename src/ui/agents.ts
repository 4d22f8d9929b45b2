/**
 * Running agents as the dashboard shows them (an agent card: kind, feature, start, latest
 * thought) and the reading of their logs: a bounded tail, and new bytes as they are written.
 * Log paths come from agent_runs only, never from a request.
 */
import { open } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../db/tables.ts';
import type { RunningAgent } from '../workflows/messages.ts';

export type AgentView = RunningAgent & {
  pid: number | null;
  hasLog: boolean;
  /** The last assistant text of a claude agent's stream-json, else the log's last line. */
  thought: string | null;
};

const THOUGHT_BYTES = 64 * 1024;
const THOUGHT_MAX = 400;
// SGR and other CSI sequences: a thought is plain text.
const CSI = new RegExp(String.raw`\u001b\[[0-?]*[ -/]*[@-~]`, 'g');

/** Reads bytes [start, end) of a file (clamped to its size); empty when it does not exist. */
export async function readRange(
  path: string,
  start: number,
  end?: number,
): Promise<{ text: string; bytes: number; size: number }> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', bytes: 0, size: 0 };
    throw err;
  }
  try {
    const { size } = await file.stat();
    const from = Math.max(0, Math.min(start, size));
    const to = Math.min(end ?? size, size);
    const buffer = Buffer.alloc(Math.max(0, to - from));
    if (buffer.length > 0) await file.read(buffer, 0, buffer.length, from);
    return { text: buffer.toString('utf8'), bytes: buffer.length, size };
  } finally {
    await file.close();
  }
}

/** The latest thought in a log's tail: Claude Code's stream-json assistant text, or the last line. */
export function latestThought(tail: string): string | null {
  const lines = tail.split('\n');
  let lastLine: string | null = null;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (!line) continue;
    if (line.startsWith('{')) {
      try {
        const message = JSON.parse(line) as { type?: string; message?: { content?: unknown } };
        if (message.type !== 'assistant' || !Array.isArray(message.message?.content)) continue;
        const text = (message.message.content as { type?: string; text?: unknown }[])
          .filter((part) => part.type === 'text' && typeof part.text === 'string')
          .map((part) => part.text as string)
          .join('\n')
          .trim();
        if (text) return clip(text);
        continue;
      } catch {
        // not JSON after all: an ordinary line
      }
    }
    lastLine ??= line.replace(CSI, '');
  }
  return lastLine === null ? null : clip(lastLine);
}

const clip = (text: string): string => (text.length > THOUGHT_MAX ? `${text.slice(0, THOUGHT_MAX - 1)}…` : text);

export async function describeAgents(db: Kysely<Database>, running: readonly RunningAgent[]): Promise<AgentView[]> {
  if (running.length === 0) return [];
  const rows = await db
    .selectFrom('agent_runs')
    .select(['id', 'pid', 'log_path'])
    .where(
      'id',
      'in',
      running.map((a) => a.workflowId),
    )
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return Promise.all(
    running.map(async (agent) => {
      const row = byId.get(agent.workflowId);
      let thought: string | null = null;
      if (row?.log_path) {
        const { size } = await readRange(row.log_path, 0, 0);
        thought = latestThought((await readRange(row.log_path, size - THOUGHT_BYTES)).text);
      }
      return { ...agent, pid: row?.pid ?? null, hasLog: Boolean(row?.log_path), thought };
    }),
  );
}

/** The agent run of this project, or undefined: what a log request may read. */
export async function agentRunOf(
  db: Kysely<Database>,
  projectId: string,
  runId: string,
): Promise<{ id: string; log_path: string | null; ended_at: Date | null } | undefined> {
  return db
    .selectFrom('agent_runs')
    .select(['id', 'log_path', 'ended_at'])
    .where('project_id', '=', projectId)
    .where('id', '=', runId)
    .executeTakeFirst();
}

const MAX_LINE = 4000;
const MAX_LINES_PER_EVENT = 500;

/**
 * Follows a log: the last `initialBytes` first, then what is appended, as whole lines (a line is
 * cut at MAX_LINE characters). Memory stays bounded: at most one read's worth at a time.
 */
export async function followLog(
  path: string,
  options: { initialBytes: number; pollMs: number; signal: AbortSignal; onLines: (lines: string[]) => Promise<void> },
): Promise<void> {
  const { size } = await readRange(path, 0, 0);
  let offset = Math.max(0, size - options.initialBytes);
  let carry = '';
  let first = offset > 0;
  while (!options.signal.aborted) {
    const { text, bytes, size: now } = await readRange(path, offset, offset + 1024 * 1024);
    if (now < offset) offset = 0; // truncated or replaced: start over
    if (text) {
      offset += bytes;
      const parts = (carry + text).split('\n');
      carry = parts.pop() ?? '';
      if (first) parts.shift(); // the first line of a tail is usually cut
      first = false;
      const lines = parts.map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l));
      for (let i = 0; i < lines.length; i += MAX_LINES_PER_EVENT) {
        await options.onLines(lines.slice(i, i + MAX_LINES_PER_EVENT));
      }
      if (carry.length > MAX_LINE) {
        await options.onLines([`${carry.slice(0, MAX_LINE)}…`]);
        carry = '';
      }
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}
