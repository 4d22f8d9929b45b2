/**
 * The merge queue's activities (src/workflows/merge-queue.ts): each step of landing a feature,
 * safe to retry because each looks at the state first (src/git/worktrees.ts, src/db/merging.ts).
 * They heartbeat, so a worker SIGKILLed mid-step is noticed within the heartbeat timeout and the
 * step runs again on the next worker.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { markLanded, mergingFeatures, sendBack, type MergingFeature } from '../db/merging.ts';
import type { Database } from '../db/tables.ts';
import { featureBranch, featureWorktreePath } from '../git/names.ts';
import {
  abortRebase,
  branchExists,
  commitLeftovers,
  ensureFeatureWorktree,
  fastForward,
  headOf,
  rebaseOnto,
  removeWorktree,
} from '../git/worktrees.ts';
import { mergeQueueId, projectRunId } from '../workflows/run-ids.ts';
import { refreshSignal } from '../workflows/messages.ts';
import { mergeWakeSignal, type MergeQueueInput } from '../workflows/merge-messages.ts';
import type { MergeFailure } from '../workflows/vocabulary.ts';
import { git } from '../git/git.ts';
import { publishedBranchesOf } from '../git/host-clone.ts';
import { adoptLastAttempt } from './host-work.ts';
import { leftoverMessage } from './workspace.ts';

export type MergeStepDeps = { db: Kysely<Database>; temporal: Client; stateDir: string };

export type FeatureRef = {
  projectId: string;
  projectDir: string;
  branch: string;
  featureId: number;
  featureName: string;
  /** The merging features whose work is on this feature's branch, in dependency order (absent: just featureId). */
  members?: number[] | undefined;
  /** The run's home host (this one): a feature coded on another host is adopted from its published branch. */
  homeHost?: string | undefined;
};
export type RebaseStep =
  | { state: 'rebased'; head: string; path: string }
  | { state: 'conflict'; files: string[]; output: string; path: string }
  | { state: 'missing' }
  /** Its last attempt ran on another host, which ended without publishing the branch. */
  | { state: 'lost'; host: string };
export type VerifyStep = { ok: boolean; outputTail: string };

const TAIL = 4000;
const QUEUE_ACTOR = 'merge-queue';

/** Heartbeats every 2 s while `work` runs (outside an activity, e.g. in tests, it just runs). */
async function beating<T>(work: () => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  const timer = ctx ? setInterval(() => ctx.heartbeat(), 2000) : undefined;
  try {
    return await work();
  } finally {
    if (timer) clearInterval(timer);
  }
}

