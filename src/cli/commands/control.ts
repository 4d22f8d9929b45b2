/** Operator control of a running project: signals and updates of DESIGN.md §3. */
import type { Command } from 'commander';
import type { projectRunHandle } from '../../client.ts';
import { InfraError, UserError } from '../../errors.ts';
import {
  drainSignal,
  limits,
  pauseSignal,
  resumeSignal,
  retryFeatureSignal,
  setBatchSizeUpdate,
  setBudgetUpdate,
  setConcurrencyUpdate,
  setTestingBatchSizeUpdate,
  setTestingRatioUpdate,
  stopFeatureSignal,
  stopSignal,
} from '../../workflows/messages.ts';
import { intFlag, out, projectIdArg, usdFlag } from '../options.ts';
import type { Runtime } from '../runtime.ts';

async function withRunningProject(
  project: string | undefined,
  work: (rt: Runtime, projectId: string, handle: ReturnType<typeof projectRunHandle>) => Promise<void>,
): Promise<void> {
  const [{ withRuntime }, { projectRunHandle }, { resolveProjectId }, { WorkflowNotFoundError }] = await Promise.all([
    import('../runtime.ts'),
    import('../../client.ts'),
    import('../project-of-cwd.ts'),
    import('@temporalio/client'),
  ]);
  await withRuntime({}, async (rt) => {
    const projectId = await resolveProjectId(rt.database.db, project);
    const handle = projectRunHandle(rt.temporal.client, projectId);
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING')
        throw new UserError(
          `project ${projectId} has no run in progress (its last run is ${description.status.name.toLowerCase()})`,
          { hint: `start one with \`autocoder run DIR --project ${projectId}\`` },
        );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new UserError(`project ${projectId} has never run`, {
          hint: `start it with \`autocoder run DIR --project ${projectId}\``,
        });
      throw err;
    }
    await work(rt, projectId, handle);
  });
}

/** Terminates the run, then its running agent runs (`autocoder/<project>/…`); returns how many of those. */
async function terminateRun(
  rt: Runtime,
  projectId: string,
  handle: ReturnType<typeof projectRunHandle>,
): Promise<number> {
  const reason = 'autocoder stop --terminate';
  await handle.terminate(reason);
  // Agent runs only: a project named "quota" shares its prefix with the quota governors (autocoder/quota/<key>).
  const query = `WorkflowId STARTS_WITH '${handle.workflowId}/' AND WorkflowType = 'agentRun' AND ExecutionStatus = 'Running'`;
  const children: string[] = [];
  for await (const w of rt.temporal.client.workflow.list({ query })) children.push(w.workflowId);
  const ended = await Promise.allSettled(
    children.map((id) => rt.temporal.client.workflow.getHandle(id).terminate(`${reason} ${projectId}`)),
  );
  return ended.filter((e) => e.status === 'fulfilled').length;
}

const featureIdArg = intFlag('feature id', 1, 2_147_483_647);

