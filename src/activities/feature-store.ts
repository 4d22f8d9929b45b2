/**
 * Feature-store activities of projectRun: prepare a run (adopt live agent runs, free dead claims),
 * one scheduling pass (claims in the original's order, testing leases, counts, the end test),
 * and the operator's retry. Each is a few statements, so a pass costs one activity round trip.
 */
import { ApplicationFailure, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Claim, PrepareRunInput, PrepareRunResult, ScheduleInput, ScheduleResult } from './types.ts';
import { claimFeaturesByIds, claimFeatureForTesting, claimReadyFeatures } from '../db/claims.ts';
import { featureCounts, listFeatures, resetFailures, type Feature } from '../db/features.ts';
import type { Database } from '../db/tables.ts';
import { heldClaims } from '../db/held-claims.ts';
import { getProject } from '../db/projects.ts';
import { releaseStranded, strandedFeatures } from '../db/resumable.ts';
import { releaseClaim } from '../db/transitions.ts';
import { ClaimLostError } from '../errors.ts';
import { blockedFeatures, describeBlockReason } from '../graph/index.ts';
import type { BlockedFeature, RunningAgent } from '../workflows/messages.ts';
import { agentRunPrefix } from '../workflows/run-ids.ts';
import { failureTypes } from '../workflows/vocabulary.ts';

export type FeatureStoreDeps = { db: Kysely<Database>; temporal: Client };

/**
 * How long a claim whose agent run was never started is taken for one on its way to the run (a
 * claim an ending agent made for it) rather than stranded. Under load (50 agents on 2 cores) such
 * reports were seen to take seconds; a stranded claim is resumed this much later.
 */
const HANDOFF_GRACE_MS = 30_000;

