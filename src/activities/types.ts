/**
 * Shapes that cross the workflow ↔ activity boundary. Workflows import this file for types only.
 */
import type { AnswerInput, OpenRequest } from '../workflows/human-answer.ts';
import type { NotificationInput } from '../workflows/notifications.ts';
import type { WindowSpec } from '../schedules/window.ts';
import type {
  AgentAdapter,
  AnswerResult,
  AgentKind,
  AgentReport,
  BlockedFeature,
  FeatureCounts,
  IsolationSettings,
  ProjectRunInput,
  RunningAgent,
} from '../workflows/messages.ts';
import type { MergeQueueInput } from '../workflows/merge-messages.ts';
import type { IsolationMode } from '../workflows/vocabulary.ts';

/** The run's budgets and where its spend starts (the budget check, src/activities/budget.ts). */
export type BudgetInput = {
  runStartedAt: string;
  runUsd?: number | null | undefined;
  featureUsd?: number | null | undefined;
  dailyUsd?: number | null | undefined;
};
/** The status's `pause` when a budget is reached. */
export type BudgetPause = {
  reason: 'budget';
  budget: 'run' | 'feature' | 'daily' | 'installation';
  spentUsd: number;
  limitUsd: number;
  /** A day's budget: when the next day begins (dispatch resumes by itself then). */
  resumesAt?: string;
};
/** The status's `spend`: USD of the run and of the project's day, tokens of the run. */
export type RunSpend = {
  runUsd: number;
  todayUsd: number;
  tokens: { input: number; output: number; cacheRead: number; cacheCreation: number };
};

export type Claim = {
  featureId: number;
  featureName: string;
  attempt: number;
  workflowId: string;
  kind: AgentKind;
  /** A batch: every feature of the claim, the first (featureId) first; absent for one feature. */
  featureIds?: number[];
};

export type PrepareRunInput = {
  projectId: string;
  maxRetries: number;
  /** Recorded on the project: under `worktree`, an agent's "passing" means merging. */
  isolation?: IsolationMode;
};
export type PrepareRunResult = { featureCount: number };

export type ScheduleInput = {
  projectId: string;
  maxRetries: number;
  codingSlots: number;
  testingSlots: number;
  /** Coding agents this run has now: with none and nothing claimable, the run is over. */
  codingRunning: number;
  /**
   * Agent runs (claim owners) this run tracks. A claim held by anyone else belongs to a live
   * agent run (adopted), a closed one (settled as crashed, its feature resumed first) or one not
   * started yet (a handoff or a claim a crash left: started by its ID).
   */
  known: string[];
  /** Features not to claim (held by an operator's stopFeature). */
  exclude: number[];
  /** Ask for the blocked analysis: set when no agent runs, so the run can end instead of waiting. */
  analyseBlocked: boolean;
  /** Also check that every `known` agent run still runs (poll passes); those closed are settled. */
  verifyKnown?: boolean;
  /** The run's last pass: claims recorded for agent runs never started are given back. */
  ending?: boolean;
  /** The run's budgets: checked before anything is claimed (absent in histories from before them). */
  budget?: BudgetInput;
  /** Features to claim before any other (their agent was rate-limited): resumed like a crash. */
  resumeFirst?: number[];
  /** Features per coding agent (absent: 1). */
  batchSize?: number;
  /** Features per testing agent (absent: 1) and the run chain's memory of features tested recently. */
  testingBatchSize?: number;
  recentlyTested?: number[];
};
export type ScheduleResult = {
  /** Agent runs to start: new claims, and claims recorded for runs not started yet. */
  claims: Claim[];
  /** Agent runs holding claims that this run did not know of, still running: now tracked. */
  adopt: RunningAgent[];
  /** Agent runs found closed without a report, settled now: the run takes these as their reports. */
  settled: AgentReport[];
  counts: FeatureCounts;
  blocked: BlockedFeature[];
  /** Stranded features still to resume (no slot for them in this pass): they go before any other. */
  resumeLeft: number;
  /** Open requests of the project's features (human_requests), oldest first. */
  awaiting: OpenRequest[];
  /** Nothing codes and nothing can until a person answers a parked feature (needs_human_input). */
  waitingForHuman: boolean;
  /** Set when no coding agent runs and none can start: how the run ends. */
  finished: { outcome: 'complete' | 'blocked' | 'failed'; message: string } | null;
  /** What the run spent (absent without a budget input). */
  spend?: RunSpend;
  /** A budget reached: nothing was claimed, claims not yet started were given back. */
  budget?: BudgetPause | null;
  /** Features over their own budget: not claimed, held with that reason. */
  overBudget?: Array<{ featureId: number; spentUsd: number; limitUsd: number }>;
  /** With testing batches: the new memory of features tested recently (the run keeps and carries it). */
  recentlyTested?: number[];
};

