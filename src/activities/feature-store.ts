/**
 * Feature-store activities of projectRun: prepare a run, one scheduling pass (the steps of
 * schedule-steps.ts, in order), the operator's retry, and giving back claims a run did not start.
 * Each is a few statements, so a pass costs one activity round trip.
 */
import { setProjectIsolation } from '../db/merging.ts';
import { ApplicationFailure, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { featureCounts, resetFailures } from '../db/features.ts';
import { answerFeatureRequest, openRequests } from '../db/human-requests.ts';
import { getProject } from '../db/projects.ts';
import { UserError } from '../errors.ts';
import type { AnswerInput } from '../workflows/human-answer.ts';
import type { AnswerResult } from '../workflows/messages.ts';
import type { Database } from '../db/tables.ts';
import { failureTypes } from '../workflows/vocabulary.ts';
import { DEFAULT_SPEND_CONFIG, type SpendConfig } from './budget.ts';
import {
  checkBudgets,
  claimReady,
  claimTesters,
  decideEnd,
  foreignClaims,
  releaseClaims,
  resumeStranded,
  settleClosed,
  startRecorded,
} from './schedule-steps.ts';
import type { Claim, PrepareRunInput, PrepareRunResult, ScheduleInput, ScheduleResult } from './types.ts';

export type FeatureStoreDeps = {
  db: Kysely<Database>;
  temporal: Client;
  /** Days' time zone and the installation's daily budget (AUTOCODER_TZ, AUTOCODER_DAILY_BUDGET_USD). */
  spend?: SpendConfig | undefined;
  /** The task queue quotaGovernor workflows are started on (the worker's own). */
  taskQueue?: string | undefined;
};

export function createFeatureStoreActivities({ db, temporal, spend: spendConfig }: FeatureStoreDeps) {
  const spendOf = spendConfig ?? DEFAULT_SPEND_CONFIG;
  return {
    async prepareRun({ projectId, maxRetries, isolation }: PrepareRunInput): Promise<PrepareRunResult> {
      if (!(await getProject(db, projectId))) {
        // A run started from the Temporal CLI for a project the store does not know: say so once.
        throw ApplicationFailure.create({
          type: failureTypes.invalidInput,
          nonRetryable: true,
          message: `unknown project ${JSON.stringify(projectId)}: register it first, e.g. \`autocoder features import FILE --project ${projectId} --dir DIR\``,
        });
      }
      await setProjectIsolation(db, projectId, isolation ?? 'shared');
      return { featureCount: (await featureCounts(db, projectId, { maxRetries })).total };
    },

    async schedule(scheduleInput: ScheduleInput): Promise<ScheduleResult> {
      const budget = await checkBudgets(db, spendOf, scheduleInput);
      const stopped = budget?.reached ?? null;
      // A reached budget: no slot is free, and claims recorded for unstarted runs are given back.
      const input: ScheduleInput = stopped
        ? { ...scheduleInput, codingSlots: 0, testingSlots: 0, analyseBlocked: false, ending: true }
        : {
            ...scheduleInput,
            exclude: [...scheduleInput.exclude, ...(budget?.overBudget.map((f) => f.featureId) ?? [])],
          };
      const foreign = await foreignClaims(db, temporal, input);
      const settled = await settleClosed(db, input, foreign.closed);
      // Adopted agents take slots the workflow counted as free: it did not know of them.
      const adoptedCoding = foreign.adopt.filter((a) => a.kind === 'coding').length;
      const free = {
        coding: Math.max(0, input.codingSlots - adoptedCoding),
        testing: Math.max(0, input.testingSlots - (foreign.adopt.length - adoptedCoding)),
      };
      const recorded = await startRecorded(db, input.projectId, foreign.notStarted, free, {
        releaseRest: input.ending ?? false,
        held: input.exclude,
      });
      const crashed = [
        ...(input.resumeFirst ?? []),
        ...settled.flatMap((r) => {
          if (!r.fresh || r.kind !== 'coding' || r.featureId === null || r.featurePasses) return [];
          // A batch: each of its features that did not pass.
          return r.features ? r.features.filter((f) => !f.passes).map((f) => f.featureId) : [r.featureId];
        }),
      ];
      const resumed = await resumeStranded(db, input, crashed, recorded.coding);
      const fresh = await claimReady(db, input, recorded.coding - resumed.claims.length);
      const coding = [...recorded.start, ...resumed.claims, ...fresh].filter((c) => c.kind === 'coding');
      const codingNow = input.codingRunning > 0 || coding.length > 0 || adoptedCoding > 0 || resumed.left > 0;
      let end = await decideEnd(db, input, codingNow);
      let reached = stopped;
      const overBudget = budget?.overBudget ?? [];
      if (end.finished && end.finished.outcome !== 'complete' && overBudget.length > 0 && !input.ending) {
        // What is left waits on features over their own budget: paused, not over (setBudget resumes it).
        const top = overBudget.reduce((a, b) => (b.spentUsd > a.spentUsd ? b : a));
        reached = { reason: 'budget', budget: 'feature', spentUsd: top.spentUsd, limitUsd: top.limitUsd };
        end = { ...end, finished: null };
      }
      // No testers while the run only waits for a person: they would keep it busy for nothing.
      const testers =
        end.finished || end.waitingForHuman || end.counts.passing === 0
          ? { claims: [], recentlyTested: input.recentlyTested ?? [] }
          : await claimTesters(db, input, recorded.testing);
      return {
        ...(budget ? { spend: budget.spend, budget: reached, overBudget } : {}),
        claims: [...recorded.start, ...resumed.claims, ...fresh, ...testers.claims],
        ...(input.testingBatchSize && input.testingBatchSize > 1 ? { recentlyTested: testers.recentlyTested } : {}),
        adopt: foreign.adopt,
        settled: settled.map(({ fresh: _fresh, ...report }) => report),
        ...end,
        awaiting: await openRequests(db, { projectId: input.projectId }),
        resumeLeft: resumed.left,
      };
    },

    async resetFeatureFailures({ projectId, featureId }: { projectId: string; featureId: number }): Promise<void> {
      await resetFailures(db, projectId, featureId);
    },

    async releaseClaims({ projectId, claims }: { projectId: string; claims: Claim[] }): Promise<void> {
      await releaseClaims(db, projectId, claims);
    },

    async storeAnswer({ projectId, answer }: { projectId: string; answer: AnswerInput }): Promise<AnswerResult> {
      try {
        return await answerFeatureRequest(db, { projectId, answer });
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        throw ApplicationFailure.create({ type: failureTypes.invalidInput, nonRetryable: true, message: err.message });
      }
    },
  };
}
