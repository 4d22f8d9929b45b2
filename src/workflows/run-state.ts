/**
 * A project run's state, as one explicit type, and the handlers that feed it. Handlers only
 * record what arrived and wake the loop (project-run.ts), which acts on all of it in its next
 * pass; the status query reads the same state.
 */
import * as wf from '@temporalio/workflow';
import type { Claim, ScheduleInput } from '../activities/types.ts';
import {
  agentFinishedSignal,
  checkRange,
  maxAgentsOf,
  describeIssues,
  drainSignal,
  limits,
  pauseSignal,
  quotaSignal,
  refreshSignal,
  resumeSignal,
  retryFeatureSignal,
  schemas,
  setBatchSizeUpdate,
  setBudgetUpdate,
  setTestingBatchSizeUpdate,
  setConcurrencyUpdate,
  setTestingRatioUpdate,
  statusQuery,
  stopFeatureSignal,
  stopSignal,
  type AgentReport,
  type BlockedFeature,
  type Budgets,
  type CarriedState,
  type FeatureCounts,
  type FeatureFailure,
  type NotifyState,
  type Pause,
  type ProjectRunSettings,
  type ProjectRunStatus,
  type RunningAgent,
  type SpendStatus,
} from './messages.ts';
import type { OpenRequest } from './human-answer.ts';
import type { RunOutcome, RunPhase } from './vocabulary.ts';

/**
 * Why the loop woke. `idle-report`: an agent ended and found no other feature ready
 * (AgentReport.moreReady false), so a scheduling pass may wait; every other reason makes one due.
 */
export type WakeReason = 'start' | 'report' | 'idle-report' | 'operator' | 'settings' | 'poll';

export type RunState = {
  readonly input: ProjectRunSettings;
  readonly workflowId: string;
  readonly startedAt: string;
  phase: RunPhase;
  outcome: RunOutcome | null;
  concurrency: number;
  testingRatio: number;
  batchSize: number;
  testingBatchSize: number;
  /** Features tested recently in this run chain: the testing batches' memory (selectTestBatch). Carried. */
  recentlyTested: number[];
  pause: Pause | null;
  draining: boolean;
  stopRequested: boolean;
  /** What arrived since the loop last looked, in order. */
  inbox: { reports: AgentReport[]; stopFeature: number[]; retryFeature: number[] };
  /** Set by every wake; the loop clears it when it looks. */
  woken: boolean;
  /** Reasons not yet served by a scheduling pass. */
  due: Set<WakeReason>;
  running: Map<string, RunningAgent>;
  failures: Map<number, FeatureFailure>;
  /** Features stopped by an operator: not scheduled again until retryFeature. */
  held: Set<number>;
  /** Claims ending agents made for this run (AgentSpec.claimNext), to start or give back. */
  handoffs: Claim[];
  /** Stranded features the last pass could not resume yet: agents claim nothing for us meanwhile. */
  resumeLeft: number;
  counts: FeatureCounts;
  blocked: BlockedFeature[];
  lastPassAt: number;
  /** Scheduling passes of this run (not carried): the continueAsNewAfterPasses knob counts them. */
  passes: number;
  agentsStarted: number;
  continuedAsNew: number;
  /** Budgets as the input set them and setBudget changed them (null: none). */
  budgets: Required<{ [K in keyof Budgets]: number | null }>;
  /** Spend and features over their own budget, as of the last scheduling pass. */
  spend: SpendStatus;
  budgetHeld: ProjectRunStatus['budgetHeld'];
  /** Features whose agent was rate-limited: the next pass claims them before any other. */
  retryFirst: number[];
  /** Rate-limited ends not yet reported to the key's quotaGovernor. */
  quotaReports: Array<{ resetsAt: string | null; message: string }>;
  quotaWarning: ProjectRunStatus['quotaWarning'];
  /** The day boundary a timer already waits for (a daily budget frees itself there). */
  budgetTimerFor: string | null;
  /** Open requests of the project's features, as of the last pass (answerFeature's validator reads them). */
  awaiting: OpenRequest[];
  /** Notifications (--notify-url): announced requests, counts, the last failure. Carried. */
  notify: NotifyState;
  /** Worktree isolation: the merge queue has work (a coding agent passed; at start, what an earlier run left merging). */
  mergeWanted: boolean;
};

