/**
 * Shapes that cross the workflow ↔ activity boundary. Workflows import this file for types only.
 */
import type {
  AgentAdapter,
  AgentKind,
  AgentReport,
  BlockedFeature,
  FeatureCounts,
  IsolationSettings,
  RunningAgent,
} from '../workflows/messages.ts';
import type { MergeQueueInput } from '../workflows/merge-messages.ts';
import type { IsolationMode } from '../workflows/vocabulary.ts';

export type Claim = { featureId: number; featureName: string; attempt: number; workflowId: string; kind: AgentKind };

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
  /** Set when no coding agent runs and none can start: how the run ends. */
  finished: { outcome: 'complete' | 'blocked' | 'failed'; message: string } | null;
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
  claimNext?: { maxRetries: number; exclude: number[] } | undefined;
};

export type AgentExitSummary = {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  adopted: boolean;
  pid: number;
} & AgentEndReport;

/**
 * superviseAgent's input: the spec and the parent run's workflow ID. An agent whose end the
 * activity sees is settled in the store and reported to the parent by the activity itself, which
 * saves the child a workflow task (a local activity and a signal) before the parent hears of it.
 */
export type SuperviseInput = AgentSpec & { reportTo: string };

/** What superviseAgent settled and told the parent; empty when it could not (the workflow does it). */
export type AgentEndReport = { report?: RecordOutcomeResult; parentNotified?: boolean };

/** Details of a superviseAgent failure (ApplicationFailure details[0]). */
export type AgentFailureDetails = {
  reason: 'exited' | 'crashed' | 'timed_out' | 'stopped';
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
export type RecordOutcomeResult = Pick<AgentReport, 'outcome' | 'featurePasses' | 'failureCount' | 'error'>;

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
  /** Worktree isolation: signal-with-start of the project's mergeQueue (src/activities/merge-steps.ts). */
  wakeMergeQueue(input: MergeQueueInput): Promise<void>;
}

/** Activities the agentRun workflow calls. */
export interface AgentActivities {
  superviseAgent(input: SuperviseInput): Promise<AgentExitSummary>;
  recordAgentOutcome(input: RecordOutcomeInput): Promise<RecordOutcomeResult>;
}
