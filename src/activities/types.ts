/**
 * Shapes that cross the workflow ↔ activity boundary. Workflows import this file for types only.
 */
import type {
  AgentAdapter,
  AgentKind,
  AgentReport,
  BlockedFeature,
  FeatureCounts,
  RunningAgent,
} from '../workflows/messages.ts';

export type Claim = { featureId: number; featureName: string; attempt: number; workflowId: string; kind: AgentKind };

export type PrepareRunInput = { projectId: string; maxRetries: number };
export type PrepareRunResult = {
  featureCount: number;
  /** Agent runs of an earlier run that are still alive: the new run adopts them. */
  adopt: RunningAgent[];
  /** Features whose claim was held by an agent run that is gone: re-claimed before new work. */
  resume: number[];
};

export type ScheduleInput = {
  projectId: string;
  maxRetries: number;
  codingSlots: number;
  testingSlots: number;
  /** Coding agents this run has now: with none and nothing claimable, the run is over. */
  codingRunning: number;
  /**
   * Agent runs (claim owners) this run tracks. A claim held by anyone else is an agent run to adopt
   * (still running) or a claim to free (a crash between claim and start left it).
   */
  known: string[];
  /** Features not to claim (held by an operator's stopFeature). */
  exclude: number[];
  /** Feature ids to claim before anything else (resume-first), when they are ready. */
  resumeFirst: number[];
  /** Ask for the blocked analysis: set when no agent runs, so the run can end instead of waiting. */
  analyseBlocked: boolean;
  /** Check that every `known` agent run still runs (poll passes): those that ended come back in `gone`. */
  verifyKnown?: boolean;
};
export type ScheduleResult = {
  claims: Claim[];
  /** Agent runs holding claims that this run did not know of, still running: now tracked. */
  adopt: RunningAgent[];
  /** With verifyKnown: known agent runs that are no longer running. */
  gone?: string[];
  counts: FeatureCounts;
  blocked: BlockedFeature[];
  /** Stranded features still to resume (no slot for them in this pass): they go before any other. */
  resumeLeft?: number;
  /** Set when no coding agent runs and none can start: how the run ends. */
  finished: { outcome: 'complete' | 'blocked' | 'failed'; message: string } | null;
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
   * The parent run's workflow ID. When set, an agent that exits normally is settled in the store
   * and reported to the parent by superviseAgent itself, which saves the child a workflow task (a
   * local activity and a signal) before the parent hears of it.
   */
  reportTo?: string | undefined;
  /**
   * With reportTo, for coding agents: as the agent ends, claim the next ready feature for the
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
  /** With reportTo: the outcome superviseAgent recorded (absent when it could not: the workflow does it). */
  report?: RecordOutcomeResult;
  /** With reportTo: whether the parent has the agentFinished signal already. */
  parentNotified?: boolean;
};

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
}

/** Activities the agentRun workflow calls. */
export interface AgentActivities {
  superviseAgent(spec: AgentSpec): Promise<AgentExitSummary>;
  recordAgentOutcome(input: RecordOutcomeInput): Promise<RecordOutcomeResult>;
}
