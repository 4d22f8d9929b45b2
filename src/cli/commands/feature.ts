/**
 * `autocoder feature pass|fail ID [--reason TEXT]` and `feature ask ID TEXT [--option A …]`: an
 * agent (or a script it runs) reports on a feature, or asks a person about it, without MCP. Project and database come from the agent environment; with
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
  feature
    .command('ask')
    .description('Ask a person about the feature; it waits (needs_human_input) until answered. Returns at once.')
    .argument('<id>', 'feature id')
    .argument('<question>', 'what you need from the person, and why')
    .option('--option <text>', 'a choice the person picks from (repeatable; answered with --option N)', collect, [])
    .option('--project <id>', 'project id (default: AUTOCODER_PROJECT_ID)')
    .addHelpText(
      'after',
      `
The request is recorded and this exits 0: end the agent afterwards. The run goes on with other
features; the feature's next agent gets the answer in AUTOCODER_HUMAN_QUESTION/AUTOCODER_HUMAN_ANSWER.

Examples:
  autocoder feature ask 12 "Which payment provider should checkout use?" --option Stripe --option Adyen
  autocoder feature ask 12 "Please create a Stripe test account and give me its secret key"`,
    )
    .action(async (idText: string, question: string, options: AskOptions) => askFromCli(idText, question, options));
}

type AskOptions = { option: string[]; project?: string };
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const QUESTION_MAX = 10_000;

async function askFromCli(idText: string, question: string, options: AskOptions): Promise<void> {
  const featureId = parseId(idText);
  if (question.trim().length === 0 || question.length > QUESTION_MAX)
    throw new UserError(`the question must be 1..${QUESTION_MAX} characters, got ${question.length}`, {
      hint: 'e.g. `autocoder feature ask 12 "Which payment provider should checkout use?"`',
    });
  const bad = options.option.find((o) => o.trim().length === 0 || o.length > 500);
  if (bad !== undefined || options.option.length > 20)
    throw new UserError(
      `--option must be 1..500 characters, at most 20 of them, got ${showValue(bad ?? options.option.length)}`,
      {
        hint: 'e.g. --option Stripe --option Adyen',
      },
    );
  const env = options.project === undefined ? process.env : { ...process.env, AUTOCODER_PROJECT_ID: options.project };
  const [{ readAgentScope }, { connectForCli }, { createHumanRequest }] = await Promise.all([
    import('../../mcp/env.ts'),
    import('../../db/connect-cli.ts'),
    import('../../db/human-requests.ts'),
  ]);
  const scope = readAgentScope(env);
  const { db, close } = await connectForCli({ migrate: false, env });
  try {
    const request = await createHumanRequest(db, {
      projectId: scope.projectId,
      featureId,
      runId: scope.actor,
      kind: 'feature',
      question,
      options: options.option,
    });
    process.stdout.write(
      `request #${request.id} recorded: feature #${featureId} waits for a person (autocoder inbox); end this agent now\n`,
    );
  } finally {
    await close();
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
