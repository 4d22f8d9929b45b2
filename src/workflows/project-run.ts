/**
 * projectRun: the scheduling loop of one project, as a durable workflow (DESIGN.md §2-3,
 * docs/architecture.md).
 *
 * The loop sleeps until something wakes it (run-state.ts: agent reports, operator signals and
 * updates, the poll timer). Each pass settles reports, starts the claims agents handed over
 * (slots.ts), applies operator requests, and asks the feature store (one local activity) to claim
 * as many features as there are free slots, in the original's order. Every claim becomes an
 * agentRun child whose workflow ID is the claim owner. Children are ABANDONed so they outlive
 * continue-as-new; they report by signal.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { Claim, RunActivities } from '../activities/types.ts';
import {
  describeIssues,
  failureTypes,
  schemas,
  type AgentReport,
  type ProjectRunInput,
  type ProjectRunResult,
  type ProjectRunSettings,
  type RunningAgent,
} from './messages.ts';
import { installHumanHandlers } from './human-loop.ts';
import { Notifier } from './notifications.ts';
import { agentRunId } from './run-ids.ts';
import {
  batchSizesOf,
  carriedOf,
  createRunState,
  installHandlers,
  requestsPending,
  wake,
  type RunState,
} from './run-state.ts';
import { freeSlots, sortHandoffs } from './slots.ts';
import { applyBudget, joinQuotaPause, reportQuota } from './run-spend.ts';
import { wakeMergeQueue } from './run-merge.ts';
import { settleReports } from './run-reports.ts';
import { startAgentRun } from './start-agent.ts';
import type { RunOutcome } from './vocabulary.ts';

const INITIALIZER_TIMEOUT_MS = 30 * 60_000;
const CODING_TIMEOUT_MS = 6 * 60 * 60_000;
/** A pass woken only by agents that found nothing else ready waits this long after the last one. */
const IDLE_PASS_WAIT_MS = 1000;

// Local activities: a scheduling pass runs inside the workflow task that decided it, which saves
// two task round trips per pass (the dependency-to-start latency is mostly round trips). A claim
// repeated after a worker crash is safe: the next pass starts a claim nobody started by its ID.
const activities = wf.proxyLocalActivities<RunActivities>({
  startToCloseTimeout: '2 minutes',
  localRetryThreshold: '10 seconds',
  // Postgres or a worker being down is retried with backoff, indefinitely: it never costs a
  // feature an attempt. Only bad input is final.
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [failureTypes.invalidInput],
  },
});

export async function projectRun(rawInput: ProjectRunInput): Promise<ProjectRunResult> {
  const parsed = schemas().projectRunInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: failureTypes.invalidInput,
      nonRetryable: true,
      message: `invalid projectRun input: ${describeIssues(parsed.error)}`,
    });
  }
  const state = createRunState(parsed.data, wf.workflowInfo().workflowId);
  installHandlers(state);
  installHumanHandlers(state);
  return new ProjectRun(state).run();
}

class ProjectRun {
  private readonly s: RunState;
  private readonly notifier: Notifier;

  constructor(state: RunState) {
    this.s = state;
    this.notifier = new Notifier(state.input, state.notify, (id) => state.awaiting.some((r) => r.requestId === id));
  }

  private get input(): ProjectRunSettings {
    return this.s.input;
  }

  async run(): Promise<ProjectRunResult> {
    const { s } = this;
    if (!this.input.carried) {
      const done = await this.prepare();
      if (done) return done;
      await joinQuotaPause(s, activities);
    }
    if (s.draining) s.phase = 'draining';
    // One poll timer for the whole run, not one started and cancelled by every pass (two events
    // and two server timer tasks per pass, that is per agent that ends).
    void this.pollForever().catch(() => undefined); // cancelled with the run
    for (;;) {
      await wf.condition(() => s.woken);
      s.woken = false;
      s.passes++;
      settleReports(this.s);
      if (s.quotaReports.length) await reportQuota(s, activities);
      if (s.mergeWanted) await wakeMergeQueue(s, activities);
      if (s.handoffs.length) await this.takeHandoffs();
      if (s.stopRequested) return this.stopAll();
      this.applyStopFeatures();
      if (s.inbox.retryFeature.length) await this.applyRetries();
      this.notifier.pause(s.pause?.reason ?? null);
      if (s.draining) {
        s.phase = 'draining';
        if (s.running.size === 0)
          return this.finish('drained', 'drained: running agents finished, nothing new started');
        continue;
      }
      // A budget pause is the pass's own finding: each pass checks it again (a raised budget, a new day).
      // Paused otherwise, a pass still runs, with no slot: it settles, counts and reads the spend.
      const dispatching = !s.pause || s.pause.reason === 'budget';
      if (!dispatching || !this.passCanWait()) {
        const finished = await this.fill(!dispatching);
        if (finished) return finished;
      }
      if (this.shouldContinueAsNew()) await this.continueAsNew();
    }
  }

