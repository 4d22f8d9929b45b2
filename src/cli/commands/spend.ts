/**
 * `autocoder spend [PROJECT] [--since 7d] [--by day|feature|kind] [--json]`: what agents spent,
 * in USD and tokens, of one project or of the whole installation, read from the feature store.
 */
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import { out, projectIdArg } from '../options.ts';

type SpendOptions = { since: string; by: string; json: boolean };

const GROUPINGS = ['day', 'feature', 'kind'] as const;

/** `7d`, `12h`, `30m` ago, or an ISO date/time. */
export function parseSince(text: string, now: Date = new Date()): Date {
  const relative = /^(\d{1,5})([dhm])$/.exec(text.trim());
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(at))
    throw new UserError(`--since must be a duration such as 7d, 12h or 30m, or a date, got ${showValue(text)}`, {
      hint: 'e.g. --since 7d or --since 2026-12-01',
    });
  return new Date(at);
}

export function register(program: Command): void {
  program
    .command('spend')
    .description('Show what agents spent (USD and tokens), by day, feature or agent kind')
    .argument('[project]', 'project id (default: the whole installation)', projectIdArg())
    .option('--since <when>', 'from this long ago (7d, 12h, 30m) or this date', '7d')
    .option('--by <grouping>', `rows by ${GROUPINGS.join('|')}`, 'day')
    .option('--json', 'print JSON: { project, since, totalUsd, tokens, rows: [{ key, usd, tokens }] }', false)
    .addHelpText(
      'after',
      `
Days begin in AUTOCODER_TZ (default UTC). A run's spend counts when it ends (when it started, while it runs).

Examples:
  autocoder spend
  autocoder spend todo-app --since 30d --by feature
  autocoder spend --by kind --json | jq .totalUsd`,
    )
    .action(async (project: string | undefined, opts: SpendOptions) => {
      if (!(GROUPINGS as readonly string[]).includes(opts.by))
        throw new UserError(`--by must be one of ${GROUPINGS.join(', ')}, got ${showValue(opts.by)}`, {
          hint: 'e.g. --by feature',
        });
      const since = parseSince(opts.since);
      const [{ connectForCli }, { spendReport }, { requireProject }, { loadEnvConfig }] = await Promise.all([
        import('../../db/connect-cli.ts'),
        import('../../db/spend.ts'),
        import('../../db/projects.ts'),
        import('../../config/env.ts'),
      ]);
      const tz = loadEnvConfig(process.env).timeZone;
      const { db, close } = await connectForCli();
      try {
        if (project !== undefined) await requireProject(db, project);
        const report = await spendReport(db, {
          projectId: project ?? null,
          since,
          by: opts.by as (typeof GROUPINGS)[number],
          tz,
        });
        if (opts.json) {
          out(JSON.stringify({ project: project ?? null, since: since.toISOString(), ...report }));
          return;
        }
        const t = report.tokens;
        out(
          `${project ?? 'all projects'} since ${since.toISOString()}: $${report.totalUsd.toFixed(2)} (tokens: ${t.input} in, ${t.output} out, ${t.cacheRead} cache read, ${t.cacheCreation} cache write)`,
        );
        const width = Math.max(8, ...report.rows.map((r) => r.key.length));
        for (const r of report.rows)
          out(
            `  ${r.key.padEnd(width)}  $${r.usd.toFixed(2).padStart(9)}  ${r.tokens.input} in, ${r.tokens.output} out`,
          );
      } finally {
        await close();
      }
    });
}
