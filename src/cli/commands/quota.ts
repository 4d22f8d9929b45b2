/**
 * `autocoder quota [--json]`: each quota key's governor (`autocoder/quota/<key>`), its state and
 * reset time; `autocoder quota resume KEY` ends a pause early.
 */
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import { QUOTA_KEY_PATTERN } from '../../workflows/messages.ts';
import type { QuotaStatus } from '../../workflows/quota-governor.ts';
import { out } from '../options.ts';
import type { Runtime } from '../runtime.ts';

const QUERY_DEADLINE_MS = 5000;

export type QuotaKeyReport = Pick<QuotaStatus, 'key' | 'state' | 'until' | 'source' | 'projects' | 'lastReport'> & {
  workflowId: string;
  /** The governor runs but no worker answered its query. */
  unanswered?: true;
};

/** Every key's latest governor: live state from the query, `clear` once it ended. */
export async function listQuotaKeys(rt: Runtime): Promise<QuotaKeyReport[]> {
  const [{ quotaStatusQuery }, { QUOTA_GOVERNOR_PREFIX }] = await Promise.all([
    import('../../workflows/quota-governor.ts'),
    import('../../workflows/run-ids.ts'),
  ]);
  const { client } = rt.temporal;
  const latest = new Map<string, { workflowId: string; running: boolean }>();
  for await (const w of client.workflow.list({ query: `WorkflowType = 'quotaGovernor'` })) {
    // Listed newest first: the first of each ID is its latest run.
    if (!latest.has(w.workflowId))
      latest.set(w.workflowId, { workflowId: w.workflowId, running: w.status.name === 'RUNNING' });
  }
  const reports: QuotaKeyReport[] = [];
  for (const { workflowId, running } of [...latest.values()].sort((a, b) => a.workflowId.localeCompare(b.workflowId))) {
    const key = workflowId.slice(QUOTA_GOVERNOR_PREFIX.length);
    const clear = {
      key,
      workflowId,
      state: 'clear' as const,
      until: null,
      source: null,
      projects: [],
      lastReport: null,
    };
    if (!running) {
      reports.push(clear);
      continue;
    }
    try {
      const s = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        client.workflow.getHandle(workflowId).query(quotaStatusQuery),
      );
      reports.push({
        workflowId,
        key,
        state: s.state,
        until: s.until,
        source: s.source,
        projects: s.projects,
        lastReport: s.lastReport,
      });
    } catch {
      reports.push({ ...clear, state: 'paused', unanswered: true });
    }
  }
  return reports;
}

export function register(program: Command): void {
  const quota = program
    .command('quota')
    .description("List quota keys (one per account's usage limit): paused or clear, and when each resets")
    .option('--json', 'print JSON: [{ key, state, until, source, projects, lastReport, workflowId }]', false)
    .addHelpText(
      'after',
      `
A rate- or usage-limited agent pauses every project on its key until the reset (or a backoff of
1 to 30 minutes when no reset was given); the governor resumes them by itself.

Examples:
  autocoder quota
  autocoder quota --json | jq '.[] | select(.state == "paused")'
  autocoder quota resume claude-1a2b3c4d`,
    )
    .action(async (opts: { json: boolean }) => {
      const { withRuntime } = await import('../runtime.ts');
      await withRuntime({}, async (rt) => {
        const keys = await listQuotaKeys(rt);
        if (opts.json) {
          out(JSON.stringify(keys));
          return;
        }
        if (keys.length === 0) out('no quota key has been limited yet');
        for (const k of keys) {
          const until = k.until ? ` until ${k.until} (${k.source === 'backoff' ? 'backoff' : 'reset'})` : '';
          const projects = k.projects.length ? `; projects: ${k.projects.join(', ')}` : '';
          out(`${k.key}: ${k.state}${until}${k.unanswered ? ' (no worker answered)' : ''}${projects}`);
        }
      });
    });

  quota
    .command('resume')
    .description('End a quota pause early: every project on the key dispatches again')
    .argument('<key>', 'the quota key (see `autocoder quota`)')
    .action(async (key: string) => {
      if (!QUOTA_KEY_PATTERN.test(key))
        throw new UserError(`quota key must be a slug, got ${showValue(key)}`, {
          hint: 'see `autocoder quota` for the keys',
        });
      const [{ withRuntime }, { quotaResumeSignal }, { quotaGovernorId }, { WorkflowNotFoundError }] =
        await Promise.all([
          import('../runtime.ts'),
          import('../../workflows/quota-governor.ts'),
          import('../../workflows/run-ids.ts'),
          import('@temporalio/client'),
        ]);
      await withRuntime({}, async (rt) => {
        const handle = rt.temporal.client.workflow.getHandle(quotaGovernorId(key));
        try {
          const { status } = await handle.describe();
          if (status.name !== 'RUNNING')
            throw new UserError(`quota key ${key} is not paused`, { hint: 'see `autocoder quota`' });
          await handle.signal(quotaResumeSignal);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError)
            throw new UserError(`unknown quota key ${showValue(key)}`, { hint: 'see `autocoder quota` for the keys' });
          throw err;
        }
        out(`${key}: resumed; projects on it dispatch again`);
      });
    });
}
