/**
 * `autocoder feature pass|fail ID [--reason TEXT]`: an agent (or a script it runs) reports on a
 * feature without MCP. Project and database come from the agent environment; with
 * AUTOCODER_RUN_ID the write is fenced by the run's claim, as the MCP tools' are.
 */
import type { Command } from 'commander';
import { ClaimLostError, UserError, showValue } from '../../errors.ts';

type MarkOptions = { reason?: string; project?: string };

export function register(program: Command): void {
  const feature = program
    .command('feature')
    .description(
      'For agents and scripts: mark a feature passing or failing (project and database from the agent environment)',
    )
    .addHelpText(
      'after',
      `
Reads AUTOCODER_PROJECT_ID and DATABASE_URL (required) and AUTOCODER_RUN_ID (optional: with it, the
feature must be held by that agent run). With TEMPORAL_ADDRESS set, passing wakes the project's run.

Examples:
  autocoder feature pass 12
  autocoder feature fail 12 --reason "login form rejects valid passwords"`,
    );
  for (const passes of [true, false]) {
    feature
      .command(passes ? 'pass' : 'fail')
      .description(
        passes ? 'Mark the feature passing (implemented and verified)' : 'Mark the feature failing (e.g. a regression)',
      )
      .argument('<id>', 'feature id')
      .option(
        '--reason <text>',
        passes ? 'a note kept in the feature history' : "what fails (kept as the feature's last error)",
      )
      .option('--project <id>', 'project id (default: AUTOCODER_PROJECT_ID)')
      .addHelpText(
        'after',
        `
Examples:
  autocoder feature ${passes ? 'pass' : 'fail'} 12${passes ? '' : ' --reason "the list is not sorted"'}
  AUTOCODER_PROJECT_ID=todo-app DATABASE_URL=postgres://… autocoder feature ${passes ? 'pass' : 'fail'} 12`,
      )
      .action(async (idText: string, options: MarkOptions) => markFromCli(idText, passes, options));
  }
}

async function markFromCli(idText: string, passes: boolean, options: MarkOptions): Promise<void> {
  const featureId = parseId(idText);
  const env = options.project === undefined ? process.env : { ...process.env, AUTOCODER_PROJECT_ID: options.project };
  // Loaded here: every CLI start loads every command module, and this one is for agents.
  const [{ readAgentScope }, { connectForCli }, { markFeatureBy }, { temporalWake }, { userInfo }] = await Promise.all([
    import('../../mcp/env.ts'),
    import('../../db/connect-cli.ts'),
    import('../../db/feature-marks.ts'),
    import('../../mcp/wake.ts'),
    import('node:os'),
  ]);
  const scope = readAgentScope(env);
  const { db, close } = await connectForCli({ migrate: false, env });
  try {
    const marked = await markFeatureBy(db, {
      projectId: scope.projectId,
      featureId,
      passes,
      reason: options.reason,
      runId: scope.runId,
      actor: scope.runId ?? `cli/${userInfo().username}`,
    }).catch((error: unknown) => {
      if (!(error instanceof ClaimLostError)) throw error;
      throw new UserError(
        `feature #${featureId} is not held by agent run ${error.owner} (AUTOCODER_RUN_ID); nothing was changed`,
        {
          hint: 'an agent may mark only the feature it holds; unset AUTOCODER_RUN_ID to mark it as an operator',
        },
      );
    });
    process.stdout.write(`feature #${marked.id} ${showValue(marked.name)} marked ${passes ? 'passing' : 'failing'}\n`);
    if (passes) {
      const woke = await temporalWake(scope.temporal)(scope.projectId);
      if (woke.result === 'sent') process.stdout.write(`woke the run autocoder/${scope.projectId}\n`);
      if (woke.result === 'failed')
        process.stderr.write(
          `autocoder: could not wake the run (it notices at the agent's exit): ${woke.detail ?? ''}\n`,
        );
    }
  } finally {
    await close();
  }
}

function parseId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1 || id > 2_147_483_647) {
    throw new UserError(`feature id must be a positive integer, got ${showValue(text)}`, {
      hint: 'e.g. `autocoder feature pass 12`',
    });
  }
  return id;
}