export function createMergeActivities(deps: MergeStepDeps) {
  const { db, temporal, stateDir } = deps;
  const where = (ref: Pick<FeatureRef, 'projectId' | 'featureId'>) => ({
    path: featureWorktreePath(stateDir, ref.projectId, ref.featureId),
    featureBranch: featureBranch(ref.projectId, ref.featureId),
  });

  /** Wakes the project run, so a landed feature's dependents start now (a closed run needs nothing). */
  async function refreshRun(projectId: string): Promise<void> {
    await temporal.workflow
      .getHandle(projectRunId(projectId))
      .signal(refreshSignal)
      .catch(() => undefined);
  }

  return {
    /** The next feature to land: the first in finish order whose dependencies all pass. */
    async nextMerge(input: { projectId: string }): Promise<{ feature: MergingFeature | null; waiting: number[] }> {
      const merging = await mergingFeatures(db, input.projectId);
      return { feature: merging.find((f) => f.ready) ?? null, waiting: merging.map((f) => f.id) };
    },

    /** Commits what the agent left, then rebases its branch onto the integration head. */
    async rebaseFeature(ref: FeatureRef): Promise<RebaseStep> {
      return beating(async () => {
        const { path, featureBranch: branch } = where(ref);
        if (ref.homeHost) {
          const { projectId, projectDir, featureId, homeHost } = ref;
          const adopted = await adoptLastAttempt(db, { projectId, projectDir, featureId, homeHost, worktree: path });
          // Retried until that agent ends: it publishes its branch as it does.
          if (adopted.state === 'pending')
            throw new Error(
              `feature #${featureId} is still being coded on host ${adopted.host}; its branch comes when it ends`,
            );
          if (adopted.state === 'lost') return { state: 'lost', host: adopted.host };
        }
        if (!existsSync(path)) {
          // Passed without a worktree (a feature passed before isolation was on): nothing to land.
          if (!(await branchExists(ref.projectDir, branch))) return { state: 'missing' };
          await ensureFeatureWorktree({ repo: ref.projectDir, path, branch, base: `refs/heads/${ref.branch}` });
        }
        await commitLeftovers(path, leftoverMessage(ref.featureId, ref.featureName));
        const rebased = await rebaseOnto(path, `refs/heads/${ref.branch}`);
        if (rebased.state === 'rebased') return { ...rebased, path };
        return { state: 'conflict', files: rebased.files, output: rebased.output.slice(-TAIL), path };
      });
    },

    /** The verify command in the worktree, as an argv (never a shell), under its timeout. */
    async verifyFeature(input: { path: string; argv: string[]; timeoutMs: number }): Promise<VerifyStep> {
      return beating(() => runVerify(input.path, input.argv, input.timeoutMs));
    },

    /**
     * Fast-forwards the integration branch (and the project dir's checkout) to the verified head,
     * marks the feature passing, removes its worktree and branch, and wakes the run. `stale` when
     * the branch moved under the queue (a person committed to it): the queue rebases again.
     */
    async landFeature(
      ref: FeatureRef & { head: string; keepBranches: boolean },
    ): Promise<{ state: 'landed' | 'stale' }> {
      return beating(async () => {
        const { path, featureBranch: branch } = where(ref);
        try {
          await fastForward({ repo: ref.projectDir, branch: ref.branch, commit: ref.head });
        } catch (err) {
          if (/not a fast-forward/.test((err as Error).message)) return { state: 'stale' };
          throw err;
        }
        // Removed before the feature passes, so a run that ends on its last land leaves nothing behind.
        await removeWorktree({ repo: ref.projectDir, path, branch, keepBranch: ref.keepBranches });
        // Branches other hosts published of earlier attempts: their work is landed or superseded.
        for (const published of await publishedBranchesOf(ref.projectDir, ref.projectId, ref.featureId))
          await git(ref.projectDir, ['branch', '--quiet', '-D', published]);
        // A batch's features pass in dependency order, each on its own (a retry skips those landed).
        for (const featureId of ref.members ?? [ref.featureId])
          await markLanded(db, { projectId: ref.projectId, featureId, commit: ref.head, actor: QUEUE_ACTOR });
        await refreshRun(ref.projectId);
        return { state: 'landed' };
      });
    },

    /** Back to pending, its branch and worktree kept (for inspection and the next attempt). */
    async sendFeatureBack(
      input: Pick<FeatureRef, 'projectId' | 'featureId' | 'members'> &
        ({ failure: MergeFailure; outputTail: string } | { rejected: string } | { lost: string }),
    ): Promise<void> {
      const { path } = where(input);
      if (existsSync(path)) await abortRebase(path);
      const { members, ...rest } = input;
      for (const featureId of members ?? [input.featureId])
        await sendBack(db, { ...rest, featureId, actor: QUEUE_ACTOR });
      await refreshRun(input.projectId);
    },

    /** projectRun's signal-with-start: starts the project's queue if it is not running, and wakes it. */
    async wakeMergeQueue(input: MergeQueueInput): Promise<void> {
      await temporal.workflow.signalWithStart('mergeQueue', {
        workflowId: mergeQueueId(input.projectId),
        taskQueue: Context.current().info.taskQueue,
        args: [input],
        signal: mergeWakeSignal,
        signalArgs: [],
      });
    },

    /** The integration head (what a testing agent or `diff` compares against). */
    async integrationHead(input: { projectDir: string; branch: string }): Promise<string> {
      return headOf(input.projectDir, `refs/heads/${input.branch}`);
    },
  };
}

/** Runs argv in cwd in its own process group; the whole group is killed at the timeout. */
export function runVerify(cwd: string, argv: readonly string[], timeoutMs: number): Promise<VerifyStep> {
  return new Promise((resolve) => {
    const [file, ...args] = argv as [string, ...string[]];
    let output = '';
    const keep = (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-TAIL * 4);
    };
    const child = spawn(file, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, outputTail: `${argv.join(' ')}: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const why = timedOut
        ? `timed out after ${timeoutMs} ms`
        : code === 0
          ? 'passed'
          : `exited ${code ?? signal ?? '?'}`;
      resolve({
        ok: code === 0 && !timedOut,
        outputTail: `${output.slice(-TAIL)}\n[verify ${argv.join(' ')}: ${why}]`,
      });
    });
  });
}
