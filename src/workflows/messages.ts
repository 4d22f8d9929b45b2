/**
 * The projectRun contract (DESIGN.md §3): input, signals, updates, query and result. Workflow
 * code, the worker, our CLI and tests all import these definitions, so names are written once.
 * Validation uses zod, which is pure and therefore safe inside the workflow sandbox.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { z } from 'zod';
import { zod } from './sandbox-shared-modules.ts';
import {
  agentAdapters,
  agentKinds,
  agentRunOutcomes,
  isolationModes,
  pauseReasons,
  type AgentAdapter,
  type FeatureState,
  type IsolationMode,
  type RunOutcome,
  type RunPhase,
} from './vocabulary.ts';

export const TASK_QUEUE_DEFAULT = 'autocoder';
/** The command policies of `--agent-policy` (src/guard/policy.ts applies them). */
export const agentPolicies = ['strict', 'original', 'off'] as const;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const PROJECT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export { projectRunId } from './run-ids.ts';
export {
  agentAdapters,
  agentKinds,
  failureTypes,
  runPhases,
  type AgentAdapter,
  type AgentKind,
  type RunOutcome,
  type RunPhase,
} from './vocabulary.ts';

export const limits = {
  concurrency: { min: 1, max: 5 },
  testingRatio: { min: 0, max: 3 },
  maxAgents: { min: 1, max: 100 },
} as const;

const projectIdRule =
  'must be a slug: lowercase letters, digits and dashes, starting with a letter or digit, at most 63 characters';

/**
 * Built on first use, not at import: the worker evaluates this module again for every workflow it
 * creates (module state is per workflow), and building these cost each agentRun child about 4 ms
 * of its first workflow task although only projectRun parses anything.
 */
