/**
 * Owner-fenced transitions: every write after a claim names the owner that claimed, and matches
 * zero rows when someone else owns the feature now (a scheduling pass resumed it from an owner
 * the run believed dead, or a testing lease expired and was taken over). Zero rows is ClaimLostError,
 * never a silent success.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { ClaimLostError } from '../errors.ts';
import { recordAgentEnd } from './agent-runs.ts';
import { DEFAULT_MAX_RETRIES } from './features.ts';
import type { AgentKind, AgentOutcome, Database } from './tables.ts';
import { attemptOf } from '../workflows/run-ids.ts';

export type ReleaseInput = { projectId: string; featureId: number; owner: string };

/**
 * Gives a claim back without judging the run: the coding claim (the feature is pending again) or
 * the testing lease, whichever `owner` holds. For a spawn that failed, a stop, a drain.
 */
export async function releaseClaim(db: Kysely<Database>, input: ReleaseInput): Promise<{ kind: 'coding' | 'testing' }> {
  const { rows } = await sql<{ coding: boolean }>`
    WITH target AS (
      SELECT f.project_id, f.id, f.claimed_by IS NOT DISTINCT FROM ${input.owner}::text AS coding
      FROM features f
      WHERE f.project_id = ${input.projectId} AND f.id = ${input.featureId}
        AND (f.claimed_by = ${input.owner}::text OR f.testing_claimed_by = ${input.owner}::text)
      FOR UPDATE
    )
    UPDATE features f
    SET in_progress = CASE WHEN t.coding THEN false ELSE f.in_progress END,
        claimed_by = CASE WHEN t.coding THEN NULL ELSE f.claimed_by END,
        claimed_at = CASE WHEN t.coding THEN NULL ELSE f.claimed_at END,
        testing_claimed_by = CASE WHEN t.coding THEN f.testing_claimed_by END,
        testing_claimed_at = CASE WHEN t.coding THEN f.testing_claimed_at END,
        updated_at = now()
    FROM target t
    WHERE f.project_id = t.project_id AND f.id = t.id
    RETURNING t.coding`.execute(db);
  const row = rows[0];
  if (!row) throw new ClaimLostError(input.projectId, input.featureId, input.owner, 'release');
  return { kind: row.coding ? 'coding' : 'testing' };
}

/**
 * Gives back every claim `owner` holds (all features of a batch), without judging the run: for
 * an agent run nobody started (a handoff the run did not take, a claim at the run's end). Its
 * attempt number stays used, so the next claim gets a new agent run ID. Returns the features
 * freed (none when the claim was lost).
 */
export async function releaseOwner(
  db: Kysely<Database>,
  input: { projectId: string; owner: string },
): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`
    UPDATE features f
    SET in_progress = CASE WHEN f.claimed_by = ${input.owner}::text THEN false ELSE f.in_progress END,
        claimed_at = CASE WHEN f.claimed_by = ${input.owner}::text THEN NULL ELSE f.claimed_at END,
        claimed_by = CASE WHEN f.claimed_by = ${input.owner}::text THEN NULL ELSE f.claimed_by END,
        testing_claimed_at = CASE WHEN f.testing_claimed_by = ${input.owner}::text THEN NULL ELSE f.testing_claimed_at END,
        testing_claimed_by = CASE WHEN f.testing_claimed_by = ${input.owner}::text THEN NULL ELSE f.testing_claimed_by END,
        updated_at = now()
    WHERE f.project_id = ${input.projectId}
      AND (f.claimed_by = ${input.owner}::text OR f.testing_claimed_by = ${input.owner}::text)
    RETURNING f.id`.execute(db);
  return rows.map((r) => r.id);
}

export type OutcomeInput = {
  projectId: string;
  /** null for the initializer, which works on the project rather than a feature. */
  featureId: number | null;
  owner: string;
  kind: AgentKind;
  /** What the supervisor saw: 'passed' means the process exited 0. */
  outcome: AgentOutcome;
  exitCode?: number | null;
  signal?: string | null;
  error?: string | null;
  outputTail?: string | null;
  costUsd?: number | null;
  tokens?: Record<string, number> | null;
  sessionId?: string | null;
  maxRetries?: number;
};