/** The key this run shares a usage limit on (the client fills in the default). */
export const quotaKeyOf = (input: ProjectRunSettings): string => input.quotaKey ?? 'claude-default';

export function createRunState(input: ProjectRunSettings, workflowId: string): RunState {
  const carried = input.carried;
  return {
    input,
    workflowId,
    startedAt: carried?.startedAt ?? new Date().toISOString(),
    phase: 'running',
    outcome: null,
    concurrency: carried?.concurrency ?? input.concurrency,
    testingRatio: carried?.testingRatio ?? input.testingRatio,
    batchSize: carried?.batchSize ?? input.batchSize,
    testingBatchSize: carried?.testingBatchSize ?? input.testingBatchSize,
    recentlyTested: [...(carried?.recentlyTested ?? [])],
    pause: carried?.pause ?? null,
    draining: carried?.draining ?? false,
    stopRequested: false,
    inbox: { reports: [], stopFeature: [], retryFeature: [] },
    woken: true,
    due: new Set(['start']),
    running: new Map((carried?.running ?? []).map((a) => [a.workflowId, a])),
    failures: new Map((carried?.failures ?? []).map((f) => [f.featureId, f])),
    held: new Set(carried?.held ?? []),
    handoffs: [...(carried?.handoffs ?? [])],
    resumeLeft: 0,
    counts: {
      total: 0,
      passing: 0,
      running: 0,
      pending: 0,
      blocked: 0,
      failed: 0,
      merging: 0,
      needs_human_input: 0,
    },
    blocked: [],
    lastPassAt: 0,
    passes: 0,
    agentsStarted: carried?.agentsStarted ?? 0,
    continuedAsNew: carried?.continuedAsNew ?? 0,
    budgets: {
      runUsd: carried?.budgets ? (carried.budgets.runUsd ?? null) : (input.budgetUsd ?? null),
      featureUsd: carried?.budgets ? (carried.budgets.featureUsd ?? null) : (input.featureBudgetUsd ?? null),
      dailyUsd: carried?.budgets ? (carried.budgets.dailyUsd ?? null) : (input.dailyBudgetUsd ?? null),
    },
    spend: { runUsd: 0, todayUsd: 0, tokens: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 } },
    budgetHeld: [],
    retryFirst: [...(carried?.retryFirst ?? [])],
    quotaReports: [],
    quotaWarning: null,
    budgetTimerFor: null,
    awaiting: [],
    notify: carried?.notify ?? { announced: [], sent: 0, failed: 0, lastError: null, pauseNotified: false },
    mergeWanted: input.isolation?.mode === 'worktree',
  };
}

export const budgetsOf = (s: RunState): ProjectRunStatus['budgets'] => ({ ...s.budgets, onBudget: s.input.onBudget });

/**
 * The batch sizes a scheduling pass gets, only those above 1 (a run without batches asks as it
 * always did), with the testing batches' memory.
 */
export const batchSizesOf = (
  s: RunState,
): Pick<ScheduleInput, 'batchSize' | 'testingBatchSize' | 'recentlyTested'> => ({
  ...(s.batchSize > 1 ? { batchSize: s.batchSize } : {}),
  ...(s.testingBatchSize > 1 ? { testingBatchSize: s.testingBatchSize, recentlyTested: [...s.recentlyTested] } : {}),
});

export function wake(s: RunState, reason: WakeReason): void {
  s.woken = true;
  s.due.add(reason);
}

