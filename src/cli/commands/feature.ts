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
    .command('usage')
    .description('Report what this agent run cost (USD and tokens), for agents other than Claude')
    .requiredOption('--cost-usd <usd>', 'USD this run spent since its last report')
    .option('--input-tokens <n>', 'input tokens')
    .option('--output-tokens <n>', 'output tokens')
    .option('--cache-read-tokens <n>', 'cache read input tokens')
    .option('--cache-creation-tokens <n>', 'cache creation input tokens')
    .addHelpText(
      'after',
      `
Adds to the agent run named by AUTOCODER_RUN_ID (required), so budgets and \`autocoder spend\`
count it. Report each increment once.

Examples:
  autocoder feature usage --cost-usd 0.42 --input-tokens 12000 --output-tokens 800`,
    )
    .action(async (options: UsageOptions) => usageFromCli(options));
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

type UsageOptions = {
  costUsd: string;
  inputTokens?: string;
  outputTokens?: string;
  cacheReadTokens?: string;
  cacheCreationTokens?: string;
};

async function usageFromCli(options: UsageOptions): Promise<void> {
  // Every value is checked before the database is touched: a bad one records nothing.
  const costText = options.costUsd.trim();
  const costUsd = Number(costText);
  if (!/^\d+(\.\d+)?$/.test(costText) || !Number.isFinite(costUsd) || costUsd > 10_000)
    throw new UserError(`--cost-usd must be a number of USD ≥ 0, got ${showValue(options.costUsd)}`, {
      hint: 'e.g. --cost-usd 0.42',
    });
  const tokens: Record<string, number> = {};
  for (const [flag, value, key] of [
    ['--input-tokens', options.inputTokens, 'input_tokens'],
    ['--output-tokens', options.outputTokens, 'output_tokens'],
    ['--cache-read-tokens', options.cacheReadTokens, 'cache_read_input_tokens'],
    ['--cache-creation-tokens', options.cacheCreationTokens, 'cache_creation_input_tokens'],
  ] as const) {
    if (value === undefined) continue;
    if (!/^\d{1,12}$/.test(value.trim()))
      throw new UserError(`${flag} must be a whole number of tokens ≥ 0, got ${showValue(value)}`, {
        hint: `e.g. ${flag} 1200`,
      });
    tokens[key] = Number(value);
  }
  const [{ readAgentScope }, { connectForCli }, { addAgentUsage }] = await Promise.all([
    import('../../mcp/env.ts'),
    import('../../db/connect-cli.ts'),
    import('../../db/agent-usage.ts'),
  ]);
  const scope = readAgentScope(process.env);
  if (!scope.runId)
    throw new UserError('feature usage needs AUTOCODER_RUN_ID: usage is recorded on an agent run', {
      hint: 'run it from an agent started by autocoder (its environment names the run)',
    });
  const { db, close } = await connectForCli({ migrate: false });
  try {
    const added = await addAgentUsage(db, { runId: scope.runId, projectId: scope.projectId, costUsd, tokens });
    if (!added)
      throw new UserError(
        `no agent run ${showValue(scope.runId)} in project ${scope.projectId}; nothing was recorded`,
        {
          hint: 'AUTOCODER_RUN_ID must name a run that autocoder started',
        },
      );
    process.stdout.write(`recorded $${costUsd} on ${scope.runId}\n`);
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
