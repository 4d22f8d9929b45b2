/**
 * Feature-store activities of projectRun: prepare a run, one scheduling pass (the steps of
 * schedule-steps.ts, in order), the operator's retry, and giving back claims a run did not start.
 * Each is a few statements, so a pass costs one activity round trip.
 */
import { setProjectIsolation } from '../db/merging.ts';
import { ApplicationFailure, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { featureCounts, resetFailures } from '../db/features.ts';
import { getProject } from '../db/projects.ts';
import type { Database } from '../db/tables.ts';
import { failureTypes } from '../workflows/vocabulary.ts';
import {
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

export type FeatureStoreDeps = { db: Kysely<Database>; temporal: Client };

export function createFeatureStoreActivities({ db, temporal }: FeatureStoreDeps) {
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

    async schedule(input: ScheduleInput): Promise<ScheduleResult> {
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
      const crashed = settled.flatMap((r) =>
        r.fresh && r.kind === 'coding' && r.featureId !== null && !r.featurePasses ? [r.featureId] : [],
      );
      const resumed = await resumeStranded(db, input, crashed, recorded.coding);
      const fresh = await claimReady(db, input, recorded.coding - resumed.claims.length);
      const coding = [...recorded.start, ...resumed.claims, ...fresh].filter((c) => c.kind === 'coding');
      const codingNow = input.codingRunning > 0 || coding.length > 0 || adoptedCoding > 0 || resumed.left > 0;
      const end = await decideEnd(db, input, codingNow);
      const testers =
        end.finished || end.counts.passing === 0 ? [] : await claimTesters(db, input.projectId, recorded.testing);
      return {
        claims: [...recorded.start, ...resumed.claims, ...fresh, ...testers],
        adopt: foreign.adopt,
        settled: settled.map(({ fresh: _fresh, ...report }) => report),
        ...end,
        resumeLeft: resumed.left,
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