export type OutcomeResult = {
  /** The outcome recorded: 'passed' from a process that left the feature failing becomes 'failed'. */
  outcome: AgentOutcome;
  /** False when an earlier call had settled the run: this result is what that call recorded. */
  fresh: boolean;
  error: string | null;
  passes: boolean;
  failureCount: number;
  countedAsFailure: boolean;
  /** The failure count reached maxRetries: the feature is now `failed`. */
  gaveUp: boolean;
  /** A batch: how each of its features settled (absent for one feature). */
  features?: BatchMemberOutcome[];
};

/** One feature of a batch at its agent's end: passing (or merging), or back to pending with a failure counted. */
export type BatchMemberOutcome = { featureId: number; passes: boolean; failureCount: number; counted: boolean };

/**
 * Settles an agent run, once, in one transaction: whoever sees the end first (the supervising
 * activity, the agentRun workflow, or a scheduling pass that finds the run closed without a
 * report) calls this, and every later call returns what the first one recorded (`fresh: false`).
 * The agent_runs row is locked first (created when the process never started), so two settlers
 * serialise on it and never both write. The first call:
 * - coding: releases the claim; unless the run was stopped, rate-limited or waits for a person, a feature that does not pass now
 *   costs one durable failure (non-zero exit, crash, timeout, or exit 0 without passing) and
 *   keeps the error as last_error;
 * - testing: releases the lease and stamps last_tested_at (a regression is reported by the
 *   testing agent marking the feature failing, not here);
 * - completes the agent_runs row.
 * The agent run row is written even when the claim was lost; then ClaimLostError is thrown.
 */
export async function recordOutcome(db: Kysely<Database>, input: OutcomeInput): Promise<OutcomeResult> {
  const maxRetries = input.maxRetries ?? DEFAULT_MAX_RETRIES;
  // A stop and the account's usage limit are nobody's fault: no failure is counted.
  const stopped = input.outcome === 'stopped' || input.outcome === 'rate_limited';
  const result = await db.transaction().execute(async (trx) => {
    const earlier = await lockAgentRun(trx, input);
    if (earlier) return earlier;
    // An agent that asked a person and ended is waiting, not failing: its feature is parked
    // (needs_human_input) until the answer comes, and no attempt is counted against it.
    const waitingIds =
      input.kind === 'coding' && input.featureId !== null && !stopped
        ? await featuresAwaitingHuman(trx, input.projectId, input.owner)
        : [];
    const waiting = waitingIds.length > 0;
    let feature: { passes: boolean; failure_count: number; counted: boolean } | undefined;
    let members: BatchMemberOutcome[] = [];
    if (input.featureId !== null && input.kind === 'coding') {
      // Every feature the run holds (one, or a batch): each settles on its own.
      const generic = `agent ${input.outcome.replace('_', ' ')}${input.exitCode != null ? ` (exit ${input.exitCode})` : ''}${input.signal ? ` (${input.signal})` : ''}`;
      const error =
        input.error != null
          ? sql<string>`${input.error}::text`
          : input.outcome === 'passed'
            ? sql<string>`'agent exited 0 without feature #' || f.id::text || ' passing'`
            : sql<string>`${generic}::text`;
      const uncounted = sql<boolean>`(${stopped} OR f.id = ANY(${waitingIds}::int[]))`;
      const done = sql<boolean>`(f.passes OR f.merging_since IS NOT NULL OR ${uncounted})`;
      const rows = await trx
        .updateTable('features as f')
        .set({
          // A feature the merge queue holds (merging) passed as far as its agent goes.
          failure_count: sql`f.failure_count + CASE WHEN ${done} THEN 0 ELSE 1 END`,
          last_error: sql`CASE WHEN ${done} THEN f.last_error ELSE ${error} END`,
          in_progress: false,
          claimed_by: null,
          claimed_at: null,
          updated_at: sql`now()`,
        })
        .where('f.project_id', '=', input.projectId)
        .where('f.claimed_by', '=', input.owner)
        .returning([
          'f.id',
          sql<boolean>`f.passes OR f.merging_since IS NOT NULL`.as('passes'),
          'f.failure_count',
          sql<boolean>`NOT ${done}`.as('counted'),
        ])
        .execute();
      members = rows.map((r) => ({
        featureId: r.id,
        passes: r.passes,
        failureCount: r.failure_count,
        counted: r.counted,
      }));
      const lead = rows.find((r) => r.id === input.featureId) ?? rows[0];
      feature = lead && {
        passes: rows.every((r) => r.passes),
        failure_count: lead.failure_count,
        counted: rows.some((r) => r.counted),
      };
    } else if (input.featureId !== null && input.kind === 'testing') {
      const rows = await trx
        .updateTable('features')
        .set({ testing_claimed_by: null, testing_claimed_at: null, last_tested_at: sql`now()` })
        .where('project_id', '=', input.projectId)
        .where('testing_claimed_by', '=', input.owner)
        .returning(['id', 'passes', 'failure_count'])
        .execute();
      const lead = rows.find((r) => r.id === input.featureId) ?? rows[0];
      feature = lead && { passes: lead.passes, failure_count: lead.failure_count, counted: false };
    }
    const passes = feature?.passes ?? false;
    const outcome: AgentOutcome =
      waiting && !passes
        ? 'waiting'
        : input.kind === 'coding' && input.outcome === 'passed' && !passes
          ? 'failed'
          : input.outcome;
    const error =
      outcome === 'passed'
        ? null
        : outcome === 'waiting'
          ? `waiting for a person to answer feature #${input.featureId}'s question (autocoder inbox)`
          : (input.error ?? (outcome !== input.outcome ? 'exited 0 without the feature passing' : null));
    await recordAgentEnd(trx, {
      id: input.owner,
      projectId: input.projectId,
      featureId: input.featureId,
      kind: input.kind,
      outcome,
      exitCode: input.exitCode,
      signal: input.signal,
      error,
      outputTail: input.outputTail,
      costUsd: input.costUsd,
      tokens: input.tokens,
      sessionId: input.sessionId,
    });
    const failureCount = feature?.failure_count ?? 0;
    const counted = feature?.counted ?? false;
    const settled: OutcomeResult = {
      outcome,
      fresh: true,
      error,
      passes,
      failureCount,
      countedAsFailure: counted,
      gaveUp:
        members.length > 0
          ? members.some((m) => m.counted && m.failureCount >= maxRetries)
          : counted && failureCount >= maxRetries,
      ...(members.length > 1 ? { features: members } : {}),
    };
    return { settled, claimHeld: feature !== undefined };
  });
  // Initializer and merge (resolver) runs hold no claim of their own.
  const claims = input.kind === 'coding' || input.kind === 'testing';
  if (result.settled.fresh && input.featureId !== null && claims && !result.claimHeld) {
    throw new ClaimLostError(input.projectId, input.featureId, input.owner, `record outcome ${input.outcome}`);
  }
  return result.settled;
}

