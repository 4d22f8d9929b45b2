/**
 * mergeQueue: lands the features of one project, one at a time, under worktree isolation
 * (workflow ID `autocoder/<project>/merge`, started by projectRun with signal-with-start).
 *
 * Order: the order their agents finished (merging_since), never before their dependencies. For
 * each: rebase its branch onto the integration head (a conflict starts a resolver agentRun of
 * kind `merge` in the worktree, then the rebase is looked at again), verify, wait for review if
 * asked, then fast-forward the integration branch to the verified commit, mark the feature
 * passing and remove its worktree. A failure sends the feature back to pending, counted. Every
 * step is an activity that looks at the state first, so a worker killed anywhere leaves the
 * queue to finish the step on the next worker. The database is the queue: a restarted queue
 * reads what is merging and goes on.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { createMergeActivities, FeatureRef, RebaseStep } from '../activities/merge-steps.ts';
import type { AgentSpec } from '../activities/types.ts';
import type { MergingFeature } from '../db/merging.ts';
import { agentRun } from './agent-run.ts';
import {
  approveFeatureUpdate,
  mergeSchemas,
  mergeStatusQuery,
  mergeWakeSignal,
  rejectFeatureUpdate,
  type MergeQueueInput,
  type MergeQueueSettings,
  type MergeQueueStatus,
} from './merge-messages.ts';
import { agentFinishedSignal, describeIssues } from './messages.ts';
import { agentRunId, hostQueueOf } from './run-ids.ts';
import { searchAttributes } from './search-attributes.ts';
import { failureTypes, type MergeStep } from './vocabulary.ts';

type MergeActivities = ReturnType<typeof createMergeActivities>;

// The git steps run where the project dir is: on the run's home host's queue when it has one.
const gitSteps = (homeHost: string | undefined) =>
  wf.proxyActivities<MergeActivities>({
    ...(homeHost ? { taskQueue: hostQueueOf(wf.workflowInfo().taskQueue, homeHost) } : {}),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '500ms', maximumInterval: '10s' },
  });
// A read of the feature store: local, so picking the next feature costs no task round trip.
const store = wf.proxyLocalActivities<MergeActivities>({
  startToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '200ms', maximumInterval: '10s' },
});

type Decision = { kind: 'approved' } | { kind: 'rejected'; reason: string };

export async function mergeQueue(rawInput: MergeQueueInput): Promise<void> {
  const parsed = mergeSchemas().mergeQueueInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: failureTypes.invalidInput,
      nonRetryable: true,
      message: `invalid mergeQueue input: ${describeIssues(parsed.error)}`,
    });
  }
  await new MergeQueue(parsed.data).run();
}

class MergeQueue {
  private readonly input: MergeQueueSettings;
  private readonly git: MergeActivities;
  private woken = true;
  private current: { featureId: number; step: MergeStep } | null = null;
  private waiting: number[] = [];
  private landed = 0;
  private sentBack = 0;
  private decision: Decision | null = null;

  constructor(input: MergeQueueSettings) {
    this.input = input;
    this.git = gitSteps(input.homeHost);
    wf.setHandler(mergeWakeSignal, () => {
      this.woken = true;
    });
    // Resolver runs report to their parent as every agent run does; the queue awaits them instead.
    wf.setHandler(agentFinishedSignal, () => undefined);
    wf.setHandler(mergeStatusQuery, (): MergeQueueStatus => this.status());
    wf.setHandler(
      approveFeatureUpdate,
      (featureId) => {
        this.decision = { kind: 'approved' };
        return { featureId, decision: 'approved' as const };
      },
      { validator: (featureId) => this.mustBeInReview(featureId) },
    );
    wf.setHandler(
      rejectFeatureUpdate,
      (featureId, reason) => {
        this.decision = { kind: 'rejected', reason };
        return { featureId, decision: 'rejected' as const };
      },
      {
        validator: (featureId, reason) => {
          this.mustBeInReview(featureId);
          if (typeof reason !== 'string' || reason.trim() === '') throw new TypeError('reject needs a reason');
        },
      },
    );
  }

  private status(): MergeQueueStatus {
    const current = this.current;
    return {
      project: this.input.projectId,
      current,
      waiting: this.waiting.filter((id) => id !== current?.featureId),
      landed: this.landed,
      sentBack: this.sentBack,
    };
  }

  private mustBeInReview(featureId: number): void {
    const c = this.current;
    if (!c || c.featureId !== featureId || c.step !== 'reviewing') {
      const now = c ? `#${c.featureId} is ${c.step}` : 'nothing is in review';
      throw new RangeError(`feature #${featureId} is not waiting for review (${now}); see \`autocoder status\``);
    }
  }

  async run(): Promise<void> {
    const { projectId } = this.input;
    for (;;) {
      this.woken = false;
      const next = await store.nextMerge({ projectId });
      this.waiting = next.waiting;
      if (next.feature) {
        await this.land(next.feature);
        this.current = null;
        const knob = this.input.continueAsNewAfter;
        if (wf.workflowInfo().continueAsNewSuggested || (knob !== undefined && this.landed >= knob)) {
          await wf.condition(wf.allHandlersFinished);
          await wf.continueAsNew<typeof mergeQueue>(this.input);
        }
        continue;
      }
      // Nothing to land now: wait for a wake; an idle queue with nothing merging ends (the next
      // signal-with-start begins a new one), one waiting on dependencies keeps waiting.
      const woken = await wf.condition(() => this.woken, this.input.idleMs);
      if (!woken && this.waiting.length === 0) {
        await wf.condition(wf.allHandlersFinished);
        return;
      }
    }
  }

  private ref(f: MergingFeature): FeatureRef {
    const { projectId, projectDir, isolation, homeHost } = this.input;
    // A batch's entry: its first feature's branch, and the features whose work is on it.
    const members = f.members && (f.members.length !== 1 || f.members[0] !== f.id) ? { members: f.members } : {};
    const home = homeHost ? { homeHost } : {};
    return {
      projectId,
      projectDir,
      branch: isolation.branch,
      featureId: f.id,
      featureName: f.name,
      ...members,
      ...home,
    };
  }

  private async land(f: MergingFeature): Promise<void> {
    const ref = this.ref(f);
    for (;;) {
      this.current = { featureId: f.id, step: 'rebasing' };
      let rebased = await this.git.rebaseFeature(ref);
      if (rebased.state === 'lost') {
        // Its host went away before it published the work: coded again, no failure counted.
        await this.git.sendFeatureBack({
          projectId: ref.projectId,
          featureId: f.id,
          members: ref.members,
          lost: `host ${rebased.host} ended feature #${f.id}'s attempt without publishing its branch; it runs again`,
        });
        this.sentBack++;
        return;
      }
      if (rebased.state === 'missing') {
        // Nothing of it in git: what it passed is already in the integration branch.
        this.current.step = 'landing';
        await this.git.landFeature({ ...ref, head: await this.git.integrationHead(ref), keepBranches: true });
        this.landed++;
        return;
      }
      if (rebased.state === 'conflict') {
        this.current.step = 'resolving';
        await this.resolve(f, rebased);
        rebased = await this.git.rebaseFeature(ref);
        if (rebased.state !== 'rebased') {
          const files = rebased.state === 'conflict' ? rebased.files.join(', ') : '';
          return this.sendBack(
            f,
            'merge_conflict',
            `conflicts the resolver left: ${files}\n${conflictOutput(rebased)}`,
          );
        }
      }
      const { verifyCmd, verifyTimeoutMs, review, keepBranches } = this.input.isolation;
      if (verifyCmd) {
        this.current.step = 'verifying';
        const verified = await this.git.verifyFeature({
          path: rebased.path,
          argv: verifyCmd,
          timeoutMs: verifyTimeoutMs,
        });
        if (!verified.ok) return this.sendBack(f, 'verify_failed', verified.outputTail);
      }
      if (review) {
        this.current.step = 'reviewing';
        this.decision = null;
        await wf.condition(() => this.decision !== null);
        const decision = this.decision as Decision | null;
        if (decision?.kind === 'rejected') {
          await this.git.sendFeatureBack({
            projectId: ref.projectId,
            featureId: f.id,
            members: ref.members,
            rejected: decision.reason,
          });
          this.sentBack++;
          return;
        }
      }
      this.current.step = 'landing';
      const result = await this.git.landFeature({ ...ref, head: rebased.head, keepBranches });
      if (result.state === 'landed') {
        this.landed++;
        return;
      }
      // The integration branch moved under us (a person committed to it): rebase and verify again.
    }
  }

  private async sendBack(f: MergingFeature, failure: 'merge_conflict' | 'verify_failed', tail: string): Promise<void> {
    await this.git.sendFeatureBack({
      projectId: this.input.projectId,
      featureId: f.id,
      members: this.ref(f).members,
      failure,
      outputTail: tail.slice(-4000),
    });
    this.sentBack++;
  }

  /** A resolver agent (kind `merge`) in the conflicted worktree, supervised like any agent run. */
  private async resolve(f: MergingFeature, conflict: Extract<RebaseStep, { state: 'conflict' }>): Promise<void> {
    const { projectId, agent } = this.input;
    const attempt = f.failureCount + 1;
    const workflowId = agentRunId({ projectId, kind: 'merge', featureId: f.id, attempt });
    const spec: AgentSpec = {
      projectId,
      projectDir: conflict.path,
      kind: 'merge',
      featureId: f.id,
      featureName: f.name,
      attempt,
      adapter: agent.adapter,
      agentCmd: agent.agentCmd,
      model: agent.model,
      yolo: agent.yolo,
      simulate: agent.simulate,
      timeoutMs: agent.timeoutMs,
      safety: agent.safety,
      ...(this.input.homeHost ? { homeHost: this.input.homeHost } : {}),
    };
    try {
      await wf.executeChild(agentRun, {
        workflowId,
        args: [{ parentWorkflowId: wf.workflowInfo().workflowId, spec }],
        staticSummary: `merge #${f.id} ${f.name}`.slice(0, 200),
        typedSearchAttributes: [
          { key: searchAttributes.project, value: projectId },
          { key: searchAttributes.kind, value: 'merge' },
          { key: searchAttributes.feature, value: f.id },
        ],
      });
    } catch (err) {
      // A resolver that failed, crashed or timed out: the rebase is looked at all the same.
      wf.log.info('resolver did not pass', { workflowId, error: String(err) });
    }
  }
}

function conflictOutput(step: RebaseStep): string {
  return step.state === 'conflict' ? step.output : '';
}
