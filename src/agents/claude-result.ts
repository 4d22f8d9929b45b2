/**
 * Reads what a Claude Code run cost from its log: with `--output-format stream-json` every line
 * Claude prints is one JSON message, and the last one, `{"type":"result", …}`, carries
 * `total_cost_usd`, `usage` (tokens), `session_id`, `is_error`, `subtype` and `num_turns`. The log
 * also holds supervisor notes and stderr; lines that are not JSON objects are skipped.
 *
 * The activity calls `readClaudeResult(logPath)` after the process exits and stores cost, tokens
 * and session in agent_runs (`recordAgentUsage`), so the next attempt can `--resume`.
 */
import { open } from 'node:fs/promises';
import { findClaudeLimits, parseObject, type ClaudeLimits } from './claude-limits.ts';

export type ClaudeResult = {
  /** A result message was found (false: the run ended before Claude reported, e.g. it crashed). */
  found: boolean;
  /** From the result message, else from the last message that named one (the init message). */
  sessionId: string | null;
  costUsd: number | null;
  /** The numeric fields of `usage`: input_tokens, output_tokens, cache_*_input_tokens. */
  tokens: Record<string, number> | null;
  isError: boolean | null;
  /** 'success', 'error_max_turns', 'error_max_budget_usd', 'error_during_execution', … */
  subtype: string | null;
  numTurns: number | null;
  durationMs: number | null;
  /** The final text (cut to 2000 characters), or the errors Claude listed. */
  result: string | null;
  /** A rate or usage limit the run ended on, and the last allowed_warning (claude-limits.ts). */
  limits: ClaudeLimits;
};

/** The result message is near the end; the init message (session id) is at the start. */
const TAIL_BYTES = 8 * 1024 * 1024;
const HEAD_BYTES = 256 * 1024;
const RESULT_TEXT_MAX = 2000;

const NONE: ClaudeResult = {
  found: false,
  sessionId: null,
  costUsd: null,
  tokens: null,
  isError: null,
  subtype: null,
  numTurns: null,
  durationMs: null,
  result: null,
  limits: { limit: null, warning: null },
};

export async function readClaudeResult(logPath: string): Promise<ClaudeResult> {
  let file;
  try {
    file = await open(logPath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...NONE };
    throw error;
  }
  try {
    const { size } = await file.stat();
    const tail = await readRange(file, Math.max(0, size - TAIL_BYTES), size);
    const limits = findClaudeLimits(tail);
    const found = lastResult(tail);
    if (found) return { ...found, limits };
    // No result: keep at least the session id, so a crashed run can still be resumed.
    const sessionId =
      lastSessionId(tail) ??
      (size > TAIL_BYTES ? lastSessionId(await readRange(file, 0, Math.min(size, HEAD_BYTES))) : null);
    return { ...NONE, sessionId, limits };
  } finally {
    await file.close();
  }
}

async function readRange(file: Awaited<ReturnType<typeof open>>, start: number, end: number): Promise<string[]> {
  const buffer = Buffer.alloc(end - start);
  const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
  const lines = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
  if (start > 0) lines.shift(); // a cut mid-line
  return lines;
}

const parse = (line: string): Record<string, unknown> | null => parseObject(line.trim());

function lastResult(lines: readonly string[]): Omit<ClaudeResult, 'limits'> | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const message = parse(lines[i] as string);
    if (message?.type !== 'result') continue;
    const usage = message.usage;
    const tokens: Record<string, number> = {};
    if (usage && typeof usage === 'object') {
      for (const [key, value] of Object.entries(usage))
        if (typeof value === 'number' && Number.isFinite(value)) tokens[key] = value;
    }
    const errors = Array.isArray(message.errors)
      ? message.errors.filter((e): e is string => typeof e === 'string')
      : [];
    const text = typeof message.result === 'string' ? message.result : errors.length > 0 ? errors.join('; ') : null;
    return {
      found: true,
      sessionId: str(message.session_id) ?? lastSessionId(lines.slice(0, i)),
      costUsd: num(message.total_cost_usd),
      tokens: Object.keys(tokens).length > 0 ? tokens : null,
      isError: typeof message.is_error === 'boolean' ? message.is_error : null,
      subtype: str(message.subtype),
      numTurns: num(message.num_turns),
      durationMs: num(message.duration_ms),
      result: text === null ? null : text.length > RESULT_TEXT_MAX ? `${text.slice(0, RESULT_TEXT_MAX - 1)}…` : text,
    };
  }
  return null;
}

function lastSessionId(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const id = str(parse(lines[i] as string)?.session_id);
    if (id) return id;
  }
  return null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
