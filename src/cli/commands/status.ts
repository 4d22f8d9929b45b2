import type { Command } from 'commander';
import { answerCommand } from '../../workflows/human-answer.ts';
import type { StatusReport } from '../../client.ts';
import { UserError, showValue } from '../../errors.ts';
import { out, projectIdArg } from '../options.ts';
import { escapeForTerminal } from '../../features/terminal.ts';
import { agentLabel } from '../../workflows/agent-label.ts';
import { projectRunId } from '../../workflows/messages.ts';
import { formatBytes, stateDirSize } from '../state-files.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description("Show a project's run: phase, outcome, feature counts and running agents")
    .argument('[project]', 'project id (default: the project whose directory is the current one)', projectIdArg())
    .option(
      '--json',
      'print JSON: { project, phase, outcome, counts, running, paused, pause, spend, budgets, quotaKey, settings, capacity }',
      false,
    )
    .option(
      '-w, --watch',
      'follow the run live until it ends (a live view on a terminal, plain lines otherwise)',
      false,
    )
    .addHelpText(
      'after',
      `
outcome is null while the run goes on; phase is null for a project that never ran.
Each running agent shows its host. While the run goes on, capacity lists the live hosts (workers that
polled the task queue in the last 90 s) and their --max-agents; status says when they add up to less
than the concurrency.

Examples:
  autocoder status todo-app
  autocoder status todo-app --json | jq .counts
  autocoder status todo-app --watch`,
    )
    .action(async (project: string | undefined, opts: { json: boolean; watch: boolean }) => {
      const [
        { withRuntime },
        { readRunStatus, readMergeQueue, workflowUiUrl },
        { featureCounts },
        { getProject },
        { resolveProjectId },
      ] = await Promise.all([
        import('../runtime.ts'),
        import('../../client.ts'),
        import('../../db/features.ts'),
        import('../../db/projects.ts'),
        import('../project-of-cwd.ts'),
      ]);
      await withRuntime({}, async (rt) => {
        const projectId = await resolveProjectId(rt.database.db, project);
        if (!(await getProject(rt.database.db, projectId))) {
          throw new UserError(`unknown project ${showValue(projectId)}`, {
            hint: 'see `autocoder features list --project <id>` or import one with `autocoder run DIR --features FILE`',
          });
        }
        if (opts.watch && !opts.json) {
          const { watchRun } = await import('../watch-run.ts');
          await watchRun(rt, projectId, out);
        }
        const report: StatusReport = (await readRunStatus(rt.temporal.client, projectId)) ?? {
          project: projectId,
          phase: null,
          outcome: null,
          counts: await featureCounts(rt.database.db, projectId),
          running: [],
          workflowId: projectRunId(projectId),
          runId: null,
        };
        // No worker answered: the feature store still knows the counts.
        if (report.unanswered) report.counts = await featureCounts(rt.database.db, projectId);
        // Worktree isolation: the merge queue's position and step (null when no queue runs).
        const mergeQueue = await readMergeQueue(rt.temporal.client, projectId).catch(() => null);
        const { hostsOfRuns, readCapacity } = await import('../host-status.ts');
        const hosts = await hostsOfRuns(
          rt.database.db,
          report.running.map((a) => a.workflowId),
        );
        const running = report.running.map((a) => ({ ...a, host: hosts.get(a.workflowId) ?? null }));
        const capacity =
          report.outcome === null && report.status
            ? await readCapacity(
                rt.temporal.client,
                rt.config.taskQueue,
                report.status.settings.concurrency,
                report.status.settings.homeHost ?? null,
              )
            : null;
        if (opts.json) {
          const { project, phase, outcome, counts, workflowId, runId, unanswered } = report;
          out(
            JSON.stringify({
              project,
              phase,
              outcome,
              counts,
              running,
              workflowId,
              runId,
              stateDir: stateDirJson(rt.config.home),
              ...(report.status
                ? {
                    paused: report.status.paused,
                    pause: report.status.pause,
                    spend: report.status.spend,
                    budgets: report.status.budgets,
                    budgetHeld: report.status.budgetHeld,
                    quotaKey: report.status.quotaKey,
                    quotaWarning: report.status.quotaWarning,
                    settings: report.status.settings,
                  }
                : {}),
              ...(report.status?.humanRequests ? { humanRequests: report.status.humanRequests } : {}),
              ...(report.status?.notifications ? { notifications: report.status.notifications } : {}),
              mergeQueue,
              ...(capacity ? { capacity } : {}),
              ...(unanswered ? { unanswered } : {}),
            }),
          );
          return;
        }
        if (report.unanswered) out(`project ${projectId}: running, but ${report.unanswered}`);
        const c = report.counts;
        if (!report.unanswered)
          out(
            `project ${projectId}: ${report.phase === null ? 'never run' : report.outcome === null ? `running (phase ${report.phase})` : `ended ${report.outcome}`}`,
          );
        out(
          `features: ${c.passing}/${c.total} passing, ${c.running} running, ${c.pending} pending, ${c.blocked} blocked, ${c.failed} failed${c.merging ? `, ${c.merging} merging` : ''}${c.needs_human_input ? `, ${c.needs_human_input} waiting for a person` : ''}`,
        );
        if (report.status) {
          const { describePause, describeSpend } = await import('../pause-line.ts');
          const paused = describePause(report.status.pause);
          if (paused) out(paused);
          if (report.status.spend) out(describeSpend(report.status));
          for (const f of report.status.budgetHeld ?? [])
            out(
              `  held #${f.featureId}: its feature budget is spent ($${f.spentUsd.toFixed(2)} of $${f.limitUsd.toFixed(2)})`,
            );
          if (report.status.quotaWarning)
            out(`quota warning: ${escapeForTerminal(report.status.quotaWarning.message)}`);
        }
        for (const r of report.status?.humanRequests ?? [])
          out(
            `  asks #${r.featureId}: ${escapeForTerminal(r.question.split('\n')[0] ?? '')} (answer: ${answerCommand(projectId, r)})`,
          );
        const notify = report.status?.notifications;
        if (notify && notify.failed > 0)
          out(
            `notifications: ${notify.failed} of ${notify.sent + notify.failed} failed; last: ${escapeForTerminal(notify.lastError ?? '')}`,
          );
        if (mergeQueue) {
          const now = mergeQueue.current;
          const waiting = mergeQueue.waiting.map((id, i) => `${i + 1}. #${id}`).join(' ');
          out(
            `merge queue: ${now ? `#${now.featureId} ${now.step}${now.step === 'reviewing' ? ` (autocoder approve ${projectId} ${now.featureId})` : ''}` : 'idle'}${waiting ? `; then ${waiting}` : ''}; ${mergeQueue.landed} landed, ${mergeQueue.sentBack} sent back`,
          );
        }
        const settings = report.status?.settings;
        if (settings) {
          // Names only: hosts, turn limits and variable names, never a variable's value.
          const safety = settings.agentSafety;
          out(
            `agents: ${settings.agent}, policy ${settings.agentPolicy}, max turns ${Object.entries(safety.maxTurns)
              .map(([k, n]) => `${k}=${n}`)
              .join(' ')}, hosts ${safety.allowHosts.join(' ') || '(none)'}, env ${safety.env.join(' ') || '(none)'}`,
          );
          if (settings.agentPolicy === 'off') out((await import('../agent-safety-flags.ts')).POLICY_OFF_WARNING);
        }
        const { describeCapacity, describeHome } = await import('../../metrics/capacity.ts');
        for (const line of capacity ? [describeHome(capacity), describeCapacity(capacity)] : []) if (line) out(line);
        for (const a of running)
          out(
            `  ${agentLabel(a.kind, a.featureId, a.featureIds)} ${escapeForTerminal(a.featureName)} (since ${a.startedAt}${a.host ? ` on ${a.host}` : ''})`,
          );
        out(stateDirLine(rt.config.home));
        if (rt.temporalTarget.uiUrl && report.runId)
          out(
            `Temporal UI: ${workflowUiUrl(rt.temporalTarget.uiUrl, rt.temporalTarget.namespace, report.workflowId, report.runId)}`,
          );
      });
    });
}

/** This host's state dir and its size (cached for minutes: a walk of a big dir is not free). */
function stateDirJson(home: string): {
  path: string;
  bytes: number;
  files: number;
  complete: boolean;
  measuredAt: string;
} {
  const { bytes, files, complete, measuredAt } = stateDirSize(home);
  return { path: home, bytes, files, complete, measuredAt };
}

function stateDirLine(home: string): string {
  const size = stateDirJson(home);
  return `state dir: ${home} ${size.complete ? '' : 'at least '}${formatBytes(size.bytes)} in ${size.files} files (\`autocoder gc\` removes old logs)`;
}