  private async pollForever(): Promise<void> {
    for (;;) {
      // Waiting for a person: no agent to check on, so no timer either (an answer wakes the loop).
      await wf.condition(() => this.s.phase !== 'waiting_for_human');
      await wf.sleep(this.input.pollIntervalMs);
      wake(this.s, 'poll');
    }
  }

  private slots(): ReturnType<typeof freeSlots> {
    const { concurrency, testingRatio } = this.s;
    const { maxAgents, yolo } = this.input;
    return freeSlots([...this.s.running.values()], { concurrency, testingRatio, maxAgents, yolo });
  }

  /**
   * Woken only by reports whose agents found nothing else ready (AgentReport.moreReady), a pass
   * would claim nothing: it waits, up to a second while agents run (it also refreshes the counts
   * that status shows). Saves a local activity and a database round trip per agent on a chain.
   */
  private passCanWait(): boolean {
    const { coding, testingSlots } = this.slots();
    const onlyIdle = [...this.s.due].every((reason) => reason === 'idle-report');
    const recent = Date.now() - this.s.lastPassAt < IDLE_PASS_WAIT_MS;
    return onlyIdle && this.s.resumeLeft === 0 && coding > 0 && testingSlots === 0 && recent;
  }

  /**
   * When the server suggests it (or the test knob says so), but never with an operator request
   * still queued: a stop, stopFeature or retryFeature that arrived during this pass's activities
   * is not part of the carried state, so it waits for the next pass (which comes at once).
   */
  private shouldContinueAsNew(): boolean {
    const knob = this.input.continueAsNewAfterPasses;
    const due = wf.workflowInfo().continueAsNewSuggested || (knob !== undefined && this.s.passes >= knob);
    return due && !requestsPending(this.s);
  }

  /** First run of a chain: the initializer when there are no features. */
  private async prepare(): Promise<ProjectRunResult | null> {
    const { projectId, maxRetries } = this.input;
    const isolation = this.input.isolation?.mode ?? 'shared';
    let prepared = await activities.prepareRun({ projectId, maxRetries, isolation });
    if (prepared.featureCount === 0) {
      this.s.phase = 'initializing';
      const report = await this.runInitializer();
      // Stopped while the initializer ran: kill it like any agent and end 'stopped'.
      if (!report) return this.stopAll();
      prepared = await activities.prepareRun({ projectId, maxRetries, isolation });
      if (prepared.featureCount === 0) {
        const reason =
          report.outcome === 'passed'
            ? 'it exited without creating any'
            : `it ended ${report.outcome}${report.error ? `: ${report.error}` : ''}`;
        return this.finish(
          'failed',
          `the initializer agent created no features (${reason}); check its log with \`autocoder logs\` and the app spec`,
        );
      }
    }
    // Agent runs an earlier run left are adopted, and stranded features resumed, by the first
    // scheduling pass: it treats every claim this run does not track alike.
    this.s.phase = 'resuming';
    return null;
  }

  private async runInitializer(): Promise<AgentReport | null> {
    // The run ID's random tail tells initializer runs of successive project runs apart.
    const tail = wf.workflowInfo().runId.slice(-12);
    const workflowId = agentRunId({ projectId: this.input.projectId, kind: 'initializer', tail });
    const claim: Claim = {
      featureId: 0,
      featureName: 'write the feature list',
      attempt: 1,
      workflowId,
      kind: 'initializer',
    };
    await this.startAgent(claim, INITIALIZER_TIMEOUT_MS);
    const reported = () => this.s.inbox.reports.find((r) => r.workflowId === workflowId);
    await wf.condition(() => reported() !== undefined || this.s.stopRequested);
    const report = reported() ?? null;
    if (report) settleReports(this.s);
    return report;
  }

