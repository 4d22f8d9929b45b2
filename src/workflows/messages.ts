/**
 * The projectRun contract (DESIGN.md §3): input, signals, updates, query and result. Workflow
 * code, the worker, our CLI and tests all import these definitions, so names are written once.
 * Validation uses zod, which is pure and therefore safe inside the workflow sandbox.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { z } from 'zod';
import type { AnswerInput } from './human-answer.ts';
import { zod } from './sandbox-shared-modules.ts';
import { HOST_ID_PATTERN, HOST_ID_RULE } from './run-ids.ts';
import {
  agentAdapters,
  agentKinds,
  agentRunOutcomes,
  budgetKinds,
  onBudgetActions,
  isolationModes,
  pauseReasons,
} from './vocabulary.ts';

export const TASK_QUEUE_DEFAULT = 'autocoder';
/** The command policies of `--agent-policy` (src/guard/policy.ts applies them). */
export const agentPolicies = ['strict', 'original', 'off'] as const;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const PROJECT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A quota key (`--quota-key`): a slug, the tail of the governor's ID `autocoder/quota/<key>`. */
export const QUOTA_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

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

/**
 * Concurrency is 1..maxConcurrency, a run setting (`run --max-concurrency`, default 50) whose
 * ceiling is 1,000; the hosts' caps (`worker --max-agents`) decide how many really run at once.
 */
export const limits = {
  concurrency: { min: 1, max: 1000 },
  maxConcurrency: { min: 1, max: 1000, default: 50 },
  testingRatio: { min: 0, max: 3 },
  /** Coding + testing agents of one run: room for the highest concurrency and testing ratio. */
  maxAgents: { min: 1, max: 1003 },
  /** Features per coding agent and per testing agent (AutoCoder's --batch-size, --testing-batch-size). */
  batchSize: { min: 1, max: 3 },
  testingBatchSize: { min: 1, max: 5 },
} as const;

const projectIdRule =
  'must be a slug: lowercase letters, digits and dashes, starting with a letter or digit, at most 63 characters';

/**
 * Built on first use, not at import: the worker evaluates this module again for every workflow it
 * creates (module state is per workflow), and building these cost each agentRun child about 4 ms
 * of its first workflow task although only projectRun parses anything.
 */