export function createFeatureStoreActivities({ db, temporal }: FeatureStoreDeps) {
  /** Which agentRun workflows (the claim owners) are still running, and which were never started. */
  async function ownerStates(owners: readonly string[]): Promise<{ alive: Set<string>; missing: Set<string> }> {
    const alive = new Set<string>();
    const missing = new Set<string>();
    await Promise.all(
      owners.map(async (owner) => {
        try {
          const description = await temporal.workflow.getHandle(owner).describe();
          if (description.status.name === 'RUNNING') alive.add(owner);
        } catch (err) {
          if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
          missing.add(owner);
        }
      }),
    );
    return { alive, missing };
  }
  const runningOwners = async (owners: readonly string[]): Promise<Set<string>> => (await ownerStates(owners)).alive;

  return {
    async prepareRun({ projectId, maxRetries }: PrepareRunInput): Promise<PrepareRunResult> {
      if (!(await getProject(db, projectId))) {
        // A run started from the Temporal CLI for a project the store does not know: say so once.
        throw ApplicationFailure.create({
          type: failureTypes.invalidInput,
          nonRetryable: true,
          message: `unknown project ${JSON.stringify(projectId)}: register it first, e.g. \`autocoder features import FILE --project ${projectId} --dir DIR\``,
        });
      }
      // Agent runs of an earlier run are adopted, and stranded features resumed, by the first
      // scheduling pass (it treats every claim this run does not track the same way).
      const counts = await featureCounts(db, projectId, { maxRetries });
      return { featureCount: counts.total, adopt: [], resume: [] };
    },

    async schedule(input: ScheduleInput): Promise<ScheduleResult> {
      const { projectId, maxRetries, codingSlots, exclude } = input;
      const claims: Claim[] = [];
      // Claims this run does not track: live agent runs are adopted; features their dead owners
      // (or nobody) left in progress are resumed first, in scheduling order, whatever their
      // dependencies (SPEC Scheduling §3); dead testers' leases are freed.
      const known = new Set(input.known);
      const adopt: RunningAgent[] = [];
      const testers = (await heldClaims(db, projectId)).filter((h) => h.kind === 'testing' && !known.has(h.owner));
      const stranded = await strandedFeatures(db, { projectId, known: input.known, maxRetries });
      const { alive, missing } = await ownerStates([
        ...testers.map((h) => h.owner),
        ...stranded.flatMap((f) => (f.owner ? [f.owner] : [])),
      ]);
      for (const h of testers) {
        if (alive.has(h.owner))
          adopt.push({
            workflowId: h.owner,
            kind: 'testing',
            featureId: h.featureId,
            featureName: h.featureName,
            startedAt: h.claimedAt.toISOString(),
          });
        else await releaseClaim(db, { projectId, featureId: h.featureId, owner: h.owner }).catch(() => undefined);
      }
      const resume: number[] = [];
      const deadOwners: string[] = [];
      for (const f of stranded) {
        if (f.owner && alive.has(f.owner)) {
          adopt.push({
            workflowId: f.owner,
            kind: 'coding',
            featureId: f.id,
            featureName: f.name,
            startedAt: (f.claimedAt ?? new Date()).toISOString(),
          });
        } else if (
          f.owner &&
          missing.has(f.owner) &&
          f.claimedAt &&
          Date.now() - f.claimedAt.getTime() < HANDOFF_GRACE_MS
        ) {
          // Claimed for the run by an agent as it ended (AgentSpec.claimNext), its report still on
          // the way: resuming it now would let the run start the feature twice.
          continue;
        } else if (f.overRetryCap) {
          await releaseStranded(db, { projectId, featureId: f.id, owner: f.owner });
        } else if (!exclude.includes(f.id)) {
          resume.push(f.id);
          if (f.owner) deadOwners.push(f.owner);
        }
      }
      // Adopted agents take slots the workflow counted as free: it did not know of them.
      const adoptedCoding = adopt.filter((a) => a.kind === 'coding').length;
      const codingFree = Math.max(0, codingSlots - adoptedCoding);
      const testingFree = Math.max(0, input.testingSlots - (adopt.length - adoptedCoding));
      const resumeNow = resume.slice(0, codingFree);
      for (const f of await claimFeaturesByIds(db, {
        projectId,
        featureIds: resumeNow,
        ownerPrefix: agentRunPrefix(projectId, 'coding'),
        maxRetries,
        staleOwners: deadOwners,
      })) {
        claims.push({
          featureId: f.id,
          featureName: f.name,
          attempt: f.attempt,
          workflowId: f.claimedBy,
          kind: 'coding',
        });
      }
      const fresh = await claimReadyFeatures(db, {
        projectId,
        limit: codingFree - claims.length,
        ownerPrefix: agentRunPrefix(projectId, 'coding'),
        maxRetries,
        exclude,
      });
      for (const f of fresh)
        claims.push({
          featureId: f.id,
          featureName: f.name,
          attempt: f.attempt,
          workflowId: f.claimedBy,
          kind: 'coding',
        });

      const counts = await featureCounts(db, projectId, { maxRetries });
      let finished: ScheduleResult['finished'] = null;
      let blocked: BlockedFeature[] = [];
      const nothingCodes =
        input.codingRunning === 0 &&
        claims.length === 0 &&
        adopt.length === 0 &&
        resume.length === 0 &&
        counts.running === 0;
      if (nothingCodes && counts.passing === counts.total) {
        finished = { outcome: 'complete', message: `all ${counts.total} features pass` };
      } else if (nothingCodes && (codingSlots > 0 || input.analyseBlocked)) {
        blocked = await analyseBlocked(db, projectId, maxRetries, exclude);
        const stuck = counts.total - counts.passing - counts.failed;
        finished =
          blocked.length > 0 || stuck > 0
            ? {
                outcome: 'blocked',
                message: `${blocked.length} feature(s) can never become ready: ${blocked
                  .slice(0, 5)
                  .map((b) => b.reason)
                  .join('; ')}${blocked.length > 5 ? '; …' : ''}`,
              }
            : {
                outcome: 'failed',
                message: `${counts.failed} feature(s) failed ${maxRetries} times and were given up (retry-feature schedules one again)`,
              };
      } else if (input.analyseBlocked) {
        blocked = await analyseBlocked(db, projectId, maxRetries, exclude);
      }

      if (!finished && counts.passing > 0) {
        const testing: number[] = [];
        for (let i = 0; i < testingFree; i++) {
          const lease = await claimFeatureForTesting(db, {
            projectId,
            ownerPrefix: agentRunPrefix(projectId, 'testing'),
            exclude: testing,
          });
          if (!lease) break;
          testing.push(lease.id);
          claims.push({
            featureId: lease.id,
            featureName: lease.name,
            attempt: lease.attempt,
            workflowId: lease.owner,
            kind: 'testing',
          });
        }
      }
      let gone: string[] | undefined;
      if (input.verifyKnown && input.known.length > 0) {
        const stillRunning = await runningOwners(input.known);
        gone = input.known.filter((id) => !stillRunning.has(id));
      }
      return {
        claims,
        adopt,
        counts,
        blocked,
        finished,
        resumeLeft: resume.length - resumeNow.length,
        ...(gone ? { gone } : {}),
      };
    },

    async resetFeatureFailures({ projectId, featureId }: { projectId: string; featureId: number }): Promise<void> {
      await resetFailures(db, projectId, featureId);
    },

    async releaseClaims({ projectId, claims }: { projectId: string; claims: Claim[] }): Promise<void> {
      await releaseClaims(db, projectId, claims);
    },
  };
}

/** Frees claims nobody started (a lost claim is nothing to free); no attempt is counted. */
export async function releaseClaims(db: Kysely<Database>, projectId: string, claims: readonly Claim[]): Promise<void> {
  for (const claim of claims) {
    await releaseClaim(db, { projectId, featureId: claim.featureId, owner: claim.workflowId }).catch((err: unknown) => {
      if (!(err instanceof ClaimLostError)) throw err;
    });
  }
}

/** What can never become ready, with a reason a person can read; held features say so. */
async function analyseBlocked(
  db: Kysely<Database>,
  projectId: string,
  maxRetries: number,
  held: readonly number[],
): Promise<BlockedFeature[]> {
  const features = await listFeatures(db, projectId, { maxRetries });
  const heldSet = new Set(held);
  // Held features never pass on their own either: what waits on them is blocked too.
  const givenUp = new Set(
    features.filter((f: Feature) => f.state === 'failed' || (heldSet.has(f.id) && !f.passes)).map((f) => f.id),
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
