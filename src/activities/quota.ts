/**
 * The quota governor's activities (src/workflows/quota-governor.ts): a project run reports a
 * rate-limited agent to its key's governor by signal-with-start, and the governor tells every
 * running project run the key's state. A run on another key ignores the notice, so one listing
 * of running project runs serves every key.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { quotaSignal } from '../workflows/messages.ts';
import { quotaStatusQuery } from '../workflows/quota-governor.ts';
import { quotaGovernorId } from '../workflows/run-ids.ts';
import type { AutocoderMetrics } from '../metrics/meter.ts';
import type { QuotaActivities, QuotaReportInput, RunActivities } from './types.ts';

/**
 * The default quota key: `claude-` and the first 8 hex digits of the SHA-256 of the Claude config
 * dir's path (CLAUDE_CONFIG_DIR, else ~/.claude), so every project of one account shares it.
 */
export function defaultQuotaKey(env: NodeJS.ProcessEnv = process.env): string {
  const dir = resolve(env.CLAUDE_CONFIG_DIR || join(homedir(), '.claude'));
  return `claude-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;
}

export function createQuotaActivities({
  temporal,
  taskQueue,
  metrics,
}: {
  temporal: Client;
  taskQueue?: string | undefined;
  metrics?: AutocoderMetrics | undefined;
}) {
  return {
    async reportQuota(input: QuotaReportInput): Promise<void> {
      const { Context } = await import('@temporalio/activity');
      await temporal.workflow.signalWithStart('quotaGovernor', {
        workflowId: quotaGovernorId(input.key),
        taskQueue: taskQueue ?? Context.current().info.taskQueue,
        args: [{ key: input.key }],
        signal: 'quotaReport',
        signalArgs: [{ projectId: input.projectId, resetsAt: input.resetsAt, message: input.message }],
        staticSummary: `quota ${input.key}`,
      });
    },

    async quotaState({ key }: { key: string }): Promise<{ until: string } | null> {
      const handle = temporal.workflow.getHandle(quotaGovernorId(key));
      try {
        if ((await handle.describe()).status.name !== 'RUNNING') return null;
        const status = await temporal.withDeadline(Date.now() + 5000, () => handle.query(quotaStatusQuery));
        return status.state === 'paused' && status.until ? { until: status.until } : null;
      } catch (err) {
        // No governor, or none answering: the run starts; a limited agent will tell it soon enough.
        if ((err as Error).name !== 'WorkflowNotFoundError')
          (await import('@temporalio/activity')).Context.current().log.warn(
            `quota state of ${key} unknown: ${(err as Error).message}`,
          );
        return null;
      }
    },

    async broadcastQuota({ key, until }: { key: string; until: string | null }): Promise<{ projects: string[] }> {
      const runs: string[] = [];
      for await (const w of temporal.workflow.list({
        query: `WorkflowType = 'projectRun' AND ExecutionStatus = 'Running'`,
      }))
        runs.push(w.workflowId);
      const sent = await Promise.allSettled(
        runs.map((id) => temporal.workflow.getHandle(id).signal(quotaSignal, { key, until })),
      );
      // A run that ended meanwhile is nothing to pause; any other failure is retried.
      const failed = sent.find(
        (r): r is PromiseRejectedResult =>
          r.status === 'rejected' && (r.reason as Error).name !== 'WorkflowNotFoundError',
      );
      if (failed) throw failed.reason;
      // Counted once the pause reached every run (a retried broadcast counts when it succeeds).
      if (until !== null) metrics?.quotaPaused(key);
      return { projects: runs.map((id) => id.replace(/^autocoder\//, '')) };
    },
  } satisfies QuotaActivities & Pick<RunActivities, 'reportQuota' | 'quotaState'>;
}