export function register(program: Command): void {
  program
    .command('stop')
    .description('Stop a run: kill every agent tree, release every claim (or --drain: let running agents finish)')
    .argument('[project]', 'project id (default: the project of the current directory)', projectIdArg())
    .option('--drain', 'start nothing new and end when running agents finish', false)
    .option(
      '--terminate',
      "end the run without its workflow code: for a run this version's workers cannot replay (see `autocoder doctor`)",
      false,
    )
    .addHelpText(
      'after',
      `
--terminate ends the run and its agent runs at the server, without running their workflow code
(a plain stop is a signal that the run's own code handles, so it cannot end a run whose code
fails). Their agents are killed by the worker that supervises them, or by the next worker to
start; the next run of the project takes over the features they held.

Examples:
  autocoder stop todo-app
  autocoder stop todo-app --drain
  autocoder stop todo-app --terminate`,
    )
    .action(async (project: string | undefined, opts: { drain: boolean; terminate: boolean }) => {
      if (opts.drain && opts.terminate)
        throw new UserError('--drain and --terminate were both given', {
          hint: '--drain lets running agents finish, --terminate ends the run at once: pick one',
        });
      await withRunningProject(project, async (rt, projectId, handle) => {
        if (opts.terminate) {
          const agents = await terminateRun(rt, projectId, handle);
          out(
            `terminated ${handle.workflowId} and ${agents} agent run${agents === 1 ? '' : 's'}: their agents are killed by ` +
              `the worker that supervises them (or the next one to start); \`autocoder run\` starts ${projectId} again`,
          );
          return;
        }
        await handle.signal(opts.drain ? drainSignal : stopSignal);
        out(
          opts.drain
            ? `draining ${projectId}: running agents finish, nothing new starts`
            : `stopping ${projectId}: agents are being killed and claims released`,
        );
        // Worktree isolation: unfinished features keep their worktrees for the next run.
        const left = await (await import('./merge.ts')).worktreesLeft(rt, projectId).catch(() => []);
        if (left.length > 0)
          out(
            [`worktrees left in place (\`autocoder worktrees prune ${projectId}\` cleans landed ones):`, ...left].join(
              '\n',
            ),
          );
      });
    });

  program
    .command('stop-feature')
    .description("Kill one feature's agent tree and hold the feature until retry-feature")
    .argument('<feature>', 'feature id', featureIdArg)
    .option('--project <id>', 'project id', projectIdArg('--project'))
    .addHelpText('after', '\nExamples:\n  autocoder stop-feature 12 --project todo-app')
    .action(async (featureId: number, opts: { project?: string }) =>
      withRunningProject(opts.project, async (_rt, projectId, handle) => {
        await handle.signal(stopFeatureSignal, featureId);
        out(
          `stopping feature #${featureId} of ${projectId}; \`autocoder retry-feature ${featureId} --project ${projectId}\` schedules it again`,
        );
      }),
    );

  program
    .command('retry-feature')
    .description("Clear a feature's failure count (and a stop-feature hold) so it is scheduled again")
    .argument('<feature>', 'feature id', featureIdArg)
    .option('--project <id>', 'project id', projectIdArg('--project'))
    .addHelpText('after', '\nExamples:\n  autocoder retry-feature 12 --project todo-app')
    .action(async (featureId: number, opts: { project?: string }) =>
      withRunningProject(opts.project, async (_rt, projectId, handle) => {
        await handle.signal(retryFeatureSignal, featureId);
        out(`feature #${featureId} of ${projectId} will be scheduled again`);
      }),
    );

  for (const [name, signal, text] of [
    ['pause', pauseSignal, 'paused: running agents go on, nothing new starts'],
    ['resume', resumeSignal, 'resumed'],
  ] as const) {
    program
      .command(name)
      .description(
        name === 'pause' ? 'Start no new agents until resume (running ones go on)' : 'Start agents again after pause',
      )
      .argument('[project]', 'project id', projectIdArg())
      .addHelpText('after', `\nExamples:\n  autocoder ${name} todo-app`)
      .action(async (project: string | undefined) =>
        withRunningProject(project, async (_rt, projectId, handle) => {
          await handle.signal(signal);
          out(`${projectId} ${text}`);
        }),
      );
  }

  const budgetSettings = {
    'budget-usd': 'runUsd',
    'feature-budget-usd': 'featureUsd',
    'daily-budget-usd': 'dailyUsd',
  } as const;
  // concurrency's upper bound is the run's own (maxConcurrency): the run's validator checks it.
  const integerSettings = {
    concurrency: { update: setConcurrencyUpdate, min: 1, max: 50 },
    'testing-ratio': { update: setTestingRatioUpdate, ...limits.testingRatio },
    'batch-size': { update: setBatchSizeUpdate, ...limits.batchSize },
    'testing-batch-size': { update: setTestingBatchSizeUpdate, ...limits.testingBatchSize },
  } as const;
  program
    .command('set')
    .description(
      'Change a setting of a running project: concurrency (1..5), testing-ratio (0..3), batch-size (1..3), testing-batch-size (1..5), or a budget in USD (budget-usd, feature-budget-usd, daily-budget-usd)',
    )
    .argument(
      '<setting>',
      'concurrency | testing-ratio | batch-size | testing-batch-size | budget-usd | feature-budget-usd | daily-budget-usd',
    )
    .argument('<value>', 'the new value')
    .option('--project <id>', 'project id', projectIdArg('--project'))
    .addHelpText(
      'after',
      `
A raised budget resumes dispatch at once.

Examples:
  autocoder set concurrency 5 --project todo-app
  autocoder set testing-ratio 0 --project todo-app
  autocoder set batch-size 3 --project todo-app
  autocoder set testing-batch-size 5 --project todo-app
  autocoder set budget-usd 50 --project todo-app
  autocoder set feature-budget-usd 5 --project todo-app`,
    )
    .action(async (setting: string, value: string, opts: { project?: string }) => {
      if (setting in budgetSettings) {
        const field = budgetSettings[setting as keyof typeof budgetSettings];
        // Checked here, before anything is sent: a bad value exits 2 and the run records nothing.
        const usd = usdFlag(setting)(value);
        await withRunningProject(opts.project, async (_rt, projectId, handle) => {
          const budgets = await executeOrExplain(setting, () =>
            handle.executeUpdate(setBudgetUpdate, { args: [{ [field]: usd }] }),
          );
          const show = (v: number | null) => (v === null ? 'none' : `$${v}`);
          out(
            `${projectId}: budgets run ${show(budgets.runUsd)}, feature ${show(budgets.featureUsd)}, daily ${show(budgets.dailyUsd)}`,
          );
        });
        return;
      }
      const integer = integerSettings[setting as keyof typeof integerSettings];
      if (!integer)
        throw new UserError(`unknown setting ${JSON.stringify(setting)}`, {
          hint: `use one of: ${Object.keys(integerSettings).join(', ')}, ${Object.keys(budgetSettings).join(', ')}`,
        });
      // Checked here, before anything is sent: a bad value exits 2 and the run records nothing.
      const n = intFlag(setting, integer.min, integer.max)(value);
      await withRunningProject(opts.project, async (_rt, projectId, handle) => {
        const settings = await executeOrExplain(setting, () => handle.executeUpdate(integer.update, { args: [n] }));
        out(
          `${projectId}: concurrency ${settings.concurrency}, testing ratio ${settings.testingRatio}, batch size ${settings.batchSize}, testing batch size ${settings.testingBatchSize}`,
        );
      });
    });
}

/** An update the run's validator refused is the user's mistake (exit 2); anything else is infrastructure. */
async function executeOrExplain<T>(setting: string, update: () => Promise<T>): Promise<T> {
  try {
    return await update();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    if (cause?.message) throw new UserError(`${setting} rejected by the run: ${cause.message}`);
    throw new InfraError(`update failed: ${(err as Error).message}`);
  }
}
