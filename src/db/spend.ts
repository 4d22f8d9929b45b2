/**
 * What agents spent: USD and tokens from `agent_runs` (Claude Code's result message, or what a
 * command agent reported with `autocoder feature usage`). A run's spend counts at its end, or at
 * its start while it runs. Days are calendar days in a time zone (AUTOCODER_TZ, default UTC),
 * computed by Postgres from its own clock, so every worker agrees on where a day begins.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './tables.ts';

/** Token totals by Claude's four usage fields (input_tokens, output_tokens, cache_*_input_tokens). */
export type TokenTotals = { input: number; output: number; cacheRead: number; cacheCreation: number };
export type SpendRow = { key: string; usd: number; tokens: TokenTotals };
export const spendGroupings = ['day', 'feature', 'kind'] as const;
export type SpendGrouping = (typeof spendGroupings)[number];

export const noTokens = (): TokenTotals => ({ input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });

/** When a run's spend counts: its end, or its start while it runs. */
const spentAt = sql`coalesce(ar.ended_at, ar.started_at)`;

const tokenSums = sql`
  coalesce(sum(ar.cost_usd), 0)::float8 AS usd,
  coalesce(sum((ar.tokens->>'input_tokens')::numeric), 0)::float8 AS input,
  coalesce(sum((ar.tokens->>'output_tokens')::numeric), 0)::float8 AS output,
  coalesce(sum((ar.tokens->>'cache_read_input_tokens')::numeric), 0)::float8 AS cache_read,
  coalesce(sum((ar.tokens->>'cache_creation_input_tokens')::numeric), 0)::float8 AS cache_creation`;

type SumRow = { usd: number; input: number; output: number; cache_read: number; cache_creation: number };
const tokensOf = (r: SumRow): TokenTotals => ({
  input: r.input,
  output: r.output,
  cacheRead: r.cache_read,
  cacheCreation: r.cache_creation,
});

/** Start of the current day in `tz`, and of the next one (the database's clock). */
export async function dayBounds(db: Kysely<Database>, tz: string): Promise<{ start: Date; next: Date }> {
  const { rows } = await sql<{ start: Date; next: Date }>`
    SELECT (date_trunc('day', now() AT TIME ZONE ${tz}) AT TIME ZONE ${tz}) AS start,
           ((date_trunc('day', now() AT TIME ZONE ${tz}) + interval '1 day') AT TIME ZONE ${tz}) AS next`.execute(db);
  return rows[0]!;
}

/**
 * A project's spend for the status and the budget check, in one statement: since `runStart`
 * (the run), since `dayStart` (its day), and, when asked, the installation's day.
 */
export async function projectSpend(
  db: Kysely<Database>,
  input: { projectId: string; runStart: Date; dayStart: Date; installation?: boolean },
): Promise<{ runUsd: number; todayUsd: number; tokens: TokenTotals; installationTodayUsd: number | null }> {
  const { rows } = await sql<SumRow & { today_usd: number }>`
    SELECT
      coalesce(sum(ar.cost_usd) FILTER (WHERE ar.started_at >= ${input.runStart}), 0)::float8 AS usd,
      coalesce(sum((ar.tokens->>'input_tokens')::numeric) FILTER (WHERE ar.started_at >= ${input.runStart}), 0)::float8 AS input,
      coalesce(sum((ar.tokens->>'output_tokens')::numeric) FILTER (WHERE ar.started_at >= ${input.runStart}), 0)::float8 AS output,
      coalesce(sum((ar.tokens->>'cache_read_input_tokens')::numeric) FILTER (WHERE ar.started_at >= ${input.runStart}), 0)::float8 AS cache_read,
      coalesce(sum((ar.tokens->>'cache_creation_input_tokens')::numeric) FILTER (WHERE ar.started_at >= ${input.runStart}), 0)::float8 AS cache_creation,
      coalesce(sum(ar.cost_usd) FILTER (WHERE ${spentAt} >= ${input.dayStart}), 0)::float8 AS today_usd
    FROM agent_runs ar
    WHERE ar.project_id = ${input.projectId}`.execute(db);
  const row = rows[0]!;
  let installationTodayUsd: number | null = null;
  if (input.installation) {
    const all = await sql<{ usd: number }>`
      SELECT coalesce(sum(ar.cost_usd), 0)::float8 AS usd FROM agent_runs ar
      WHERE ${spentAt} >= ${input.dayStart}`.execute(db);
    installationTodayUsd = all.rows[0]!.usd;
  }
  return { runUsd: row.usd, todayUsd: row.today_usd, tokens: tokensOf(row), installationTodayUsd };
}