/** The features `owner` holds that wait for a person's answer (an open `feature` request). */
async function featuresAwaitingHuman(trx: Transaction<Database>, projectId: string, owner: string): Promise<number[]> {
  const rows = await trx
    .selectFrom('human_requests as h')
    .innerJoin('features as f', (j) => j.onRef('f.project_id', '=', 'h.project_id').onRef('f.id', '=', 'h.feature_id'))
    .select('f.id')
    .distinct()
    .where('h.project_id', '=', projectId)
    .where('f.claimed_by', '=', owner)
    .where('h.kind', '=', 'feature')
    .where('h.answered_at', 'is', null)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Locks the run's agent_runs row (creating it when its process never started) and returns what
 * an earlier settle recorded, or null when this call is the first.
 */
async function lockAgentRun(
  trx: Transaction<Database>,
  input: OutcomeInput,
): Promise<{ settled: OutcomeResult; claimHeld: boolean } | null> {
  await trx
    .insertInto('agent_runs')
    .values({
      id: input.owner,
      project_id: input.projectId,
      feature_id: input.featureId,
      kind: input.kind,
      attempt: attemptOf(input.owner),
      started_at: sql`now()`,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const run = await trx
    .selectFrom('agent_runs')
    .select(['ended_at', 'outcome', 'error'])
    .where('id', '=', input.owner)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (!run.ended_at || !run.outcome) return null;
  const feature =
    input.featureId === null
      ? undefined
      : await trx
          .selectFrom('features')
          .select([sql<boolean>`passes OR merging_since IS NOT NULL`.as('passes'), 'failure_count'])
          .where('project_id', '=', input.projectId)
          .where('id', '=', input.featureId)
          .executeTakeFirst();
  const settled: OutcomeResult = {
    outcome: run.outcome,
    fresh: false,
    error: run.error,
    passes: feature?.passes ?? false,
    failureCount: feature?.failure_count ?? 0,
    countedAsFailure: false,
    gaveUp: false,
  };
  return { settled, claimHeld: true };
}
