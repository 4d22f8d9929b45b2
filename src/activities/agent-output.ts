/**
 * What an agent's own output says about its end, read after the process exits: for claude, the
 * stream-json log's result message (cost, tokens, session: stored on the run's row) and the end
 * it names when that overrides the exit code: a rate or usage limit (claude-limits.ts), reaching
 * --max-turns, or reaching --max-budget-usd.
 */
import type { Kysely } from 'kysely';
import { readClaudeResult } from '../agents/claude-result.ts';
import { DEFAULT_MAX_TURNS } from '../agents/claude-safety.ts';
import { recordAgentUsage } from '../db/agent-usage.ts';
import type { Database } from '../db/tables.ts';
import type { AgentSpec, RateLimitEnd, RecordOutcomeInput } from './types.ts';

export type OutputEnd = {
  /** The outcome and error the output names, when it overrides the exit. */
  override: Pick<RecordOutcomeInput, 'outcome' | 'error'> | null;
  rateLimit?: RateLimitEnd;
  /** An allowed_warning the agent saw: not a stop, shown by the status. */
  warning?: string;
};

export async function readAgentOutput(
  db: Kysely<Database>,
  spec: AgentSpec,
  runId: string,
  logPath: string,
): Promise<OutputEnd> {
  // Claude Code's result message carries cost, tokens and the session to resume next time.
  if (spec.adapter !== 'claude') return { override: null };
  const result = await readClaudeResult(logPath);
  if (result.found)
    await recordAgentUsage(db, {
      runId,
      costUsd: result.costUsd,
      tokens: result.tokens,
      sessionId: result.sessionId,
    });
  const warning = result.limits.warning ?? undefined;
  const limit = result.limits.limit;
  if (limit) {
    // The account's limit, whatever the exit code and subtype say (claude-limits.ts): not a failure.
    const rateLimit = { resetsAt: limit.resetsAt?.toISOString() ?? null, message: limit.message };
    const until = rateLimit.resetsAt ? `resets ${rateLimit.resetsAt}` : 'no reset time given';
    return {
      override: { outcome: 'rate_limited', error: `rate limited: ${limit.message} (${until})` },
      rateLimit,
      ...(warning ? { warning } : {}),
    };
  }
  const end: OutputEnd = { override: null, ...(warning ? { warning } : {}) };
  // Reaching --max-turns is a failed attempt whatever the exit code (result subtype
  // `error_max_turns`, code.claude.com/docs/en/agent-sdk "Handling results").
  if (result.subtype === 'error_max_turns')
    end.override = {
      outcome: 'failed',
      error: `error_max_turns: the agent reached --max-turns ${spec.safety?.maxTurns[spec.kind] ?? DEFAULT_MAX_TURNS[spec.kind] ?? ''} after ${result.numTurns ?? '?'} turns without finishing`,
    };
  // Reaching --max-budget-usd ends the attempt for budget: stopped, not a failure.
  if (result.subtype === 'error_max_budget_usd')
    end.override = {
      outcome: 'stopped',
      error: `error_max_budget_usd: the agent spent the budget left to it (${result.costUsd ?? '?'} USD)`,
    };
  return end;
}
