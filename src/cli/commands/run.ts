import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import {
  agentAdapters,
  limits,
  PROJECT_ID_PATTERN,
  QUOTA_KEY_PATTERN,
  type AgentAdapter,
} from '../../workflows/messages.ts';
import { HOST_ID_PATTERN, HOST_ID_RULE } from '../../workflows/run-ids.ts';
import { onBudgetActions, type OnBudgetAction } from '../../workflows/vocabulary.ts';
import {
  durationFlag,
  intFlag,
  metricsAddressOf,
  metricsFlag,
  notifySettings,
  out,
  projectIdArg,
  usdFlag,
} from '../options.ts';
import type { SafetyFlags } from '../agent-safety-flags.ts';
import type { IsolationFlags } from '../isolation-flags.ts';

/** commander's collector for a repeatable option. */
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

type RunFlags = SafetyFlags &
  IsolationFlags & {
    homeHost?: string;
    project?: string;
    features?: string;
    concurrency: number;
    maxConcurrency: number;
    maxAgents: number;
    metrics?: string | boolean;
    testingRatio: number;
    batchSize: number;
    testingBatchSize: number;
    yolo: boolean;
    model?: string;
    agent: string;
    agentCmd?: string;
    maxRetries: number;
    detach: boolean;
    hostLostAfter: string;
    reset: boolean;
    pollInterval: number;
    budgetUsd?: number;
    featureBudgetUsd?: number;
    dailyBudgetUsd?: number;
    onBudget: string;
    quotaKey?: string;
    notifyUrl?: string;
    remindAfter?: number;
  };

/** A directory name as a project id: `My App` → `my-app`. */
export function projectIdFromDir(dir: string): string {
  const slug = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  if (!PROJECT_ID_PATTERN.test(slug)) {
    throw new UserError(`cannot derive a project id from directory ${showValue(dir)}`, {
      hint: 'give one with --project ID (lowercase letters, digits, dashes)',
    });
  }
  return slug;
}

