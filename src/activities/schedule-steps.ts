/**
 * The steps of one scheduling pass (feature-store.ts `schedule` runs them in this order), each a
 * function of its own with its own test (test/activities/schedule-steps.test.ts):
 *   1. foreignClaims   claims this run does not track, each with its owner's state in Temporal
 *   2. settleClosed    owners closed without a report: settled once, as crashed (the one path)
 *   3. startRecorded   owners not started yet (a handoff, or a crash between claim and start):
 *                      started by their ID, which Temporal never starts twice
 *   4. resumeStranded  features left in progress, resumed first whatever their dependencies
 *   5. claimReady      the original's order for the coding slots left
 *   6. decideEnd       counts, and whether the run is over (complete, blocked, failed)
 *   7. claimTesters    passing features for the testing slots, in one statement
 * Before them, checkBudgets (budget.ts): a reached budget claims nothing, and features over their
 * own budget are left out.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { batchOf, claimReadyBatches, claimTestingBatches, type ClaimedBatch } from '../db/batch-claims.ts';
import { claimFeaturesByIds } from '../db/claims.ts';
import { featureCounts, listFeatures } from '../db/features.ts';
import { heldClaims, type HeldClaim } from '../db/held-claims.ts';
import { orphanedFeatures, releaseOrphan } from '../db/resumable.ts';
import type { Database } from '../db/tables.ts';
import { releaseOwner } from '../db/transitions.ts';
import { blockedFeatures, describeBlockReason } from '../graph/index.ts';
import type { AgentReport, BlockedFeature, FeatureCounts, RunningAgent } from '../workflows/messages.ts';
import { parseAgentRunId } from '../workflows/run-ids.ts';
import type { AgentKind } from '../workflows/vocabulary.ts';
import { checkBudget, type BudgetCheck, type SpendConfig } from './budget.ts';
import { settleAgentRun } from './outcome.ts';
import type { Claim, ScheduleInput, ScheduleResult } from './types.ts';

type Db = Kysely<Database>;
export type OwnerState = 'running' | 'closed' | 'not-started';

/** Each agentRun workflow's state in Temporal (the owners of claims). */
export async function ownerStates(temporal: Client, owners: readonly string[]): Promise<Map<string, OwnerState>> {
  const states = new Map<string, OwnerState>();
  await Promise.all(
    owners.map(async (owner) => {
      try {
        const { status } = await temporal.workflow.getHandle(owner).describe();
        states.set(owner, status.name === 'RUNNING' ? 'running' : 'closed');
      } catch (err) {
        if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
        states.set(owner, 'not-started');
      }
    }),
  );
  return states;
}

export type ForeignClaims = {
  /** Held by live agent runs this run did not know of: now tracked. */
  adopt: RunningAgent[];
  /** Held by agent runs that closed without settling, and known runs found closed (verifyKnown). */
  closed: Array<{ owner: string; kind: AgentKind; featureId: number | null; featureIds?: number[] }>;
  /** Recorded for agent runs never started. */
  notStarted: HeldClaim[];
};

/** Step 1: claims held by owners this run does not track, sorted by their owner's state. */
export async function foreignClaims(
  db: Db,
  temporal: Client,
  input: Pick<ScheduleInput, 'projectId' | 'known' | 'verifyKnown'>,
): Promise<ForeignClaims> {
  const known = new Set(input.known);
  const foreign = (await heldClaims(db, input.projectId)).filter((h) => !known.has(h.owner));
  const checkKnown = input.verifyKnown ? input.known : [];
  if (foreign.length === 0 && checkKnown.length === 0) return { adopt: [], closed: [], notStarted: [] };
  const states = await ownerStates(temporal, [...foreign.map((h) => h.owner), ...checkKnown]);
  const result: ForeignClaims = { adopt: [], closed: [], notStarted: [] };
  for (const h of foreign) {
    const state = states.get(h.owner);
    if (state === 'running') {
      const startedAt = h.claimedAt.toISOString();
      result.adopt.push({
        workflowId: h.owner,
        kind: h.kind,
        featureId: h.featureId,
        featureName: h.featureName,
        startedAt,
        ...batchOf(h.featureIds),
      });
    } else if (state === 'closed') result.closed.push(h);
    else result.notStarted.push(h);
  }
  for (const id of checkKnown) {
    const parsed = parseAgentRunId(id);
    if (states.get(id) === 'closed' && parsed)
      result.closed.push({ owner: id, kind: parsed.kind, featureId: parsed.featureId });
  }
  return result;
}

/** Step 2: settles agent runs that closed without a report (terminated, or failed outside our code). */
export async function settleClosed(
  db: Db,
  input: Pick<ScheduleInput, 'projectId' | 'maxRetries'>,
  closed: ForeignClaims['closed'],
): Promise<Array<AgentReport & { fresh: boolean }>> {
  const reports: Array<AgentReport & { fresh: boolean }> = [];
  for (const run of closed) {
    const { recorded, fresh } = await settleAgentRun(db, {
      projectId: input.projectId,
      featureId: run.featureId,
      kind: run.kind,
      owner: run.owner,
      outcome: 'crashed',
      exitCode: null,
      signal: null,
      error: 'agent run closed without reporting (terminated, or failed outside its code)',
      maxRetries: input.maxRetries,
    });
    reports.push({
      workflowId: run.owner,
      kind: run.kind,
      featureId: run.featureId,
      ...batchOf(run.featureIds ?? []),
      ...recorded,
      fresh,
    });
  }
  return reports;
}

