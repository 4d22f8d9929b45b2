/**
 * agent_runs: one row per agent run (= one agentRun child workflow, same id). Inserted when the
 * process is spawned, completed when it ends; rows on this host with no end are what a worker
 * reaps or adopts after a restart.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AgentKind, AgentOutcome, AgentRunRow, Database } from './tables.ts';
import { attemptOf } from '../workflows/run-ids.ts';

export type AgentStart = {
  id: string;
  projectId: string;
  featureId: number | null;
  kind: AgentKind;
  attempt: number;
  host: string;
  pid: number;
  pgid: number;
  /** Start time of the process, so a recycled pid is never taken for our agent. */
  procStartTime: number;
  logPath?: string | null;
  statusPath?: string | null;
  sessionId?: string | null;
};

/** Records a spawned agent process. Idempotent: a retried activity re-records the same run. */
export async function recordAgentStart(db: Kysely<Database>, run: AgentStart): Promise<void> {
  await db
    .insertInto('agent_runs')
    .values({
      id: run.id,
      project_id: run.projectId,
      feature_id: run.featureId,
      kind: run.kind,
      attempt: run.attempt,
      host: run.host,
      pid: run.pid,
      pgid: run.pgid,
      proc_start_time: run.procStartTime,
      log_path: run.logPath ?? null,
      status_path: run.statusPath ?? null,
      session_id: run.sessionId ?? null,
      started_at: sql`now()`,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        host: sql`excluded.host`,
        pid: sql`excluded.pid`,
        pgid: sql`excluded.pgid`,
        proc_start_time: sql`excluded.proc_start_time`,
        log_path: sql`coalesce(excluded.log_path, agent_runs.log_path)`,
        status_path: sql`coalesce(excluded.status_path, agent_runs.status_path)`,
        session_id: sql`coalesce(excluded.session_id, agent_runs.session_id)`,
      }),
    )
    .execute();
}

export type AgentEnd = {
  id: string;
  projectId: string;
  featureId: number | null;
  kind: AgentKind;
  outcome: AgentOutcome;
  attempt?: number;
  exitCode?: number | null;
  signal?: string | null;
  error?: string | null;
  outputTail?: string | null;
  costUsd?: number | null;
  tokens?: Record<string, number> | null;
  sessionId?: string | null;
};

/**
 * Completes an agent run row, creating it when the process never started (a spawn failure or a
 * crash between claim and spawn still leaves a record). The end time is the database clock.
 */
export async function recordAgentEnd(db: Kysely<Database> | Transaction<Database>, end: AgentEnd): Promise<void> {
  await db
    .insertInto('agent_runs')
    .values({
      id: end.id,
      project_id: end.projectId,
      feature_id: end.featureId,
      kind: end.kind,
      attempt: end.attempt ?? attemptOf(end.id),
      started_at: sql`now()`,
      ended_at: sql`now()`,
      outcome: end.outcome,
      exit_code: end.exitCode ?? null,
      signal: end.signal ?? null,
      error: end.error ?? null,
      output_tail: end.outputTail ?? null,
      cost_usd: end.costUsd ?? null,
      tokens: end.tokens == null ? null : JSON.stringify(end.tokens),
      session_id: end.sessionId ?? null,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        ended_at: sql`now()`,
        outcome: sql`excluded.outcome`,
        exit_code: sql`excluded.exit_code`,
        signal: sql`excluded.signal`,
        error: sql`excluded.error`,
        output_tail: sql`coalesce(excluded.output_tail, agent_runs.output_tail)`,
        cost_usd: sql`coalesce(excluded.cost_usd, agent_runs.cost_usd)`,
        tokens: sql`coalesce(excluded.tokens, agent_runs.tokens)`,
        session_id: sql`coalesce(excluded.session_id, agent_runs.session_id)`,
      }),
    )
    .execute();
}

/** Runs recorded on `host` whose process may still be alive: started, with a pid, never ended. */
export async function liveAgentRuns(db: Kysely<Database>, options: { host: string }): Promise<AgentRunRow[]> {
  return (
    db
      .selectFrom('agent_runs')
      .selectAll()
      .where('host', '=', options.host)
      // A run settled host_lost may have left its agent alive on the host (only the worker died):
      // it is this host's to kill when a worker there starts again.
      .where((eb) =>
        eb.or([
          eb('ended_at', 'is', null),
          eb.and([eb('outcome', '=', 'host_lost'), eb('ended_at', '>', sql<Date>`now() - interval '7 days'`)]),
        ]),
      )
      .where('pid', 'is not', null)
      .orderBy('started_at')
      .execute()
  );
}

/** A feature's agent runs, newest first (for `features show` and the next attempt's --resume). */
export async function listAgentRuns(
  db: Kysely<Database>,
  options: { projectId: string; featureId?: number; limit?: number },
): Promise<AgentRunRow[]> {
  let query = db.selectFrom('agent_runs').selectAll().where('project_id', '=', options.projectId);
  if (options.featureId !== undefined) query = query.where('feature_id', '=', options.featureId);
  return query
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 20)
    .execute();
}

/**
 * The latest coding run of a feature (a batch's: of its first feature) that reached a host, other
 * than `exceptId`: where the feature's newest work is (src/activities/host-work.ts).
 */
export async function lastCodingRun(
  db: Kysely<Database>,
  where: { projectId: string; featureId: number; exceptId?: string },
): Promise<{ id: string; host: string; ended: boolean } | null> {
  const row = await db
    .selectFrom('agent_runs')
    .select(['id', 'host', 'ended_at'])
    .where('project_id', '=', where.projectId)
    .where('feature_id', '=', where.featureId)
    .where('kind', '=', 'coding')
    .where('host', 'is not', null)
    .$if(where.exceptId !== undefined, (q) => q.where('id', '!=', where.exceptId as string))
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && row.host !== null ? { id: row.id, host: row.host, ended: row.ended_at !== null } : null;
}