export function settingsOf(s: RunState): ProjectRunStatus['settings'] {
  const { yolo, agent, maxRetries, agentSafety, isolation } = s.input;
  return {
    concurrency: s.concurrency,
    testingRatio: s.testingRatio,
    batchSize: s.batchSize,
    testingBatchSize: s.testingBatchSize,
    maxAgents: maxAgentsOf(s.input),
    yolo,
    agent,
    maxRetries,
    agentPolicy: agentSafety.policy,
    agentSafety: { allowHosts: agentSafety.allowHosts, maxTurns: agentSafety.maxTurns, env: agentSafety.env },
    isolation: isolation?.mode ?? 'shared',
    homeHost: s.input.homeHost ?? null,
    ...(isolation?.mode === 'worktree'
      ? {
          worktree: {
            branch: isolation.branch,
            verifyCmd: isolation.verifyCmd ?? null,
            review: isolation.review,
            keepBranches: isolation.keepBranches,
            repo: isolation.repo ?? null,
          },
        }
      : {}),
  };
}

export function statusOf(s: RunState): ProjectRunStatus {
  return {
    project: s.input.projectId,
    phase: s.phase,
    outcome: s.outcome,
    paused: s.pause !== null,
    pause: s.pause,
    settings: settingsOf(s),
    counts: s.counts,
    running: [...s.running.values()].map((a) => ({
      ...a,
      featureIds: a.featureIds ?? (a.featureId === null ? [] : [a.featureId]),
    })),
    failures: [...s.failures.values()],
    blocked: s.blocked,
    held: [...s.held],
    startedAt: s.startedAt,
    agentsStarted: s.agentsStarted,
    continuedAsNew: s.continuedAsNew,
    spend: s.spend,
    budgets: budgetsOf(s),
    budgetHeld: s.budgetHeld,
    quotaKey: quotaKeyOf(s.input),
    quotaWarning: s.quotaWarning,
    // The dashboard's header shows it.
    costUsd: s.spend.runUsd,
    humanRequests: s.awaiting,
    ...(s.input.notifyUrl
      ? { notifications: { sent: s.notify.sent, failed: s.notify.failed, lastError: s.notify.lastError } }
      : {}),
  };
}

/** What the next run of the chain needs that it cannot read from Postgres. */
export function carriedOf(s: RunState): CarriedState {
  return {
    startedAt: s.startedAt,
    running: [...s.running.values()],
    failures: [...s.failures.values()],
    held: [...s.held],
    pause: s.pause,
    draining: s.draining,
    concurrency: s.concurrency,
    testingRatio: s.testingRatio,
    batchSize: s.batchSize,
    testingBatchSize: s.testingBatchSize,
    recentlyTested: s.recentlyTested,
    agentsStarted: s.agentsStarted,
    continuedAsNew: s.continuedAsNew + 1,
    handoffs: s.handoffs.splice(0),
    budgets: s.budgets,
    retryFirst: s.retryFirst,
    notify: s.notify,
  };
}

/** An operator request still queued: continue-as-new waits for the loop to take it. */
export const requestsPending = (s: RunState): boolean =>
  s.stopRequested || s.inbox.stopFeature.length > 0 || s.inbox.retryFeature.length > 0 || s.handoffs.length > 0;