  private applyStopFeatures(): void {
    for (const featureId of this.s.inbox.stopFeature.splice(0)) {
      this.s.held.add(featureId);
      for (const agent of this.s.running.values()) {
        // A batch is one agent: stopping one of its features stops it, and the others go back to
        // pending uncounted (a stop is nobody's failure).
        const holds = agent.featureId === featureId || (agent.featureIds ?? []).includes(featureId);
        if (holds && agent.kind !== 'initializer') this.cancelAgent(agent);
      }
    }
  }

  private async applyRetries(): Promise<void> {
    for (const featureId of this.s.inbox.retryFeature.splice(0)) {
      this.s.held.delete(featureId);
      this.s.failures.delete(featureId);
      await activities.resetFeatureFailures({ projectId: this.input.projectId, featureId });
    }
  }

  /** One scheduling pass; returns the result when the run is over. */
  private async fill(paused = false): Promise<ProjectRunResult | null> {
    const { s } = this;
    const free = this.slots();
    const { coding } = free;
    const { codingSlots, testingSlots } = paused ? { codingSlots: 0, testingSlots: 0 } : free;
    // On a poll pass the store also checks that the agent runs this run counts are still alive
    // (one terminated from the UI never reports back), even when every slot is taken.
    const verifyKnown = s.due.has('poll') && s.running.size > 0;
    s.due.delete('poll');
    if (codingSlots === 0 && testingSlots === 0 && coding > 0 && !verifyKnown) return null;
    s.due.clear();
    s.lastPassAt = Date.now();

    const result = await activities.schedule({
      projectId: this.input.projectId,
      maxRetries: this.input.maxRetries,
      codingSlots,
      testingSlots,
      codingRunning: coding,
      known: [...s.running.keys()],
      exclude: [...s.held],
      analyseBlocked: !paused && coding === 0,
      ...(verifyKnown ? { verifyKnown } : {}),
      budget: { runStartedAt: s.startedAt, ...s.budgets },
      ...(s.retryFirst.length ? { resumeFirst: [...s.retryFirst] } : {}),
      ...batchSizesOf(s),
    });
    if (result.recentlyTested) s.recentlyTested = result.recentlyTested;
    applyBudget(this.s, result, (agent) => this.cancelAgent(agent));
    for (const agent of result.adopt) s.running.set(agent.workflowId, agent);
    if (result.settled.length > 0) {
      // Runs that closed without reporting, settled by the store: their reports, as if they had sent them.
      s.inbox.reports.push(...result.settled);
      wake(s, 'report');
    }
    s.counts = result.counts;
    s.blocked = result.blocked;
    s.resumeLeft = result.resumeLeft;
    await Promise.all(result.claims.map((claim) => this.startAgent(claim, CODING_TIMEOUT_MS)));
    if (s.phase === 'resuming') s.phase = 'running';
    s.awaiting = result.awaiting;
    this.notifier.requests(result.awaiting);
    if (result.waitingForHuman && s.running.size === 0) s.phase = 'waiting_for_human';
    else if (s.phase === 'waiting_for_human') s.phase = 'running';

    if (result.finished) {
      // Nothing codes and nothing can: let testers finish, then end with what is left.
      s.phase = 'done';
      await wf.condition(() => {
        settleReports(this.s);
        return s.running.size === 0 || s.stopRequested;
      });
      if (s.stopRequested) return this.stopAll();
      return this.finish(result.finished.outcome, result.finished.message);
    }
    return null;
  }

  private async startAgent(claim: Claim, timeoutMs: number): Promise<void> {
    const { s } = this;
    // Both a handoff's report and a pass that found its claim unstarted may start it: once is enough.
    if (s.running.has(claim.workflowId)) return;
    const featureId = claim.kind === 'initializer' ? null : claim.featureId;
    const { workflowId, kind, featureName } = claim;
    const startedAt = new Date().toISOString();
    s.running.set(workflowId, {
      workflowId,
      kind,
      featureId,
      featureName,
      startedAt,
      ...(claim.featureIds ? { featureIds: claim.featureIds } : {}),
    });
    s.agentsStarted++;
    // A coding agent claims the next feature for this run as it ends (see takeHandoffs), unless
    // stranded features wait to be resumed first: only a scheduling pass knows them.
    const handsOff = claim.kind === 'coding' && s.resumeLeft === 0 && s.retryFirst.length === 0;
    const budget = { runStartedAt: s.startedAt, ...s.budgets };
    const { batchSize } = batchSizesOf(s);
    const claimNext = handsOff
      ? {
          maxRetries: this.input.maxRetries,
          exclude: [...s.held, ...s.budgetHeld.map((f) => f.featureId)],
          budget,
          ...(batchSize ? { batchSize } : {}),
        }
      : undefined;
    await startAgentRun(this.input, claim, { parentWorkflowId: s.workflowId, timeoutMs, claimNext, budget });
  }