/**
 * Step 3: claims recorded for agent runs never started are started under their own ID while the
 * slots allow (a second start of one ID is refused, so a handoff whose report arrives too starts
 * once). The rest stay claimed: the report that carries one decides about it (projectRun's
 * takeHandoffs), or a later pass starts it when a slot frees. Only a run that is ending
 * (`releaseRest`) gives them back: giving back a handoff whose report is still on its way would
 * let the run claim the feature again while the report starts it.
 */
export async function startRecorded(
  db: Db,
  projectId: string,
  notStarted: readonly HeldClaim[],
  free: { coding: number; testing: number },
  { releaseRest = false, held = [] }: { releaseRest?: boolean; held?: readonly number[] } = {},
): Promise<{ start: Claim[]; coding: number; testing: number }> {
  const start: Claim[] = [];
  let { coding, testing } = free;
  for (const h of notStarted) {
    // A feature an operator stopped after the agent that claimed it was started (its exclude
    // list predates the stop): never started, given back.
    if (h.featureIds.some((id) => held.includes(id))) {
      await releaseClaims(db, projectId, [{ workflowId: h.owner }]);
      continue;
    }
    const fits = h.kind === 'coding' ? coding > 0 : testing > 0;
    if (!fits) {
      if (releaseRest) await releaseClaims(db, projectId, [{ workflowId: h.owner }]);
      continue;
    }
    if (h.kind === 'coding') coding--;
    else testing--;
    const attempt = parseAgentRunId(h.owner)?.attempt ?? 1;
    start.push({
      featureId: h.featureId,
      featureName: h.featureName,
      attempt,
      workflowId: h.owner,
      kind: h.kind,
      ...batchOf(h.featureIds),
    });
  }
  return { start, coding, testing };
}

/**
 * Step 4: what is left in progress with no agent run (an import, an earlier session) and what a
 * settled crash just freed are resumed first (SPEC Scheduling §3), up to `slots`, orphans first
 * in scheduling order; over the retry cap, a stranded feature is given up instead.
 */
export async function resumeStranded(
  db: Db,
  input: Pick<ScheduleInput, 'projectId' | 'maxRetries' | 'exclude'>,
  crashed: readonly number[],
  slots: number,
): Promise<{ claims: Claim[]; left: number }> {
  const { projectId, maxRetries } = input;
  const orphans: number[] = [];
  for (const f of await orphanedFeatures(db, { projectId, maxRetries })) {
    if (f.overRetryCap) await releaseOrphan(db, { projectId, featureId: f.id });
    else orphans.push(f.id);
  }
  const notHeld = (id: number) => !input.exclude.includes(id);
  const wanted = [...new Set([...orphans, ...crashed])].filter(notHeld).slice(0, Math.max(0, slots));
  const claimed =
    wanted.length === 0
      ? []
      : await claimFeaturesByIds(db, {
          projectId,
          featureIds: wanted,
          maxRetries,
        });
  const claims = claimed.map((f) => codingClaim(f.id, f.name, f.attempt, f.claimedBy));
  const resumedOrphans = claims.filter((c) => orphans.includes(c.featureId)).length;
  return { claims, left: orphans.filter(notHeld).length - resumedOrphans };
}

/**
 * Step 5: ready features for the coding slots left, in the original's order; with a batch size
 * above 1, one batch per slot (AutoCoder's build_feature_batches, src/db/batch-claims.ts).
 */
export async function claimReady(
  db: Db,
  input: Pick<ScheduleInput, 'projectId' | 'maxRetries' | 'exclude' | 'batchSize'>,
  slots: number,
): Promise<Claim[]> {
  const { projectId, maxRetries, exclude } = input;
  const batchSize = input.batchSize ?? 1;
  const fresh = await claimReadyBatches(db, { projectId, limit: slots, maxRetries, exclude, batchSize });
  return fresh.map(codingClaimOf);
}

/** The claim of a coding batch (one feature or several) for the agent run it names. */
export const codingClaimOf = (b: ClaimedBatch): Claim => ({
  ...codingClaim(b.id, b.name, b.attempt, b.claimedBy),
  ...batchOf(b.featureIds),
});

/**
 * Step 6: the counts, and how the run ends when nothing codes and nothing can: complete when
 * every feature passes, else blocked (what is left can never become ready) or failed (given up).
 */