function buildSchemas() {
  /**
   * Why a run starts no new agents. budget: which one, spent and limit (and, for a day's, when it
   * frees itself); quota: the key and the reset (`until`, null while unknown).
   */
  const pause = zod.looseObject({
    reason: zod.enum(pauseReasons),
    budget: zod.enum(budgetKinds).optional(),
    spentUsd: zod.number().optional(),
    limitUsd: zod.number().optional(),
    resumesAt: zod.string().optional(),
    until: zod.string().nullable().optional(),
    key: zod.string().optional(),
  });
  const usd = zod.number().positive().finite();
  /** The budgets setBudget changes (null removes one). */
  const budgets = zod
    .object({
      runUsd: usd.nullable().optional(),
      featureUsd: usd.nullable().optional(),
      dailyUsd: usd.nullable().optional(),
    })
    .strict();
  const runningAgent = zod.object({
    workflowId: zod.string(),
    kind: zod.enum(agentKinds),
    featureId: zod.number().int().nullable(),
    featureName: zod.string(),
    startedAt: zod.string(),
    /** A batch: every feature of the agent, the first first (absent: just featureId). */
    featureIds: zod.array(zod.number().int()).optional(),
  });
  const claim = zod.object({
    featureId: zod.number().int(),
    featureName: zod.string(),
    attempt: zod.number().int(),
    workflowId: zod.string(),
    kind: zod.enum(agentKinds),
    /** A batch: every feature claimed for the agent run, in order (absent: just featureId). */
    featureIds: zod.array(zod.number().int()).optional(),
  });
  const failure = zod.object({
    featureId: zod.number().int(),
    count: zod.number().int(),
    lastError: zod.string().nullable(),
  });
  const notifyState = zod.object({
    announced: zod.array(zod.number().int()),
    sent: zod.number().int(),
    failed: zod.number().int(),
    lastError: zod.string().nullable(),
    pauseNotified: zod.boolean(),
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
    /** Batch sizes as the input set them and setBatchSize / setTestingBatchSize changed them. */
    batchSize: zod.number().int().optional(),
    testingBatchSize: zod.number().int().optional(),
    /** Features tested recently in this run chain (AutoCoder's testing-batch memory). */
    recentlyTested: zod.array(zod.number().int()).optional(),
    agentsStarted: zod.number().int(),
    continuedAsNew: zod.number().int(),
    /** Claims agents made for the run (AgentSpec.claimNext) that reached it as it continued as new. */
    handoffs: zod.array(claim).optional(),
    /** Budgets as setBudget left them. */
    budgets: budgets.optional(),
    /** Features whose agent was rate-limited: claimed before any other. */
    retryFirst: zod.array(zod.number().int()).optional(),
    /** Notifications so far: requests announced (request.opened sent), counts, the last failure. */
    notify: notifyState.optional(),
  });
  const isolation = zod.object({
    mode: zod.enum(isolationModes),
    /** The integration branch: the one checked out in the project dir at run start, or --branch. */
    branch: zod.string().min(1),
    repo: zod
      .string()
      .min(1)
      .refine((url) => !url.startsWith('-'), 'must be a git URL or path, not an option')
      .optional()
      .describe("--repo: the project dir's repository as other hosts reach it (fetch, push); absent: the project dir"),
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
      homeHost: zod
        .string()
        .regex(HOST_ID_PATTERN, HOST_ID_RULE)
        .optional()
        .describe(
          'the host that holds the project dir (--home-host): shared-isolation agents, the initializer and the merge queue run there; absent: any host',
        ),
      concurrency: zod.number().int().min(1).default(3),
      maxConcurrency: zod
        .number()
        .int()
        .min(limits.maxConcurrency.min)
        .max(limits.maxConcurrency.max)
        .default(limits.maxConcurrency.default)
        .describe('upper bound accepted by setConcurrency (--max-concurrency)'),
      testingRatio: zod.number().int().min(limits.testingRatio.min).max(limits.testingRatio.max).default(1),
      // Features per coding agent (--batch-size) and per testing agent (--testing-batch-size).
      batchSize: zod.number().int().min(limits.batchSize.min).max(limits.batchSize.max).default(1),
      testingBatchSize: zod.number().int().min(limits.testingBatchSize.min).max(limits.testingBatchSize.max).default(1),
      maxAgents: zod
        .number()
        .int()
        .min(limits.maxAgents.min)
        .max(limits.maxAgents.max)
        .optional()
        .describe('coding + testing agents at once (default: maxConcurrency + the highest testing ratio)'),
      yolo: zod.boolean().default(false),
      model: zod.string().min(1).optional(),
      agent: zod.enum(agentAdapters).default('claude'),
      agentCmd: zod.array(zod.string()).min(1).optional().describe('argv template of the command adapter'),
      maxRetries: zod.number().int().min(1).max(100).default(3),
      pollIntervalMs: zod.number().int().min(100).max(3_600_000).default(5000),
      agentTimeoutMs: zod.number().int().min(1000).optional(),
      hostLostAfterMs: zod
        .number()
        .int()
        .min(1000)
        .max(86_400_000)
        .default(120_000)
        .describe("--host-lost-after: an agent whose host's worker is gone this long ends host_lost"),
      simulate: zod.record(zod.string(), zod.unknown()).optional().describe('behaviour of the simulate adapter'),
      budgetUsd: usd.optional().describe('the run stops dispatch once its agents spent this much (--budget-usd)'),
      featureBudgetUsd: usd
        .optional()
        .describe('a feature is held once its attempts spent this much (--feature-budget-usd)'),
      dailyBudgetUsd: usd.optional().describe("the project's budget per day in AUTOCODER_TZ (--daily-budget-usd)"),
      onBudget: zod
        .enum(onBudgetActions)
        .default('finish')
        .describe('at a reached budget: running agents finish, or are stopped'),
      quotaKey: zod
        .string()
        .regex(QUOTA_KEY_PATTERN, 'must be a slug: lowercase letters, digits and dashes')
        .optional()
        .describe('the account whose usage limit this project shares (--quota-key); absent: the claude config dir'),
      notifyUrl: zod
        .string()
        .regex(/^https?:\/\/[^\s/]+\S*$/, 'must be an http(s) URL')
        .optional()
        .describe('--notify-url (default AUTOCODER_NOTIFY_URL): receives a JSON POST on each event'),
      remindAfterMs: zod
        .number()
        .int()
        .min(1000)
        .default(4 * 3_600_000)
        .describe('--remind-after: first request.reminder after this long unanswered, then doubling'),
      uiUrl: zod.string().optional().describe("the run's page, shown in notifications"),
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
      message: 'must not exceed maxConcurrency (raise maxConcurrency, up to 1000, or lower concurrency)',
    });
  /** Sent by every agentRun child to its parent (by workflow ID, so it reaches the current run). */
  const agentReport = zod.object({
    workflowId: zod.string(),
    kind: zod.enum(agentKinds),
    featureId: zod.number().int().nullable(),
    /** A batch: every feature of the agent run, in order. */
    featureIds: zod.array(zod.number().int()).optional(),
    /** A batch: how each feature settled (passing or merging, else back to pending with its failure count). */
    features: zod
      .array(zod.object({ featureId: zod.number().int(), passes: zod.boolean(), failureCount: zod.number().int() }))
      .optional(),
    outcome: zod.enum(agentRunOutcomes),
    featurePasses: zod.boolean(),
    failureCount: zod.number().int(),
    error: zod.string().nullable(),
    /** Claims made for the parent as the agent ended (AgentSpec.claimNext): start them or release them. */
    next: zod.array(claim).optional(),
    /** With next: false when the agent found no other feature ready, so a scheduling pass can wait. */
    moreReady: zod.boolean().optional(),
    /** outcome rate_limited: when the limit resets (null: unknown) and what the agent printed. */
    rateLimit: zod.object({ resetsAt: zod.string().nullable(), message: zod.string() }).optional(),
    /** A `rate_limit_event` of status allowed_warning the agent saw: not a stop, shown by status. */
    limitWarning: zod.string().optional(),
  });
  /** The quotaGovernor's word to every project run: paused on `key` until `until`, or clear (null). */
  const quotaNotice = zod.object({ key: zod.string(), until: zod.string().nullable() });
  /** answerFeature's argument: exactly one of text, option (1-based) and fields (checkAnswer says which fits). */
  const answer = zod
    .object({
      featureId: zod.number().int().min(1),
      text: zod.string().optional(),
      option: zod.number().int().optional(),
      fields: zod.record(zod.string(), zod.string()).optional(),
    })
    .strict();
  return {
    isolation,
    pause,
    answer,
    notifyState,
    runningAgent,
    failure,
    carried,
    projectRunInput,
    agentReport,
    budgets,
    quotaNotice,
    featureIdArg: zod.number().int().min(1),
    batchSizeArg: zod.number().int().min(limits.batchSize.min).max(limits.batchSize.max),
    testingBatchSizeArg: zod.number().int().min(limits.testingBatchSize.min).max(limits.testingBatchSize.max),
  };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
export const schemas = (): Schemas => (built ??= buildSchemas());

export type RunningAgent = z.infer<Schemas['runningAgent']>;
export type Pause = z.infer<Schemas['pause']>;
export type FeatureFailure = z.infer<Schemas['failure']>;
export type CarriedState = z.infer<Schemas['carried']>;
export type NotifyState = z.infer<Schemas['notifyState']>;
export type ProjectRunInput = z.input<Schemas['projectRunInput']>;
export type IsolationSettings = z.output<Schemas['isolation']>;
export type ProjectRunSettings = z.output<Schemas['projectRunInput']>;

export type { BlockedFeature, FeatureCounts, ProjectRunResult, ProjectRunStatus, SpendStatus } from './run-status.ts';
import type { ProjectRunStatus } from './run-status.ts';

export type AgentReport = z.infer<Schemas['agentReport']>;
export type Budgets = z.infer<Schemas['budgets']>;
export type QuotaNotice = z.infer<Schemas['quotaNotice']>;

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
/** What answerFeature stored: the request it answered and the answer as text. */
export type AnswerResult = { requestId: number; featureId: number; question: string; answer: string };
export const answerFeatureUpdate = defineUpdate<AnswerResult, [AnswerInput]>('answerFeature');
export const setTestingRatioUpdate = defineUpdate<ProjectRunStatus['settings'], [number]>('setTestingRatio');
export const setBatchSizeUpdate = defineUpdate<ProjectRunStatus['settings'], [number]>('setBatchSize');
export const setTestingBatchSizeUpdate = defineUpdate<ProjectRunStatus['settings'], [number]>('setTestingBatchSize');
export const setBudgetUpdate = defineUpdate<ProjectRunStatus['budgets'], [Budgets]>('setBudget');
/** From the quotaGovernor of the run's key (runs on other keys ignore it). */
export const quotaSignal = defineSignal<[QuotaNotice]>('quota');

/** A run's cap on coding + testing agents: room for every concurrency it accepts, and its testers. */
export function maxAgentsOf(input: { maxAgents?: number | undefined; maxConcurrency: number }): number {
  return input.maxAgents ?? input.maxConcurrency + limits.testingRatio.max;
}

/** Update validators: an out-of-range value is rejected before it reaches the history. */
export function checkRange(name: string, value: unknown, min: number, max: number, fix?: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}${fix ? ` (${fix})` : ''}`,
    );
  }
}

/** zod issues as `field: message` lines (the field path joined with dots). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}
