/**
 * Tools that change one feature's state: pass, fail, skip, claim, give back. With
 * AUTOCODER_RUN_ID set these are fenced by the claim (src/db/feature-marks.ts): an agent changes
 * the feature it holds, and a claim names its run, so the workflow and the agent agree on owners.
 */
import { getFeature, unknownFeature } from '../db/features.ts';
import { skipFeature } from '../db/feature-edits.ts';
import { claimFeatureForRun, markFeatureBy, releaseFeatureForRun } from '../db/feature-marks.ts';
import { UserError } from '../errors.ts';
import { WRITES, defineTool } from './context.ts';
import { featureIdSchema } from './schemas.ts';
import { featureDetails } from './tools-read.ts';
import { z } from 'zod';

export const stateTools = [
  defineTool(
    'feature_mark_passing',
    {
      description:
        'Mark a feature as passing once you have implemented it and verified that it works. Wakes the scheduler, so features ' +
        'that depend on it can start. An agent can mark only the feature it holds.',
      input: { feature_id: featureIdSchema('The ID of the feature to mark as passing') },
      annotations: WRITES,
    },
    async ({ feature_id }, ctx) => {
      const before = await getFeature(ctx.db, ctx.scope.projectId, feature_id);
      if (!before) throw unknownFeature(ctx.scope.projectId, feature_id);
      if (before.passes)
        throw new UserError(`feature #${feature_id} is already passing`, {
          hint: 'nothing to do; go on with your work or end the session',
        });
      const marked = await markFeatureBy(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        passes: true,
        runId: ctx.scope.runId,
        actor: ctx.scope.actor,
      });
      const woke = await ctx.wake(ctx.scope.projectId);
      return {
        success: true,
        feature_id,
        name: marked.name,
        scheduler_notified: woke.result === 'sent',
        ...(marked.merging
          ? {
              merging: true,
              note: 'worktree isolation: the merge queue lands your commits on the integration branch; the feature passes once they land',
            }
          : {}),
      };
    },
  ),

  defineTool(
    'feature_mark_failing',
    {
      description:
        'Mark a feature as failing, e.g. when testing finds that a feature that passed no longer works (a regression). ' +
        'Then find the cause, fix it, verify, and mark it passing again.',
      input: {
        feature_id: featureIdSchema('The ID of the feature to mark as failing'),
        reason: z
          .string()
          .max(4000, { error: 'reason must be at most 4000 characters' })
          .optional()
          .describe("What fails, kept as the feature's last error (optional)"),
      },
      annotations: WRITES,
    },
    async ({ feature_id, reason }, ctx) => {
      await markFeatureBy(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        passes: false,
        reason,
        runId: ctx.scope.runId,
        actor: ctx.scope.actor,
      });
      return {
        message: `Feature #${feature_id} marked as failing - regression detected`,
        feature: await featureDetails(ctx, feature_id),
      };
    },
  ),

  defineTool(
    'feature_skip',
    {
      description:
        'Move a feature to the end of the queue (its priority becomes the largest), when it cannot be done yet: it needs ' +
        'something not built yet, or an external blocker. End your session afterwards; the feature is picked up again later.',
      input: { feature_id: featureIdSchema('The ID of the feature to skip') },
      annotations: WRITES,
    },
    async ({ feature_id }, ctx) => {
      const skipped = await skipFeature(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        runId: ctx.scope.actor,
      });
      return {
        id: skipped.id,
        name: skipped.name,
        old_priority: skipped.oldPriority,
        new_priority: skipped.newPriority,
        message: `Feature '${skipped.name}' moved to end of queue`,
      };
    },
  ),

  defineTool(
    'feature_mark_in_progress',
    {
      description:
        'Claim a feature for this agent run (mark it in progress), so no other agent works on it. Succeeds when the feature ' +
        'is free or already yours; fails when it passes, another agent holds it, or it waits for a human answer.',
      input: { feature_id: featureIdSchema('The ID of the feature to mark as in-progress') },
      annotations: WRITES,
    },
    async ({ feature_id }, ctx) => {
      await claimFeatureForRun(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        owner: ctx.scope.actor,
      });
      return featureDetails(ctx, feature_id);
    },
  ),

  defineTool(
    'feature_claim_and_get',
    {
      description:
        'Claim a feature for this agent run and return its full details in one call (feature_mark_in_progress + ' +
        'feature_get_by_id). Idempotent for its holder: already_claimed is true when this run held it already. When two ' +
        'agents claim one feature, one wins and the other gets an error.',
      input: { feature_id: featureIdSchema('The ID of the feature to claim and retrieve') },
      annotations: WRITES,
    },
    async ({ feature_id }, ctx) => {
      const claim = await claimFeatureForRun(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        owner: ctx.scope.actor,
      });
      return { ...(await featureDetails(ctx, feature_id)), already_claimed: claim.alreadyClaimed };
    },
  ),

  defineTool(
    'feature_clear_in_progress',
    {
      description:
        'Give a feature back (clear its in-progress status) when abandoning it; it returns to the pending queue. An agent ' +
        'can give back only a feature it holds; a feature nobody holds is left as it is.',
      input: { feature_id: featureIdSchema('The ID of the feature to clear in-progress status') },
      annotations: WRITES,
    },
    async ({ feature_id }, ctx) => {
      const { released } = await releaseFeatureForRun(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        runId: ctx.scope.runId,
        actor: ctx.scope.actor,
      });
      return { ...(await featureDetails(ctx, feature_id)), released };
    },
  ),
];