export async function decideEnd(
  db: Db,
  input: Pick<ScheduleInput, 'projectId' | 'maxRetries' | 'exclude' | 'codingSlots' | 'analyseBlocked'>,
  codingNow: boolean,
): Promise<Pick<ScheduleResult, 'counts' | 'blocked' | 'finished' | 'waitingForHuman'>> {
  const { projectId, maxRetries, exclude } = input;
  const counts: FeatureCounts = await featureCounts(db, projectId, { maxRetries });
  const nothingCodes = !codingNow && counts.running === 0;
  // Features the merge queue holds land (or come back) on their own: the queue wakes the run. The
  // run keeps its poll timer meanwhile (no waiting_for_human yet): a parked feature's wait begins
  // once the queue is done, so a lost wake-up never leaves a landed dependent unstarted.
  if (nothingCodes && counts.merging > 0) return { counts, blocked: [], finished: null, waitingForHuman: false };
  if (nothingCodes && counts.passing === counts.total) {
    return {
      counts,
      blocked: [],
      finished: { outcome: 'complete', message: `all ${counts.total} features pass` },
      waitingForHuman: false,
    };
  }
  // A parked feature may unblock the rest once answered: the run waits for the person, it does not end.
  if (nothingCodes && counts.needs_human_input > 0)
    return { counts, blocked: [], finished: null, waitingForHuman: true };
  if (!nothingCodes || !(input.codingSlots > 0 || input.analyseBlocked)) {
    const blocked = input.analyseBlocked ? await analyseBlocked(db, projectId, maxRetries, exclude) : [];
    return { counts, blocked, finished: null, waitingForHuman: false };
  }
  const blocked = await analyseBlocked(db, projectId, maxRetries, exclude);
  const stuck = counts.total - counts.passing - counts.failed;
  const reasons = `${blocked
    .slice(0, 5)
    .map((b) => b.reason)
    .join('; ')}${blocked.length > 5 ? '; …' : ''}`;
  const finished =
    blocked.length > 0 || stuck > 0
      ? { outcome: 'blocked' as const, message: `${blocked.length} feature(s) can never become ready: ${reasons}` }
      : {
          outcome: 'failed' as const,
          message: `${counts.failed} feature(s) failed ${maxRetries} times and were given up (retry-feature schedules one again)`,
        };
  return { counts, blocked, finished, waitingForHuman: false };
}

/**
 * Step 7: passing features for the testing slots, each leased to one tester: at random one per
 * tester, or with a testing batch size above 1, AutoCoder's weighted batches (no feature under a
 * live lease is picked). Returns the leases and the run chain's new memory of what was tested.
 */
export async function claimTesters(
  db: Db,
  input: Pick<ScheduleInput, 'projectId' | 'testingBatchSize' | 'recentlyTested'>,
  slots: number,
): Promise<{ claims: Claim[]; recentlyTested: number[] }> {
  const { claims, recentlyTested } = await claimTestingBatches(db, {
    projectId: input.projectId,
    limit: slots,
    batchSize: input.testingBatchSize ?? 1,
    recentlyTested: input.recentlyTested ?? [],
  });
  return {
    claims: claims.map((l) => ({
      featureId: l.id,
      featureName: l.name,
      attempt: l.attempt,
      workflowId: l.owner,
      kind: 'testing',
      ...batchOf(l.featureIds),
    })),
    recentlyTested,
  };
}

/** Frees claims nobody started, every feature of each (a lost claim is nothing to free); no attempt is counted. */
export async function releaseClaims(
  db: Db,
  projectId: string,
  claims: ReadonlyArray<Pick<Claim, 'workflowId'>>,
): Promise<void> {
  for (const claim of claims) await releaseOwner(db, { projectId, owner: claim.workflowId });
}

const codingClaim = (featureId: number, featureName: string, attempt: number, workflowId: string): Claim => ({
  featureId,
  featureName,
  attempt,
  workflowId,
  kind: 'coding',
});

/** What can never become ready, with a reason a person can read; held features say so. */
async function analyseBlocked(
  db: Db,
  projectId: string,
  maxRetries: number,
  held: readonly number[],
): Promise<BlockedFeature[]> {
  const features = await listFeatures(db, projectId, { maxRetries });
  const heldSet = new Set(held);
  // Held features never pass on their own either: what waits on them is blocked too.
  const givenUp = new Set(
    features.filter((f) => f.state === 'failed' || (heldSet.has(f.id) && !f.passes)).map((f) => f.id),
  );
  const blocked: BlockedFeature[] = features
    .filter((f) => heldSet.has(f.id) && !f.passes)
    .map((f) => ({
      featureId: f.id,
      reason: `#${f.id} was stopped by an operator (retry-feature ${f.id} schedules it again)`,
    }));
  for (const b of blockedFeatures(features, givenUp))
    blocked.push({ featureId: b.id, reason: describeBlockReason(b.id, b.reason) });
  return blocked;
}

/**
 * Step 0: what the run spent and whether a budget stops it. Without a budget input (histories
 * from before budgets) nothing is checked.
 */
export async function checkBudgets(
  db: Db,
  config: SpendConfig,
  input: Pick<ScheduleInput, 'projectId' | 'budget'>,
): Promise<BudgetCheck | null> {
  if (!input.budget) return null;
  return checkBudget(db, config, input.projectId, input.budget);
}