export function installHandlers(s: RunState): void {
  const featureIdSignal = (name: string, queue: number[]) => (featureId: number) => {
    if (!schemas().featureIdArg.safeParse(featureId).success) {
      wf.log.warn(`${name} ignored: feature id must be an integer >= 1`, { featureId });
      return;
    }
    queue.push(featureId);
    wake(s, 'operator');
  };
  const operator = (apply: () => void) => () => {
    apply();
    wake(s, 'operator');
  };
  wf.setHandler(
    stopSignal,
    operator(() => (s.stopRequested = true)),
  );
  wf.setHandler(
    drainSignal,
    operator(() => (s.draining = true)),
  );
  wf.setHandler(
    pauseSignal,
    operator(() => (s.pause = { reason: 'operator' })),
  );
  wf.setHandler(
    resumeSignal,
    operator(() => (s.pause = null)),
  );
  wf.setHandler(
    refreshSignal,
    operator(() => undefined),
  );
  wf.setHandler(stopFeatureSignal, featureIdSignal('stopFeature', s.inbox.stopFeature));
  wf.setHandler(retryFeatureSignal, featureIdSignal('retryFeature', s.inbox.retryFeature));
  wf.setHandler(agentFinishedSignal, (report) => {
    const parsed = schemas().agentReport.safeParse(report);
    if (!parsed.success) {
      wf.log.warn('agentFinished ignored: malformed report', { error: describeIssues(parsed.error) });
      return;
    }
    s.inbox.reports.push(parsed.data);
    wake(s, parsed.data.moreReady === false ? 'idle-report' : 'report');
  });
  wf.setHandler(quotaSignal, (notice) => {
    const parsed = schemas().quotaNotice.safeParse(notice);
    if (!parsed.success || parsed.data.key !== quotaKeyOf(s.input)) return; // another account's limit
    const { key, until } = parsed.data;
    // An operator's pause stays; a budget pause is checked again by the pass after the quota clears.
    if (until === null) {
      if (s.pause?.reason === 'quota') s.pause = null;
    } else if (s.pause?.reason !== 'operator') s.pause = { reason: 'quota', until, key };
    wake(s, 'operator');
  });
  wf.setHandler(
    setBudgetUpdate,
    (budgets) => {
      const parsed = schemas().budgets.parse(budgets);
      for (const name of ['runUsd', 'featureUsd', 'dailyUsd'] as const)
        if (parsed[name] !== undefined) s.budgets[name] = parsed[name];
      wake(s, 'settings');
      return budgetsOf(s);
    },
    {
      validator: (budgets) => {
        const parsed = schemas().budgets.safeParse(budgets);
        if (!parsed.success) throw new RangeError(`setBudget: ${describeIssues(parsed.error)}`);
        if (Object.keys(parsed.data).length === 0)
          throw new RangeError('setBudget: give at least one of runUsd, featureUsd, dailyUsd');
      },
    },
  );
  wf.setHandler(statusQuery, () => statusOf(s));
  wf.setHandler(
    setConcurrencyUpdate,
    (n) => {
      s.concurrency = n;
      wake(s, 'settings');
      return settingsOf(s);
    },
    {
      validator: (n) =>
        checkRange(
          'concurrency',
          n,
          limits.concurrency.min,
          s.input.maxConcurrency,
          `this run's maxConcurrency is ${s.input.maxConcurrency}; a run started with \`run --max-concurrency N\` (up to ${limits.maxConcurrency.max}) accepts more`,
        ),
    },
  );
  wf.setHandler(
    setTestingRatioUpdate,
    (n) => {
      s.testingRatio = n;
      wake(s, 'settings');
      return settingsOf(s);
    },
    { validator: (n) => checkRange('testingRatio', n, limits.testingRatio.min, limits.testingRatio.max) },
  );
  const batchSetting = (
    update: typeof setBatchSizeUpdate,
    name: 'batchSize' | 'testingBatchSize',
    arg: () => ReturnType<typeof schemas>['batchSizeArg'],
  ) =>
    wf.setHandler(
      update,
      (n) => {
        s[name] = n;
        wake(s, 'settings');
        return settingsOf(s);
      },
      {
        validator: (n) => {
          const parsed = arg().safeParse(n);
          if (!parsed.success) {
            const { min, max } = limits[name];
            throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(n)}`);
          }
        },
      },
    );
  batchSetting(setBatchSizeUpdate, 'batchSize', () => schemas().batchSizeArg);
  batchSetting(setTestingBatchSizeUpdate, 'testingBatchSize', () => schemas().testingBatchSizeArg);
}