/**
 * How an agent is kept in bounds (src/agents/claude-safety.ts): the command policy, the hosts its
 * sandbox may reach, --max-turns per kind, more environment names to pass, and what the policy
 * files added (read from the project dir at run start).
 */
export type AgentSafety = {
  policy: 'strict' | 'original' | 'off';
  allowHosts: string[];
  maxTurns: Record<string, number>;
  env: string[];
  additions: { commands: string[]; pkillProcesses: string[]; blocked: string[] };
};

export type AgentSpec = {
  projectId: string;
  projectDir: string;
  kind: AgentKind;
  featureId: number | null;
  /** A batch: every feature of the agent, the first (featureId) first; absent for one feature. */
  featureIds?: number[] | undefined;
  featureName: string;
  attempt: number;
  adapter: AgentAdapter;
  agentCmd?: string[] | undefined;
  model?: string | undefined;
  yolo: boolean;
  simulate?: Record<string, unknown> | undefined;
  timeoutMs: number;
  /**
   * Worktree isolation: a coding agent works in its feature's worktree, a testing agent in a
   * detached worktree of the integration head (superviseAgent makes them before the spawn).
   */
  isolation?: IsolationSettings | undefined;
  /** What a reviewer said rejecting the last attempt (`autocoder reject --reason`), read at spawn. */
  reviewNote?: string | undefined;
  /** The run's agent safety settings (absent in histories from before them: strict, defaults). */
  safety?: AgentSafety | undefined;
  /**
   * For coding agents: as the agent ends, claim the next ready feature for the
   * parent (what its next scheduling pass would claim for the freed slot) and send the claim with
   * the report, so the parent can start it without a scheduling pass of its own first.
   */
  claimNext?:
    | { maxRetries: number; exclude: number[]; budget?: BudgetInput | undefined; batchSize?: number | undefined }
    | undefined;
  /** The run's budgets: what is left is passed to claude as --max-budget-usd. */
  budget?: BudgetInput | undefined;
  /**
   * How long the agent's supervision may wait on its host's queue for a worker (the
   * schedule-to-start timeout of superviseAgent there) before the agent ends `host_lost`
   * (`run --host-lost-after`; default 2 minutes).
   */
  hostLostAfterMs?: number | undefined;
  /**
   * The run's home host, which holds the project dir: agents that work in it (shared isolation,
   * the initializer, merge resolvers) are pinned there; under worktree isolation a coding or
   * testing agent on another host works in that host's clone. Absent: any host, one filesystem.
   */
  homeHost?: string | undefined;
};

export type AgentExitSummary = {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  adopted: boolean;
  pid: number;
  /** The end the agent's output named over its exit 0 (a usage limit, --max-turns, --max-budget-usd). */
  override?: Pick<RecordOutcomeInput, 'outcome' | 'error'>;
} & AgentEndReport;

/**
 * superviseAgent's input: the spec and the parent run's workflow ID. An agent whose end the
 * activity sees is settled in the store and reported to the parent by the activity itself, which
 * saves the child a workflow task (a local activity and a signal) before the parent hears of it.
 */
export type SuperviseInput = AgentSpec & { reportTo: string };

/** A rate or usage limit that ended an agent (src/agents/claude-limits.ts). */
export type RateLimitEnd = {
  /** When the limit resets, if the agent's output said (ISO); else the governor backs off. */
  resetsAt: string | null;
  message: string;
};

/** What superviseAgent settled and told the parent; empty when it could not (the workflow does it). */
export type AgentEndReport = { report?: RecordOutcomeResult; parentNotified?: boolean; rateLimit?: RateLimitEnd };

