/**
 * Owner-fenced transitions: every write after a claim names the owner that claimed, and matches
 * zero rows when someone else owns the feature now (a scheduling pass resumed it from an owner
 * the run believed dead, or a testing lease expired and was taken over). Zero rows is ClaimLostError,
 * never a silent success.
 */
import { type Kysely, sql } from 'kysely';
import { ClaimLostError } from '../errors.ts';
import { recordAgentEnd } from './agent-runs.ts';
import { DEFAULT_MAX_RETRIES } from './features.ts';
import type { AgentKind, AgentOutcome, Database } from './tables.ts';

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
  passes: boolean;
  failureCount: number;
  countedAsFailure: boolean;
  /** The failure count reached maxRetries: the feature is now `failed`. */
  gaveUp: boolean;
};

/**
 * Records how an agent run ended, in one transaction:
 * - coding: releases the claim; unless the run was stopped, a feature that does not pass now
 *   costs one durable failure (non-zero exit, crash, timeout, or exit 0 without passing) and
 *   keeps the error as last_error;
 * - testing: releases the lease and stamps last_tested_at (a regression is reported by the
 *   testing agent marking the feature failing, not here);
 * - the agent_runs row is completed (or created when the process never started).
 * The agent run row is written even when the claim was lost; then ClaimLostError is thrown.
 */
export async function recordOutcome(db: Kysely<Database>, input: OutcomeInput): Promise<OutcomeResult> {
  const maxRetries = input.maxRetries ?? DEFAULT_MAX_RETRIES;
  const stopped = input.outcome === 'stopped';
  const result = await db.transaction().execute(async (trx) => {
    let feature: { passes: boolean; failure_count: number; counted: boolean } | undefined;
    if (input.featureId !== null && input.kind === 'coding') {
      const error =
        input.error ??
        (input.outcome === 'passed'
          ? `agent exited 0 without feature #${input.featureId} passing`
          : `agent ${input.outcome.replace('_', ' ')}${input.exitCode != null ? ` (exit ${input.exitCode})` : ''}${input.signal ? ` (${input.signal})` : ''}`);
      feature = await trx
        .updateTable('features')
        .set({
          failure_count: sql`failure_count + CASE WHEN passes OR ${stopped} THEN 0 ELSE 1 END`,
          last_error: sql`CASE WHEN passes OR ${stopped} THEN last_error ELSE ${error}::text END`,
          in_progress: false,
          claimed_by: null,
          claimed_at: null,
          updated_at: sql`now()`,
        })
        .where('project_id', '=', input.projectId)
        .where('id', '=', input.featureId)
        .where('claimed_by', '=', input.owner)
        .returning(['passes', 'failure_count', sql<boolean>`NOT (passes OR ${stopped})`.as('counted')])
        .executeTakeFirst();
    } else if (input.featureId !== null && input.kind === 'testing') {
      const row = await trx
        .updateTable('features')
        .set({ testing_claimed_by: null, testing_claimed_at: null, last_tested_at: sql`now()` })
        .where('project_id', '=', input.projectId)
        .where('id', '=', input.featureId)
        .where('testing_claimed_by', '=', input.owner)
        .returning(['passes', 'failure_count'])
        .executeTakeFirst();
      feature = row && { ...row, counted: false };
    }
    const passes = feature?.passes ?? false;
    const outcome: AgentOutcome =
      input.kind === 'coding' && input.outcome === 'passed' && !passes ? 'failed' : input.outcome;
    await recordAgentEnd(trx, {
      id: input.owner,
      projectId: input.projectId,
      featureId: input.featureId,
      kind: input.kind,
      outcome,
      exitCode: input.exitCode,
      signal: input.signal,
      error:
        outcome === 'passed'
          ? null
          : (input.error ?? (outcome !== input.outcome ? 'exited 0 without the feature passing' : null)),
      outputTail: input.outputTail,
      costUsd: input.costUsd,
      tokens: input.tokens,
      sessionId: input.sessionId,
    });
    return { feature, outcome };
  });
  if (input.featureId !== null && input.kind !== 'initializer' && !result.feature) {
    throw new ClaimLostError(input.projectId, input.featureId, input.owner, `record outcome ${input.outcome}`);
  }
  const failureCount = result.feature?.failure_count ?? 0;
  const counted = result.feature?.counted ?? false;
  return {
    outcome: result.outcome,
    passes: result.feature?.passes ?? false,
    failureCount,
    countedAsFailure: counted,
    gaveUp: counted && failureCount >= maxRetries,
  };
}