function buildSchemas() {
  /** Why a run starts no new agents; later reasons (budget, quota) carry their details beside it. */
  const pause = zod.looseObject({ reason: zod.enum(pauseReasons) });
  const runningAgent = zod.object({
    workflowId: zod.string(),
    kind: zod.enum(agentKinds),
    featureId: zod.number().int().nullable(),
    featureName: zod.string(),
    startedAt: zod.string(),
  });
  const claim = zod.object({
    featureId: zod.number().int(),
    featureName: zod.string(),
    attempt: zod.number().int(),
    workflowId: zod.string(),
    kind: zod.enum(agentKinds),
  });
  const failure = zod.object({
    featureId: zod.number().int(),
    count: zod.number().int(),
    lastError: zod.string().nullable(),
  });
  /** What a run carries across continue-as-new: everything the loop cannot re-read from Postgres. */
  const carried = zod.object({
    startedAt: zod.string(),
    running: zod.array(runningAgent),
    failures: zod.array(failure),
    held: zod.array(zod.number().int()),
    pause: pause.nullable(),
    draining: zod.boolean(),
    concurrency: zod.number().int(),
    testingRatio: zod.number().int(),
    agentsStarted: zod.number().int(),
    continuedAsNew: zod.number().int(),
    /** Claims agents made for the run (AgentSpec.claimNext) that reached it as it continued as new. */
    handoffs: zod.array(claim).optional(),
  });
  const isolation = zod.object({
    mode: zod.enum(isolationModes),
    /** The integration branch: the one checked out in the project dir at run start, or --branch. */
    branch: zod.string().min(1),
    worktreeSetup: zod.array(zod.string()).min(1).optional().describe('argv run in each new worktree'),
    worktreeCopy: zod.array(zod.string().min(1)).default([]).describe('ignored files copied from the project dir'),
    verifyCmd: zod.array(zod.string()).min(1).optional().describe('argv run in the worktree before landing'),
    verifyTimeoutMs: zod.number().int().min(1000).default(600_000),
    keepBranches: zod.boolean().default(false),
    review: zod.boolean().default(false),
  });
  const projectRunInput = zod
    .object({
      projectId: zod.string().regex(PROJECT_ID_PATTERN, projectIdRule),
      projectDir: zod.string().min(1, 'must be the project directory'),
      concurrency: zod.number().int().min(1).default(3),
      maxConcurrency: zod
        .number()
        .int()
        .min(1)
        .max(50)
        .default(limits.concurrency.max)
        .describe('upper bound accepted by setConcurrency'),
      testingRatio: zod.number().int().min(limits.testingRatio.min).max(limits.testingRatio.max).default(1),
      maxAgents: zod
        .number()
        .int()
        .min(limits.maxAgents.min)
        .max(limits.maxAgents.max)
        .default(10)
        .describe('coding + testing agents at once'),
      yolo: zod.boolean().default(false),
      model: zod.string().min(1).optional(),
      agent: zod.enum(agentAdapters).default('claude'),
      agentCmd: zod.array(zod.string()).min(1).optional().describe('argv template of the command adapter'),
      maxRetries: zod.number().int().min(1).max(100).default(3),
      pollIntervalMs: zod.number().int().min(100).max(3_600_000).default(5000),
      agentTimeoutMs: zod.number().int().min(1000).optional(),
      simulate: zod.record(zod.string(), zod.unknown()).optional().describe('behaviour of the simulate adapter'),
      budgetUsd: zod.number().positive().optional(),
      agentSafety: zod
        .object({
          policy: zod.enum(agentPolicies).default('strict'),
          allowHosts: zod.array(zod.string().min(1)).default([]),
          maxTurns: zod.record(zod.string(), zod.number().int().min(1)).default({}),
          env: zod.array(zod.string().regex(ENV_NAME_PATTERN)).default([]),
          additions: zod
            .object({
              commands: zod.array(zod.string()).default([]),
              pkillProcesses: zod.array(zod.string()).default([]),
              blocked: zod.array(zod.string()).default([]),
            })
            .default({ commands: [], pkillProcesses: [], blocked: [] }),
        })
        .default({
          policy: 'strict',
          allowHosts: [],
          maxTurns: {},
          env: [],
          additions: { commands: [], pkillProcesses: [], blocked: [] },
        })
        .describe('agent safety: --agent-policy, --allow-host, --max-turns, --agent-env and the policy files'),
      isolation: isolation
        .optional()
        .describe('worktree isolation (--isolation and its flags); absent: shared, every agent in the project dir'),
      continueAsNewAfterPasses: zod
        .number()
        .int()
        .min(1)
        .optional()
        .describe(
          'for tests and benchmarks: continue as new after this many scheduling passes of a run, as if the server suggested it',
        ),
      carried: carried.optional(),
    })
    .strict()
    .refine((input) => input.concurrency <= input.maxConcurrency, {
      path: ['concurrency'],
      message: 'must not exceed maxConcurrency',
    });
  /** Sent by every agentRun child to its parent (by workflow ID, so it reaches the current run). */
  const agentReport = zod.object({
    workflowId: zod.string(),
    kind: zod.enum(agentKinds),
    featureId: zod.number().int().nullable(),
    outcome: zod.enum(agentRunOutcomes),
    featurePasses: zod.boolean(),
    failureCount: zod.number().int(),
    error: zod.string().nullable(),
    /** Claims made for the parent as the agent ended (AgentSpec.claimNext): start them or release them. */
    next: zod.array(claim).optional(),
    /** With next: false when the agent found no other feature ready, so a scheduling pass can wait. */
    moreReady: zod.boolean().optional(),
  });
  return {
    isolation,
    pause,
    runningAgent,
    failure,
    carried,
    projectRunInput,
    agentReport,
    featureIdArg: zod.number().int().min(1),
  };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
export const schemas = (): Schemas => (built ??= buildSchemas());

export type RunningAgent = z.infer<Schemas['runningAgent']>;
export type Pause = z.infer<Schemas['pause']>;
export type FeatureFailure = z.infer<Schemas['failure']>;
export type CarriedState = z.infer<Schemas['carried']>;
export type ProjectRunInput = z.input<Schemas['projectRunInput']>;
export type IsolationSettings = z.output<Schemas['isolation']>;
export type ProjectRunSettings = z.output<Schemas['projectRunInput']>;

/** How many features are in each state, and in all. */
export type FeatureCounts = Record<FeatureState, number> & { total: number };

export type BlockedFeature = { featureId: number; reason: string };

export type ProjectRunStatus = {
  project: string;
  phase: RunPhase;
  outcome: RunOutcome | null;
  /** Whether the run starts no new agents; `pause` says why. */
  paused: boolean;
  pause: Pause | null;
  settings: {
    concurrency: number;
    testingRatio: number;
    maxAgents: number;
    yolo: boolean;
    agent: AgentAdapter;
    maxRetries: number;
    /** The command policy of claude agents; `off` is shown as a warning by `status`. */
    agentPolicy: (typeof agentPolicies)[number];
    /** Names only: hosts, turns per kind and environment names, never values. */
    agentSafety: { allowHosts: string[]; maxTurns: Record<string, number>; env: string[] };
    /** Where coding agents work; with worktree isolation, the integration branch and the queue's settings. */
    isolation: IsolationMode;
    worktree?: { branch: string; verifyCmd: string[] | null; review: boolean; keepBranches: boolean };
  };
  counts: FeatureCounts;
  running: RunningAgent[];
  failures: FeatureFailure[];
  blocked: BlockedFeature[];
  /** Features stopped by an operator; scheduled again after retryFeature. */
  held: number[];
  startedAt: string;
  agentsStarted: number;
  continuedAsNew: number;
  costUsd?: number;
};

export type ProjectRunResult = {
  outcome: RunOutcome;
  counts: FeatureCounts;
  durationMs: number;
  blocked: BlockedFeature[];
  failures: FeatureFailure[];
  agentsStarted: number;
  message: string;
};

export type AgentReport = z.infer<Schemas['agentReport']>;

export const stopSignal = defineSignal('stop');
export const drainSignal = defineSignal('drain');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const refreshSignal = defineSignal('refresh');
export const stopFeatureSignal = defineSignal<[number]>('stopFeature');
export const retryFeatureSignal = defineSignal<[number]>('retryFeature');
export const agentFinishedSignal = defineSignal<[AgentReport]>('agentFinished');
export const statusQuery = defineQuery<ProjectRunStatus>('status');
export const setConcurrencyUpdate = defineUpdate<ProjectRunStatus['settings'], [number]>('setConcurrency');
export const setTestingRatioUpdate = defineUpdate<ProjectRunStatus['settings'], [number]>('setTestingRatio');

/** Update validators: an out-of-range value is rejected before it reaches the history. */
export function checkRange(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
}

/** zod issues as `field: message` lines (the field path joined with dots). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}
