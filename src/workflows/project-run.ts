/**
 * projectRun: the scheduling loop of one project, as a durable workflow (DESIGN.md §2-3).
 *
 * The loop sleeps until something wakes it (run-inbox.ts): agent completion (agentFinished),
 * operator signals and updates, the poll timer. Each pass settles reports, starts the claims
 * agents handed over (slots.ts), applies operator requests, and asks the feature store (one local
 * activity) to claim as many features as there are free slots, in the original's order. Every claim becomes an agentRun child whose workflow ID is the
 * claim owner. Children are ABANDONed so they outlive continue-as-new; they report by signal.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { Claim, RunActivities } from '../activities/types.ts';
import {
  failureTypes,
  describeIssues,
  schemas,
  type AgentReport,
  type BlockedFeature,
  type CarriedState,
  type FeatureCounts,
  type FeatureFailure,
  type RunOutcome,
  type RunPhase,
  type ProjectRunInput,
  type ProjectRunResult,
  type ProjectRunSettings,
  type ProjectRunStatus,
  type RunningAgent,
} from './messages.ts';
import { RunInbox } from './run-inbox.ts';
import { agentRunId } from './run-ids.ts';
import { freeSlots, sortHandoffs } from './slots.ts';
import { startAgentRun } from './start-agent.ts';

const INITIALIZER_TIMEOUT_MS = 30 * 60_000;
const CODING_TIMEOUT_MS = 6 * 60 * 60_000;

// Local activities: a scheduling pass runs inside the workflow task that decided it, which saves
// two task round trips per pass (the dependency-to-start latency is mostly round trips). A claim
// repeated after a worker crash is safe: the next pass frees claims this run does not track.
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
  return new ProjectRun(parsed.data).run();
}

class ProjectRun extends RunInbox {
  private readonly workflowId = wf.workflowInfo().workflowId;
  private phase: RunPhase = 'running';
  private outcome: RunOutcome | null = null;
  private readonly running = new Map<string, RunningAgent>();
  private readonly failures = new Map<number, FeatureFailure>();
  /** Features stopped by an operator: not scheduled again until retryFeature. */
  private readonly held = new Set<number>();
  /** Agent runs a poll found closed without a report (yet). */
  private readonly suspects = new Set<string>();
  private readonly handoffs: Claim[] = [];
  private resumeFirst: number[] = [];
  /** Stranded features the last pass could not resume yet: agents claim nothing for us meanwhile. */
  private resumeLeft = 0;
  private counts: FeatureCounts = { total: 0, passing: 0, running: 0, pending: 0, blocked: 0, failed: 0 };
  private blocked: BlockedFeature[] = [];
  private lastPassAt = 0;
  private patches = { waitWithIdlePass: false, goneOnTwoPolls: false, handoffPastUnreportedAttempt: false };
  private agentsStarted = 0;
  private continuedAsNew = 0;
  /** Scheduling passes of this run (not carried): the continueAsNewAfterPasses knob counts them. */
  private passes = 0;
  private readonly startedAt: string;

  constructor(input: ProjectRunSettings) {
    super(input);
    const carried = input.carried;
    this.startedAt = carried?.startedAt ?? new Date().toISOString();
    if (carried) {
      for (const agent of carried.running) this.running.set(agent.workflowId, agent);
      for (const failure of carried.failures) this.failures.set(failure.featureId, failure);
      for (const id of carried.held) this.held.add(id);
      this.agentsStarted = carried.agentsStarted;
      this.continuedAsNew = carried.continuedAsNew;
      this.handoffs.push(...(carried.handoffs ?? []));
    }
  }

  async run(): Promise<ProjectRunResult> {
    // Patches from session 3 on are asked for once, first thing: asked for right after a local
    // activity, a patch did not replay when the task had been split there (seen after prepareRun).
    const freeRunningPoll = wf.patched('free-running-poll');
    this.patches = {
      waitWithIdlePass: wf.patched('wait-with-idle-pass'),
      goneOnTwoPolls: wf.patched('gone-on-two-polls'),
      handoffPastUnreportedAttempt: wf.patched('handoff-past-unreported-attempt'),
    };
    if (!this.input.carried) {
      const done = await this.prepare();
      if (done) return done;
    }
    this.phase = this.draining ? 'draining' : 'running';
    // One poll timer for the whole run, not one started and cancelled by every pass (two events
    // and two server timer tasks per pass, that is per agent that ends).
    if (freeRunningPoll) void this.pollForever().catch(() => undefined); // cancelled with the run
    for (;;) {
      if (freeRunningPoll) await wf.condition(() => this.woken);
      else this.polled = !(await wf.condition(() => this.woken, this.input.pollIntervalMs));
      this.woken = false;
      this.passes++;
      this.settleReports();
      if (this.handoffs.length) await this.takeHandoffs();
      if (this.stopRequested) return this.stopAll();
      this.applyOperatorRequests();
      if (this.retryRequests.length) await this.applyRetries();
      if (this.draining) {
        this.phase = 'draining';
        if (this.running.size === 0)
          return this.finish('drained', 'drained: running agents finished, nothing new started');
        continue;
      }
      if (!this.paused && !this.passCanWait()) {
        const finished = await this.fill();
        if (finished) return finished;
      }
      if (this.shouldContinueAsNew()) await this.continueAsNew();
    }
  }

  private slots(): ReturnType<typeof freeSlots> {
    return freeSlots([...this.running.values()], {
      concurrency: this.concurrency,
      testingRatio: this.testingRatio,
      maxAgents: this.input.maxAgents,
      yolo: this.input.yolo,
    });
  }

  /**
   * Woken only by reports whose agents found nothing else ready (AgentReport.moreReady), a pass
   * would claim nothing: it waits, up to a second while agents run (it also refreshes the counts
   * that status shows). Saves a local activity and a database round trip per agent on a chain.
   */
  private passCanWait(): boolean {
    const { coding, testingSlots } = this.slots();
    const idle =
      !this.passDue && this.resumeLeft === 0 && coding > 0 && testingSlots === 0 && Date.now() - this.lastPassAt < 1000;
    return idle && this.patches.waitWithIdlePass;
  }

  /**
   * When the server suggests it (or the test knob says so), but never with an operator request
   * still queued: a stop, stopFeature or retryFeature that arrived during this pass's activities
   * is not part of the carried state, so it waits for the next pass (which comes at once).
   */
  private shouldContinueAsNew(): boolean {
    const knob = this.input.continueAsNewAfterPasses;
    const due = wf.workflowInfo().continueAsNewSuggested || (knob !== undefined && this.passes >= knob);
    return due && !this.requestsPending();
  }

  private requestsPending(): boolean {
    return (
      this.stopRequested ||
      this.stopFeatureRequests.length > 0 ||
      this.retryRequests.length > 0 ||
      this.handoffs.length > 0
    );
  }

  /** First run of a chain: initializer when there are no features, then adopt or resume. */
  private async prepare(): Promise<ProjectRunResult | null> {
    let prepared = await activities.prepareRun({ projectId: this.input.projectId, maxRetries: this.input.maxRetries });
    if (prepared.featureCount === 0) {
      this.phase = 'initializing';
      const report = await this.runInitializer();
      // Stopped while the initializer ran: kill it like any agent and end 'stopped'.
      if (!report) return this.stopAll();
      prepared = await activities.prepareRun({ projectId: this.input.projectId, maxRetries: this.input.maxRetries });
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
    this.phase = 'resuming';
    for (const agent of prepared.adopt) this.running.set(agent.workflowId, agent);
    this.resumeFirst = prepared.resume;
    return null;
  }

  private async runInitializer(): Promise<AgentReport | null> {
    // The run ID's random tail tells initializer runs of successive project runs apart.
    const workflowId = agentRunId({
      projectId: this.input.projectId,
      kind: 'initializer',
      tail: wf.workflowInfo().runId.slice(-12),
    });
    const claim: Claim = {
      featureId: 0,
      featureName: 'write the feature list',
      attempt: 1,
      workflowId,
      kind: 'initializer',
    };
    await this.startAgent(claim, INITIALIZER_TIMEOUT_MS);
    await wf.condition(() => this.reports.some((r) => r.workflowId === workflowId) || this.stopRequested);
    const report = this.reports.find((r) => r.workflowId === workflowId) ?? null;
    if (report) this.settleReports();
    return report;
  }

  private settleReports(): void {
    for (const report of this.reports.splice(0)) {
      this.handoffs.push(...(report.next ?? []));
      // A second report of one run (its activity reported, then its workflow, after a retry) or
      // one of a run this run never tracked: nothing left to settle.
      if (!this.running.has(report.workflowId) && wf.patched('ignore-untracked-reports')) continue;
      this.running.delete(report.workflowId);
      this.suspects.delete(report.workflowId);
      if (report.kind !== 'coding' || report.featureId === null) continue;
      if (report.featurePasses) this.failures.delete(report.featureId);
      else if (report.outcome !== 'stopped') {
        this.failures.set(report.featureId, {
          featureId: report.featureId,
          count: report.failureCount,
          lastError: report.error,
        });
      }
    }
  }

  private applyOperatorRequests(): void {
    for (const featureId of this.stopFeatureRequests.splice(0)) {
      this.held.add(featureId);
      for (const agent of this.running.values()) {
        if (agent.featureId === featureId && agent.kind !== 'initializer') this.cancelAgent(agent);
      }
    }
  }

  private async applyRetries(): Promise<void> {
    for (const featureId of this.retryRequests.splice(0)) {
      this.held.delete(featureId);
      this.failures.delete(featureId);
      await activities.resetFeatureFailures({ projectId: this.input.projectId, featureId });
    }
  }

  /** One scheduling pass; returns the result when the run is over. */
  private async fill(): Promise<ProjectRunResult | null> {
    const { coding, codingSlots, testingSlots } = this.slots();
    // On a poll pass the store also checks that the agent runs this run counts are still alive
    // (one terminated from the UI never reports back), even when every slot is taken.
    const verifyKnown = this.polled && this.running.size > 0 && wf.patched('verify-agent-runs-on-poll');
    this.polled = false;
    if (codingSlots === 0 && testingSlots === 0 && coding > 0 && !verifyKnown) return null;
    this.passDue = false;
    this.lastPassAt = Date.now();

    const result = await activities.schedule({
      projectId: this.input.projectId,
      maxRetries: this.input.maxRetries,
      codingSlots,
      testingSlots,
      codingRunning: coding,
      known: [...this.running.keys()],
      exclude: [...this.held],
      resumeFirst: this.resumeFirst,
      analyseBlocked: coding === 0,
      ...(verifyKnown ? { verifyKnown } : {}),
    });
    this.resumeFirst = [];
    for (const agent of result.adopt) this.running.set(agent.workflowId, agent);
    for (const workflowId of result.gone ?? []) {
      // Ended without a report (terminated, or failed outside our code): its slot is free, and
      // the claim it left is resumed by the next pass like any stranded one. One that ended a
      // moment ago may have its report on the way: only the next poll that finds it gone too frees it.
      if (this.reports.some((r) => r.workflowId === workflowId)) continue;
      if (!this.suspects.has(workflowId) && this.patches.goneOnTwoPolls) {
        this.suspects.add(workflowId);
        continue;
      }
      wf.log.warn('agent run ended without reporting; freeing its slot', { workflowId });
      this.running.delete(workflowId);
      this.suspects.delete(workflowId);
      this.woken = true;
    }
    this.counts = result.counts;
    this.blocked = result.blocked;
    this.resumeLeft = result.resumeLeft ?? 0;
    await Promise.all(result.claims.map((claim) => this.startAgent(claim, CODING_TIMEOUT_MS)));
    if (this.phase === 'resuming') this.phase = 'running';

    if (result.finished) {
      // Nothing codes and nothing can: let testers finish, then end with what is left.
      this.phase = 'done';
      await wf.condition(() => {
        this.settleReports();
        return this.running.size === 0 || this.stopRequested;
      });
      if (this.stopRequested) return this.stopAll();
      return this.finish(result.finished.outcome, result.finished.message);
    }
    return null;
  }

  private async startAgent(claim: Claim, timeoutMs: number): Promise<void> {
    const featureId = claim.kind === 'initializer' ? null : claim.featureId;
    this.running.set(claim.workflowId, {
      workflowId: claim.workflowId,
      kind: claim.kind,
      featureId,
      featureName: claim.featureName,
      startedAt: new Date().toISOString(),
    });
    this.agentsStarted++;
    // A coding agent claims the next feature for this run as it ends (see takeHandoffs), unless
    // stranded features wait to be resumed first: only a scheduling pass knows them.
    const handsOff = claim.kind === 'coding' && this.resumeLeft === 0 && wf.patched('claim-next-on-exit');
    const claimNext = handsOff ? { maxRetries: this.input.maxRetries, exclude: [...this.held] } : undefined;
    await startAgentRun(this.input, claim, { parentWorkflowId: this.workflowId, timeoutMs, claimNext });
  }

  /** Claims that finished agents made for this run (AgentSpec.claimNext): start or release each. */
  private async takeHandoffs(): Promise<void> {
    const { start, release } = sortHandoffs(this.handoffs.splice(0), [...this.running.values()], {
      open: !this.stopRequested && !this.draining && !this.paused,
      held: this.held,
      concurrency: this.concurrency,
      maxAgents: this.input.maxAgents,
      supersedeUnreported: this.patches.handoffPastUnreportedAttempt,
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
    this.phase = 'stopping';
    for (const agent of this.running.values()) this.cancelAgent(agent);
    await wf.condition(() => {
      this.settleReports();
      return this.running.size === 0;
    });
    return this.finish('stopped', 'stopped by operator: every agent tree killed, every claim released');
  }

  private async finish(outcome: RunOutcome, message: string): Promise<ProjectRunResult> {
    this.phase = 'done';
    this.outcome = outcome;
    if (this.handoffs.length)
      await activities.releaseClaims({ projectId: this.input.projectId, claims: this.handoffs.splice(0) });
    if (outcome !== 'failed' || this.counts.total > 0) {
      const final = await activities.schedule({
        projectId: this.input.projectId,
        maxRetries: this.input.maxRetries,
        codingSlots: 0,
        testingSlots: 0,
        codingRunning: 0,
        known: [...this.running.keys()],
        exclude: [...this.held],
        resumeFirst: [],
        analyseBlocked: outcome === 'blocked',
      });
      this.counts = final.counts;
      if (outcome === 'blocked') this.blocked = final.blocked;
    }
    await wf.condition(wf.allHandlersFinished);
    return {
      outcome,
      message,
      counts: this.counts,
      durationMs: Date.now() - Date.parse(this.startedAt),
      blocked: this.blocked,
      failures: [...this.failures.values()],
      agentsStarted: this.agentsStarted,
    };
  }

  /** Continues as new, unless a request arrived meanwhile: then the loop takes it first. */
  private async continueAsNew(): Promise<void> {
    // Decide in a workflow task of its own, started by a timer. When a signal arrives while the
    // continue-as-new task completes, the server rejects it and the task is replayed with the
    // signal; but a local activity result recorded by an earlier (heartbeat) task replays in that
    // earlier task, so the run could decide again before the signal, and lose it (a stop, seen
    // under load). A timer's firing is never replayed early.
    if (wf.patched('continue-as-new-after-timer')) await wf.sleep(1);
    await wf.condition(wf.allHandlersFinished);
    if (this.requestsPending()) return;
    this.settleReports();
    // Claims handed over by agents that ended meanwhile go with the run, which starts them first.
    const handoffs =
      this.handoffs.length > 0 && wf.patched('carry-handoffs') ? { handoffs: this.handoffs.splice(0) } : {};
    const carried: CarriedState = {
      ...handoffs,
      startedAt: this.startedAt,
      running: [...this.running.values()],
      failures: [...this.failures.values()],
      held: [...this.held],
      paused: this.paused,
      draining: this.draining,
      concurrency: this.concurrency,
      testingRatio: this.testingRatio,
      agentsStarted: this.agentsStarted,
      continuedAsNew: this.continuedAsNew + 1,
    };
    // A signal that arrives while this task completes makes the server reject the
    // continue-as-new and replay the task with it, so no agentFinished report is lost.
    await wf.continueAsNew<typeof projectRun>({ ...this.input, carried });
  }

  protected status(): ProjectRunStatus {
    const { phase, outcome, paused, counts, blocked, startedAt, agentsStarted, continuedAsNew } = this;
    return {
      project: this.input.projectId,
      phase,
      outcome,
      paused,
      settings: this.settings(),
      counts,
      running: [...this.running.values()],
      failures: [...this.failures.values()],
      blocked,
      held: [...this.held],
      startedAt,
      agentsStarted,
      continuedAsNew,
    };
  }
}
