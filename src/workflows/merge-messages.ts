/**
 * The mergeQueue contract (worktree isolation): its input, the wake signal projectRun sends with
 * signal-with-start, the review updates (`autocoder approve|reject`) and the status query.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { z } from 'zod';
import { zod } from './sandbox-shared-modules.ts';
import { schemas as runSchemas } from './messages.ts';
import { agentAdapters, type MergeStep } from './vocabulary.ts';

function buildSchemas() {
  const run = runSchemas();
  const mergeQueueInput = zod.object({
    projectId: zod.string().min(1),
    projectDir: zod.string().min(1),
    /** The run's home host: the queue's git steps and resolvers run there (absent: any host). */
    homeHost: run.projectRunInput.shape.homeHost,
    maxRetries: zod.number().int().min(1),
    isolation: run.isolation,
    /** How resolver agents (kind `merge`) are run: the project run's agent settings. */
    agent: zod.object({
      adapter: zod.enum(agentAdapters),
      agentCmd: zod.array(zod.string()).min(1).optional(),
      model: zod.string().optional(),
      yolo: zod.boolean(),
      simulate: zod.record(zod.string(), zod.unknown()).optional(),
      timeoutMs: zod.number().int().min(1000),
      safety: run.projectRunInput.shape.agentSafety,
    }),
    /** for tests: continue as new after this many landed features, as if the server suggested it */
    continueAsNewAfter: zod.number().int().min(1).optional(),
    /** How long an idle queue waits for a wake before it ends (signal-with-start starts it again). */
    idleMs: zod.number().int().min(100).default(30_000),
  });
  const review = zod.object({ featureId: zod.number().int().min(1), reason: zod.string().optional() });
  return { mergeQueueInput, review };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
export const mergeSchemas = (): Schemas => (built ??= buildSchemas());

export type MergeQueueInput = z.input<Schemas['mergeQueueInput']>;
export type MergeQueueSettings = z.output<Schemas['mergeQueueInput']>;

export type MergeQueueStatus = {
  project: string;
  /** The feature being landed now and its step. */
  current: { featureId: number; step: MergeStep } | null;
  /** Features in `merging` behind it, in the order they land (finish order, dependencies first). */
  waiting: number[];
  landed: number;
  sentBack: number;
};

export const mergeWakeSignal = defineSignal('wake');
export const mergeStatusQuery = defineQuery<MergeQueueStatus>('mergeStatus');
/** `autocoder approve`: lands a feature waiting for review (only with --review). */
export const approveFeatureUpdate = defineUpdate<{ featureId: number; decision: 'approved' }, [number]>(
  'approveFeature',
);
/** `autocoder reject --reason`: sends it back to pending; its next agent gets the reason. */
export const rejectFeatureUpdate = defineUpdate<{ featureId: number; decision: 'rejected' }, [number, string]>(
  'rejectFeature',
);
