/**
 * What an agent run cost: USD, tokens and the model session (Claude Code's result message, read
 * by src/agents/claude-result.ts after the process exits). The session id lets the next attempt
 * at the feature `--resume` the conversation instead of starting cold.
 */
import { type Kysely, sql } from 'kysely';
import type { AgentKind, Database } from './tables.ts';

export type AgentUsage = {
  runId: string;
  costUsd?: number | null;
  tokens?: Record<string, number> | null;
  sessionId?: string | null;
};

/**
 * Stores usage on the run's agent_runs row; fields left null or absent keep what the row has.
 * Returns false when the run has no row (it was never recorded as started).
 */
export async function recordAgentUsage(db: Kysely<Database>, usage: AgentUsage): Promise<boolean> {
  const costUsd = usage.costUsd ?? null;
  const tokens = usage.tokens == null ? null : JSON.stringify(usage.tokens);
  const sessionId = usage.sessionId ?? null;
  const row = await db
    .updateTable('agent_runs')
    .set({
      cost_usd: sql`coalesce(${costUsd}::numeric, cost_usd)`,
      tokens: sql`coalesce(${tokens}::jsonb, tokens)`,
      session_id: sql`coalesce(${sessionId}::text, session_id)`,
    })
    .where('id', '=', usage.runId)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The session of the feature's latest agent run that has one: what `--resume` continues.
 * Null when no earlier run of this feature recorded a session.
 */
export async function lastSessionOf(
  db: Kysely<Database>,
  input: { projectId: string; featureId: number; kind?: AgentKind },
): Promise<string | null> {
  let query = db
    .selectFrom('agent_runs')
    .select('session_id')
    .where('project_id', '=', input.projectId)
    .where('feature_id', '=', input.featureId)
    .where('session_id', 'is not', null);
  if (input.kind !== undefined) query = query.where('kind', '=', input.kind);
  const row = await query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.session_id ?? null;
}

/**
 * Adds a command agent's reported usage (`autocoder feature usage`) to its run: cost and each
 * token count are summed with what the row has. False when the project has no such run.
 */
export async function addAgentUsage(
  db: Kysely<Database>,
  usage: { runId: string; projectId: string; costUsd: number; tokens: Record<string, number> },
): Promise<boolean> {
  const row = await db
    .updateTable('agent_runs')
    .set({
      cost_usd: sql`coalesce(cost_usd, 0) + ${usage.costUsd}::numeric`,
      tokens: sql`(
        SELECT jsonb_object_agg(k, v) FROM (
          SELECT k, sum(v::numeric) AS v FROM (
            SELECT key AS k, value AS v FROM jsonb_each_text(coalesce(agent_runs.tokens, '{}'::jsonb))
            UNION ALL
            SELECT key, value FROM jsonb_each_text(${JSON.stringify(usage.tokens)}::jsonb)
          ) parts GROUP BY k
        ) sums
      )`,
    })
    .where('id', '=', usage.runId)
    .where('project_id', '=', usage.projectId)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