/** Features of a project whose agent runs, over all attempts, spent at least `limitUsd`. */
export async function featuresOverBudget(
  db: Kysely<Database>,
  input: { projectId: string; limitUsd: number },
): Promise<Array<{ featureId: number; spentUsd: number }>> {
  const { rows } = await sql<{ feature_id: number; usd: number }>`
    SELECT ar.feature_id, sum(ar.cost_usd)::float8 AS usd FROM agent_runs ar
    WHERE ar.project_id = ${input.projectId} AND ar.feature_id IS NOT NULL
    GROUP BY ar.feature_id HAVING sum(ar.cost_usd) >= ${input.limitUsd}
    ORDER BY ar.feature_id`.execute(db);
  return rows.map((r) => ({ featureId: r.feature_id, spentUsd: r.usd }));
}

/** One feature's spend over all its attempts (`features show`). */
export async function featureSpend(
  db: Kysely<Database>,
  input: { projectId: string; featureId: number },
): Promise<{ usd: number; tokens: TokenTotals; runs: number }> {
  const { rows } = await sql<SumRow & { runs: number }>`
    SELECT ${tokenSums}, count(*)::int AS runs FROM agent_runs ar
    WHERE ar.project_id = ${input.projectId} AND ar.feature_id = ${input.featureId}`.execute(db);
  const row = rows[0]!;
  return { usd: row.usd, tokens: tokensOf(row), runs: row.runs };
}

/**
 * `autocoder spend`: the spend since `since`, of one project or of the whole installation
 * (`projectId` null), in rows by day (in `tz`), feature (`<project>#<id>`, or the project's
 * initializer) or agent kind.
 */
export async function spendReport(
  db: Kysely<Database>,
  input: { projectId: string | null; since: Date; by: SpendGrouping; tz: string },
): Promise<{ totalUsd: number; tokens: TokenTotals; rows: SpendRow[] }> {
  const key =
    input.by === 'day'
      ? sql<string>`to_char(${spentAt} AT TIME ZONE ${input.tz}, 'YYYY-MM-DD')`
      : input.by === 'kind'
        ? sql<string>`ar.kind`
        : sql<string>`ar.project_id || CASE WHEN ar.feature_id IS NULL THEN '/initializer' ELSE '#' || ar.feature_id END`;
  const where =
    input.projectId === null
      ? sql`${spentAt} >= ${input.since}`
      : sql`${spentAt} >= ${input.since} AND ar.project_id = ${input.projectId}`;
  const { rows } = await sql<SumRow & { key: string }>`
    SELECT ${key} AS key, ${tokenSums} FROM agent_runs ar WHERE ${where}
    GROUP BY 1 ORDER BY 1`.execute(db);
  const out = rows.map((r) => ({ key: r.key, usd: roundUsd(r.usd), tokens: tokensOf(r) }));
  const tokens = noTokens();
  let total = 0;
  for (const r of rows) {
    total += r.usd;
    tokens.input += r.input;
    tokens.output += r.output;
    tokens.cacheRead += r.cache_read;
    tokens.cacheCreation += r.cache_creation;
  }
  return { totalUsd: roundUsd(total), tokens, rows: out };
}

/** USD to the micro-dollar: sums of numerics read as floats lose nothing a person would see. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;