  /** Claims that finished agents made for this run (AgentSpec.claimNext): start or release each. */
  private async takeHandoffs(): Promise<void> {
    const { s } = this;
    const { start, release } = sortHandoffs(s.handoffs.splice(0), [...s.running.values()], {
      open: !s.stopRequested && !s.draining && !s.pause,
      held: s.held,
      concurrency: s.concurrency,
      maxAgents: this.input.maxAgents,
    });
    // Awaiting the starts ends this workflow task with them, before the scheduling pass that
    // follows runs its local activity: the new agents do not wait for it.
    await Promise.all(start.map((claim) => this.startAgent(claim, CODING_TIMEOUT_MS)));
    if (release.length) await activities.releaseClaims({ projectId: this.input.projectId, claims: release });
  }

  private cancelAgent(agent: RunningAgent): void {
    // Cancelling the child cancels its superviseAgent activity, which kills the process tree;
    // the child then settles the claim and reports back like any other finish.
    wf.getExternalWorkflowHandle(agent.workflowId)
      .cancel()
      .catch((err: unknown) => {
        wf.log.warn('cancel of agent run failed', { workflowId: agent.workflowId, error: String(err) });
      });
  }

  private async stopAll(): Promise<ProjectRunResult> {
    const { s } = this;
    s.phase = 'stopping';
    for (const agent of s.running.values()) this.cancelAgent(agent);
    await wf.condition(() => {
      settleReports(this.s);
      return s.running.size === 0;
    });
    return this.finish('stopped', 'stopped by operator: every agent tree killed, every claim released');
  }

  private async finish(outcome: RunOutcome, message: string): Promise<ProjectRunResult> {
    const { s } = this;
    s.phase = 'done';
    s.outcome = outcome;
    const { projectId, maxRetries } = this.input;
    if (s.handoffs.length) await activities.releaseClaims({ projectId, claims: s.handoffs.splice(0) });
    if (outcome !== 'failed' || s.counts.total > 0) {
      // No slots: the pass claims nothing, gives back claims nobody started and counts what is left.
      const final = await activities.schedule({
        projectId,
        maxRetries,
        codingSlots: 0,
        testingSlots: 0,
        codingRunning: 0,
        known: [...s.running.keys()],
        exclude: [...s.held],
        analyseBlocked: outcome === 'blocked',
        ending: true,
      });
      s.counts = final.counts;
      if (outcome === 'blocked') s.blocked = final.blocked;
    }
    await this.notifier.ended(outcome, message);
    await wf.condition(wf.allHandlersFinished);
    return {
      outcome,
      message,
      counts: s.counts,
      durationMs: Date.now() - Date.parse(s.startedAt),
      blocked: s.blocked,
      failures: [...s.failures.values()],
      agentsStarted: s.agentsStarted,
    };
  }

  /** Continues as new, unless a request arrived meanwhile: then the loop takes it first. */
  private async continueAsNew(): Promise<void> {
    // Decide in a workflow task of its own, started by a timer. When a signal arrives while the
    // continue-as-new task completes, the server rejects it and the task is replayed with the
    // signal; but a local activity result recorded by an earlier (heartbeat) task replays in that
    // earlier task, so the run could decide again before the signal, and lose it. A timer's
    // firing is never replayed early.
    await wf.sleep(1);
    await wf.condition(wf.allHandlersFinished);
    if (requestsPending(this.s)) return;
    settleReports(this.s);
    // Claims handed over by agents that ended meanwhile go with the run, which starts them first.
    await wf.continueAsNew<typeof projectRun>({ ...this.input, carried: carriedOf(this.s) });
  }
}
