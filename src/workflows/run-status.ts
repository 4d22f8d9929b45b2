/**
 * What a project run tells: the `status` query's answer and the run's result. Types only, so the
 * workflow bundle, the CLI, the dashboard and the tests share them (messages.ts re-exports them).
 */
import type { OpenRequest } from './human-answer.ts';
import type { agentPolicies, FeatureFailure, Pause, RunningAgent } from './messages.ts';
import type { AgentAdapter, FeatureState, IsolationMode, RunOutcome, RunPhase } from './vocabulary.ts';

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
    /** Features per coding agent (1..3) and per testing agent (1..5). */
    batchSize: number;
    testingBatchSize: number;
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
    /** The host that holds the project dir (null: any host); `repo`: how other hosts reach it (null: the project dir). */
    homeHost?: string | null;
    worktree?: {
      branch: string;
      verifyCmd: string[] | null;
      review: boolean;
      keepBranches: boolean;
      repo?: string | null;
    };
  };
  counts: FeatureCounts;
  /** Each running agent with every feature it holds (`featureIds`, the first first). */
  running: Array<RunningAgent & { featureIds: number[] }>;
  failures: FeatureFailure[];
  blocked: BlockedFeature[];
  /** Features stopped by an operator; scheduled again after retryFeature. */
  held: number[];
  startedAt: string;
  agentsStarted: number;
  continuedAsNew: number;
  /** Spend as of the last scheduling pass. */
  spend: SpendStatus;
  /** The run's budgets (null: none) and what a reached one does. */
  budgets: { runUsd: number | null; featureUsd: number | null; dailyUsd: number | null; onBudget: 'finish' | 'stop' };
  /** Features held because they spent their own budget. */
  budgetHeld: Array<{ featureId: number; spentUsd: number; limitUsd: number }>;
  /** The quota key this project shares, and the last `allowed_warning` an agent saw on it. */
  quotaKey: string | null;
  quotaWarning: { at: string; message: string } | null;
  costUsd?: number;
  /** Webhook deliveries of this run chain (--notify-url): failures never stop the run. */
  notifications?: { sent: number; failed: number; lastError: string | null };
  /** Open requests of features this run knows (from its last pass): what a person is asked. */
  humanRequests?: OpenRequest[];
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

/** The status's `spend`: USD of this run and of the project's day, and the run's tokens. */
export type SpendStatus = {
  runUsd: number;
  todayUsd: number;
  tokens: { input: number; output: number; cacheRead: number; cacheCreation: number };
};