/** Details of a superviseAgent failure (ApplicationFailure details[0]). */
export type AgentFailureDetails = {
  reason: 'exited' | 'crashed' | 'timed_out' | 'stopped' | 'rate_limited' | 'host_drained';
  exitCode: number | null;
  signal: string | null;
  durationMs: number | null;
  outputTail: string;
} & AgentEndReport;

export type RecordOutcomeInput = {
  projectId: string;
  featureId: number | null;
  kind: AgentKind;
  owner: string;
  outcome: AgentReport['outcome'] | 'exited';
  exitCode: number | null;
  signal: string | null;
  error: string | null;
};
export type RecordOutcomeResult = Pick<
  AgentReport,
  'outcome' | 'featurePasses' | 'failureCount' | 'error' | 'features'
>;

/** A rate-limited agent's report to its key's quotaGovernor (signal-with-start). */
export type QuotaReportInput = { key: string; projectId: string; resetsAt: string | null; message: string };

/** The host an agent run goes to: its id (AUTOCODER_HOST_ID) and its own task queue. */
export type AgentHost = { hostId: string; taskQueue: string };

/** Heartbeat details of superviseAgent: what a retried attempt needs to adopt the process. */
export type AgentHeartbeat = {
  pid: number;
  pgid: number;
  startTime: number;
  logPath: string;
  statusPath: string;
  host: string;
};

/** Activities the projectRun workflow calls (feature store side). */
export interface RunActivities {
  prepareRun(input: PrepareRunInput): Promise<PrepareRunResult>;
  schedule(input: ScheduleInput): Promise<ScheduleResult>;
  resetFeatureFailures(input: { projectId: string; featureId: number }): Promise<void>;
  /** Frees claims made for the run (AgentSpec.claimNext) that it did not start; never counts an attempt. */
  releaseClaims(input: { projectId: string; claims: Claim[] }): Promise<void>;
  /** Stores a person's answer to the feature's open request (answerFeature); InvalidInput when it does not fit. */
  storeAnswer(input: { projectId: string; answer: AnswerInput }): Promise<AnswerResult>;
  /** Tells the key's quotaGovernor of a rate-limited agent (signal-with-start of autocoder/quota/<key>). */
  reportQuota(input: QuotaReportInput): Promise<void>;
  /** The key's pause, if its governor has one now: a run that starts during a pause waits too. */
  quotaState(input: { key: string }): Promise<{ until: string } | null>;
  /** Worktree isolation: signal-with-start of the project's mergeQueue (src/activities/merge-steps.ts). */
  wakeMergeQueue(input: MergeQueueInput): Promise<void>;
}

/** Activities the quotaGovernor workflow calls. */
export interface QuotaActivities {
  /** Sends every running projectRun the key's state (each run keeps it only if the key is its own); returns how many. */
  broadcastQuota(input: { key: string; until: string | null }): Promise<{ projects: string[] }>;
}

/** Activities the agentRun workflow calls. */
export interface AgentActivities {
  /** On the shared queue: a host with a free slot, where the agent's supervision then stays (hosts.ts). */
  pickAgentHost(input: { runId: string }): Promise<AgentHost>;
  superviseAgent(input: SuperviseInput): Promise<AgentExitSummary>;
  recordAgentOutcome(input: RecordOutcomeInput): Promise<RecordOutcomeResult>;
  /** On the agent's host: kills the process tree recorded for the run, if it still lives. */
  killRecordedAgent(input: { runId: string }): Promise<{ killed: boolean }>;
}

/** The notification activity (src/activities/notify.ts). */
export interface NotifyActivities {
  postNotification(input: NotificationInput): Promise<void>;
}

/** windowRun's activities (src/activities/windows.ts). */
export interface WindowActivities {
  windowBounds(input: {
    window: WindowSpec;
    nowMs: number;
  }): Promise<{ startMs: number; endMs: number; open: boolean }>;
  joinWindowRun(input: { input: ProjectRunInput }): Promise<{ firstRunId: string; joined: boolean }>;
  drainWindowRun(input: { projectId: string; firstRunId: string }): Promise<'drained' | 'ended' | 'not-ours'>;
}
