/** `autocoder features show ID --project ID [--json]`: one feature, its dependencies and agent runs. */
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import { DEFAULT_MAX_RETRIES } from '../../db/states.ts';
import type { AgentRunRow } from '../../db/tables.ts';
import { escapeForTerminal } from '../../features/index.ts';
import { featuresCommand } from './features-group.ts';
import { blockReasons, featureJson, parseMaxRetries } from './features-list.ts';

type ShowOptions = { project: string; json?: boolean; maxRetries: string };

export function register(program: Command): void {
  featuresCommand(program)
    .command('show')
    .description('Show one feature: description, steps, state, dependencies, failures and its agent runs')
    .argument('<id>', 'feature id')
    .requiredOption('--project <id>', 'project id')
    .option('--max-retries <n>', 'failures after which a feature counts as failed', String(DEFAULT_MAX_RETRIES))
    .option('--json', 'print the feature (with agentRuns) as JSON')
    .addHelpText(
      'after',
      `
Examples:
  autocoder features show 12 --project todo-app
  autocoder features show 12 --project todo-app --json | jq .agentRuns`,
    )
    .action(async (idText: string, options: ShowOptions) => {
      const featureId = parseFeatureId(idText);
      const maxRetries = parseMaxRetries(options.maxRetries);
      const [
        { listAgentRuns },
        { connectForCli },
        { listFeatures, unknownFeature },
        { requireProject },
        { listFeatureEvents },
        { featureSpend, roundUsd },
      ] = await Promise.all([
        import('../../db/agent-runs.ts'),
        import('../../db/connect-cli.ts'),
        import('../../db/features.ts'),
        import('../../db/projects.ts'),
        import('../../db/feature-edits.ts'),
        import('../../db/spend.ts'),
      ]);
      const { db, close } = await connectForCli();
      try {
        await requireProject(db, options.project);
        // The whole list: the blocked reason may come from anywhere upstream.
        const all = await listFeatures(db, options.project, { maxRetries });
        const feature = all.find((f) => f.id === featureId);
        if (!feature) throw unknownFeature(options.project, featureId);
        const blockedBy = blockReasons(all).get(featureId) ?? null;
        const runs = await listAgentRuns(db, { projectId: options.project, featureId, limit: 10 });
        const events = await listFeatureEvents(db, options.project, featureId);
        const spent = await featureSpend(db, { projectId: options.project, featureId });
        const spend = { usd: roundUsd(spent.usd), tokens: spent.tokens, agentRuns: spent.runs };
        if (options.json) {
          const json = {
            ...featureJson(feature),
            description: feature.description,
            steps: feature.steps,
            blockedBy,
            spend,
            agentRuns: runs,
            events,
          };
          process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
          return;
        }
        const byId = new Map(all.map((f) => [f.id, f]));
        const t = escapeForTerminal;
        const lines = [
          `#${feature.id} ${t(feature.name)}`,
          `  state        ${feature.state}${blockedBy ? ` (${t(blockedBy)})` : ''}`,
          `  category     ${t(feature.category) || '-'}`,
          `  priority     ${feature.priority}   score ${feature.score.toFixed(3)}`,
          `  depends on   ${feature.dependencies.length === 0 ? '-' : feature.dependencies.map((d) => `#${d} (${byId.get(d)?.state ?? 'missing'})`).join(', ')}`,
          `  failures     ${feature.failureCount}/${maxRetries}${feature.lastError ? `, last: ${t(feature.lastError)}` : ''}`,
          `  attempts     ${feature.attempts}${feature.claimedBy ? `, claimed by ${feature.claimedBy} since ${feature.claimedAt?.toISOString()}` : ''}`,
          `  spend        $${spend.usd.toFixed(2)} over ${spend.agentRuns} agent run${spend.agentRuns === 1 ? '' : 's'} (tokens: ${spend.tokens.input} in, ${spend.tokens.output} out, ${spend.tokens.cacheRead} cache read, ${spend.tokens.cacheCreation} cache write)`,
          `  last tested  ${feature.lastTestedAt?.toISOString() ?? '-'}${feature.testingInProgress ? ` (being re-tested by ${feature.testingClaimedBy})` : ''}`,
          '',
          t(feature.description) || '(no description)',
        ];
        if (feature.steps.length > 0) lines.push('', 'Steps:', ...feature.steps.map((s, i) => `  ${i + 1}. ${t(s)}`));
        lines.push('', runs.length === 0 ? 'No agent runs yet.' : 'Agent runs (newest first):', ...runs.map(runLine));
        if (events.length > 0) {
          lines.push('', 'Events (newest first):');
          for (const e of events) {
            const d = e.detail as Record<string, unknown>;
            const what =
              e.action === 'guard_blocked'
                ? `: ${t(String(d.command ?? ''))} (${d.policy}: ${t(String(d.reason ?? ''))})`
                : '';
            lines.push(`  ${e.created_at.toISOString()}  ${e.action}  ${e.run_id}${what}`);
          }
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await close();
      }
    });
}

function runLine(run: AgentRunRow): string {
  const ended = run.ended_at ? `${run.outcome ?? 'ended'} ${run.ended_at.toISOString()}` : 'running';
  const exit = run.exit_code !== null ? ` exit ${run.exit_code}` : run.signal ? ` ${run.signal}` : '';
  const cost = run.cost_usd !== null ? ` $${run.cost_usd.toFixed(2)}` : '';
  return `  ${run.id}  ${run.kind} #${run.attempt}  started ${run.started_at.toISOString()}  ${ended}${exit}${cost}${run.log_path ? `  log ${run.log_path}` : ''}`;
}

export function parseFeatureId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1) {
    throw new UserError(`feature id must be a positive integer, got ${showValue(text)}`, {
      hint: 'e.g. `autocoder features show 12 --project ID`',
    });
  }
  return id;
}