export function register(program: Command): void {
  program
    .command('run')
    .description("Start (or join) a project's durable run and follow it to the end")
    .argument('<dir>', 'the project directory (agents work there)')
    .option('--project <id>', 'project id (default: from the directory name)', projectIdArg('--project'))
    .option('--features <file>', 'import this feature file first (JSON: { "features": [...] } or an array)')
    .option(
      '--concurrency <n>',
      'coding agents at once (1..--max-concurrency)',
      intFlag('--concurrency', limits.concurrency.min, limits.concurrency.max),
      3,
    )
    .option(
      '--max-concurrency <n>',
      `highest concurrency the run accepts, now and from \`set concurrency\` (1..${limits.maxConcurrency.max})`,
      intFlag('--max-concurrency', limits.maxConcurrency.min, limits.maxConcurrency.max),
      limits.maxConcurrency.default,
    )
    .option(
      '--max-agents <n>',
      "agent processes this command's worker runs at once (its host's cap)",
      intFlag('--max-agents', 1, 200),
      20,
    )
    .option(
      '--metrics [address]',
      "serve this command's worker's Prometheus metrics at host:port (alone: 127.0.0.1:9464)",
      metricsFlag('--metrics'),
    )
    .option(
      '--testing-ratio <n>',
      'testing agents kept running (0..3; 0 disables)',
      intFlag('--testing-ratio', 0, 3),
      1,
    )
    .option('--batch-size <n>', 'features per coding agent (1..3)', intFlag('--batch-size', 1, 3), 1)
    .option('--testing-batch-size <n>', 'features per testing agent (1..5)', intFlag('--testing-batch-size', 1, 5), 1)
    .option('--yolo', 'no testing agents; agents skip browser testing', false)
    .option('--model <name>', 'model passed to every agent')
    .option('--agent <adapter>', `agent adapter: ${agentAdapters.join('|')}`, 'claude')
    .option('--agent-cmd <path>', 'executable for --agent command (gets the agent environment)')
    .option(
      '--max-retries <n>',
      'failed attempts before a feature is given up (1..100)',
      intFlag('--max-retries', 1, 100),
      3,
    )
    .option(
      '--poll-interval <ms>',
      'longest wait between scheduling passes',
      intFlag('--poll-interval', 100, 3_600_000),
      5000,
    )
    .option('--agent-policy <policy>', 'command policy of claude agents: strict|original|off', 'strict')
    .option('--allow-host <host>', 'a host the agent sandbox may reach (repeatable)', collect, [])
    .option('--max-turns <kind=n>', 'Claude Code --max-turns per agent kind, e.g. coding=200 (repeatable)', collect, [])
    .option('--agent-env <name>', "pass this variable of the worker's environment to agents (repeatable)", collect, [])
    .option('--budget-usd <usd>', "stop dispatch once this run's agents spent this much", usdFlag('--budget-usd'))
    .option(
      '--feature-budget-usd <usd>',
      'hold a feature once its attempts spent this much (the others go on)',
      usdFlag('--feature-budget-usd'),
    )
    .option(
      '--daily-budget-usd <usd>',
      'stop dispatch once the project spent this much today (AUTOCODER_TZ); resumes the next day',
      usdFlag('--daily-budget-usd'),
    )
    .option('--on-budget <action>', `at a reached budget, running agents: ${onBudgetActions.join('|')}`, 'finish')
    .option(
      '--quota-key <slug>',
      'the account whose usage limit this project shares (default: claude- and a hash of the Claude config dir)',
    )
    .option(
      '--notify-url <url>',
      'POST a JSON event here (questions, reminders, the end); default AUTOCODER_NOTIFY_URL',
    )
    .option(
      '--remind-after <duration>',
      'remind of an unanswered question after this long, e.g. 4h, 30m (default 4h)',
      durationFlag('--remind-after'),
    )
    .option('--isolation <mode>', 'worktree|shared (default: worktree in a git repository with a commit)')
    .option('--allow-dirty', 'start although tracked files have uncommitted changes', false)
    .option('--branch <name>', 'integration branch features land on (default: the one checked out)')
    .option('--worktree-setup <cmd>', 'command run in each new worktree before its first agent, e.g. "npm ci"')
    .option(
      '--worktree-copy <path>',
      'ignored file copied from the project dir into each worktree (repeatable)',
      collect,
      [],
    )
    .option('--verify-cmd <cmd>', 'command a feature must pass before it lands, e.g. "npm test" (no shell)')
    .option('--verify-timeout <duration>', 'time limit of --verify-cmd (e.g. 90s, 10m)', '10m')
    .option('--keep-branches', 'keep each landed feature branch', false)
    .option('--review', 'land a feature only after `autocoder approve`', false)
    .option(
      '--repo <url|path>',
      "the project dir's repository as other hosts reach it: they fetch from it and push feature branches to it (default: the project dir)",
    )
    .option(
      '--home-host <id>',
      'the host that holds the project dir (default: this one, AUTOCODER_HOST_ID or the hostname)',
    )
    .option('--reset', 'with --features: take the file as the truth, passing features included', false)
    .option('--detach', 'start the run and return; a separate `autocoder worker` runs it', false)
    .option(
      '--host-lost-after <duration>',
      "an agent whose host's worker is gone this long ends host_lost and runs elsewhere (e.g. 90s, 2m)",
      '2m',
    )
    .addHelpText(
      'after',
      `
Exit code: 0 when the run completes (or is stopped/drained), 1 when it ends blocked or failed.
The run is durable: Ctrl-C stops this worker only; the run continues when a worker runs again.

Examples:
  autocoder run ./my-app --features features.json --concurrency 3
  autocoder run ./my-app --agent command --agent-cmd ./scripts/agent.sh
  autocoder run ./my-app --budget-usd 20 --feature-budget-usd 3 --daily-budget-usd 50
  autocoder run ./my-app --detach && autocoder worker`,
    )
    .action(async (dir: string, flags: RunFlags) => {
      if (!(agentAdapters as readonly string[]).includes(flags.agent)) {
        throw new UserError(`--agent must be one of ${agentAdapters.join(', ')}, got ${showValue(flags.agent)}`, {
          hint: 'e.g. --agent simulate',
        });
      }
      if (flags.agent === 'command' && !flags.agentCmd) {
        throw new UserError('--agent command needs --agent-cmd PATH', {
          hint: 'give the executable each agent runs, e.g. --agent-cmd ./agent.sh',
        });
      }
      if (!(onBudgetActions as readonly string[]).includes(flags.onBudget))
        throw new UserError(
          `--on-budget must be one of ${onBudgetActions.join(', ')}, got ${showValue(flags.onBudget)}`,
          {
            hint: '--on-budget stop stops running agents when a budget is reached; finish lets them end',
          },
        );
      if (flags.quotaKey !== undefined && !QUOTA_KEY_PATTERN.test(flags.quotaKey))
        throw new UserError(`--quota-key must be a slug, got ${showValue(flags.quotaKey)}`, {
          hint: 'lowercase letters, digits and dashes, e.g. --quota-key team-account',
        });
      if (flags.concurrency > flags.maxConcurrency)
        throw new UserError(`--concurrency ${flags.concurrency} is above --max-concurrency ${flags.maxConcurrency}`, {
          hint: `raise --max-concurrency (up to ${limits.maxConcurrency.max}) or lower --concurrency`,
        });
      if (flags.detach && flags.metrics !== undefined)
        throw new UserError("--metrics serves the metrics of run's own worker, and with --detach there is none", {
          hint: 'give --metrics to the worker that runs it: autocoder worker --metrics 127.0.0.1:9464',
        });
      const projectId = flags.project ?? projectIdFromDir(dir);
      // Before anything is written: a bad policy file or flag stops the run here (exit 2).
      const { agentSafetyFromFlags, POLICY_OFF_WARNING } = await import('../agent-safety-flags.ts');
      const agentSafety = agentSafetyFromFlags(flags, dir);
      if (agentSafety.policy === 'off') process.stderr.write(`${POLICY_OFF_WARNING}\n`);
      const notify = await notifySettings(flags.notifyUrl, flags.remindAfter);
      const { isolationFromFlags } = await import('../isolation-flags.ts');
      const { isolation, notes } = await isolationFromFlags(flags, dir);
      if (flags.homeHost !== undefined && !HOST_ID_PATTERN.test(flags.homeHost))
        throw new UserError(`--home-host ${HOST_ID_RULE}, got ${showValue(flags.homeHost)}`, {
          hint: 'give the AUTOCODER_HOST_ID of the host that holds the project dir, e.g. --home-host build-1',
        });
      const hostLostAfterMs = (await import('../isolation-flags.ts')).parseDuration(
        '--host-lost-after',
        flags.hostLostAfter,
      );
      for (const note of notes) out(note);
      const [{ withRuntime }, { runProject }] = await Promise.all([
        import('../runtime.ts'),
        import('../run-project.ts'),
      ]);
      process.exitCode = await withRuntime({ log: out, start: true }, async (rt) =>
        runProject(rt, {
          projectId,
          projectDir: dir,
          featuresFile: flags.features,
          reset: flags.reset,
          detach: flags.detach,
          worker: { maxAgents: flags.maxAgents, metricsAddress: metricsAddressOf(flags.metrics) },
          settings: {
            concurrency: flags.concurrency,
            maxConcurrency: flags.maxConcurrency,
            testingRatio: flags.testingRatio,
            batchSize: flags.batchSize,
            testingBatchSize: flags.testingBatchSize,
            yolo: flags.yolo,
            agent: flags.agent as AgentAdapter,
            maxRetries: flags.maxRetries,
            pollIntervalMs: flags.pollInterval,
            hostLostAfterMs,
            agentSafety,
            onBudget: flags.onBudget as OnBudgetAction,
            ...(flags.budgetUsd !== undefined ? { budgetUsd: flags.budgetUsd } : {}),
            ...(flags.featureBudgetUsd !== undefined ? { featureBudgetUsd: flags.featureBudgetUsd } : {}),
            ...(flags.dailyBudgetUsd !== undefined ? { dailyBudgetUsd: flags.dailyBudgetUsd } : {}),
            ...(flags.quotaKey !== undefined ? { quotaKey: flags.quotaKey } : {}),
            ...notify,
            ...(isolation ? { isolation } : {}),
            ...(flags.homeHost ? { homeHost: flags.homeHost } : {}),
            ...(flags.model ? { model: flags.model } : {}),
            ...(flags.agentCmd ? { agentCmd: [resolve(flags.agentCmd)] } : {}),
          },
          out,
        }),
      );
    });
}
