import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { limits } from '../../workflows/messages.ts';
import { intFlag, out } from '../options.ts';

const exampleDir = fileURLToPath(new URL('../../../examples/todo-app/', import.meta.url));
const exampleFeatures = join(exampleDir, 'features.json');

export function register(program: Command): void {
  program
    .command('demo')
    .description('Run the bundled example project (examples/todo-app) end to end with simulated agents')
    .option(
      '--concurrency <n>',
      `coding agents at once (1..${limits.maxConcurrency.default}, the runs' default maxConcurrency)`,
      intFlag('--concurrency', limits.concurrency.min, limits.maxConcurrency.default),
      3,
    )
    .option('--reset', 'start over: every feature pending again', false)
    .addHelpText(
      'after',
      `
Starts the local stack if needed (Temporal dev server + embedded Postgres under $AUTOCODER_HOME),
imports examples/todo-app/features.json as project "todo-app", runs a worker in this process and
the projectRun workflow to completion, then prints a summary and the run's Temporal UI link.

Examples:
  autocoder demo                 # first run, or report the finished project
  autocoder demo --reset         # start over from scratch
  autocoder demo --concurrency 5`,
    )
    .action(async (opts: { concurrency: number; reset: boolean }) => {
      const [{ withRuntime }, { runProject }, { ensureDemoRepo }] = await Promise.all([
        import('../runtime.ts'),
        import('../run-project.ts'),
        import('../demo-repo.ts'),
      ]);
      process.exitCode = await withRuntime({ log: out, start: true }, async (rt) => {
        // A git copy of the example, so the demo shows worktree isolation and the merge queue.
        const projectDir = join(rt.config.home, 'projects', 'todo-app');
        const branch = await ensureDemoRepo(projectDir, exampleDir);
        out(`isolation: worktree, each feature in its own git worktree, landed on ${branch} of ${projectDir}`);
        return runProject(rt, {
          projectId: 'todo-app',
          projectDir,
          featuresFile: exampleFeatures,
          reset: opts.reset,
          detach: false,
          settings: {
            concurrency: opts.concurrency,
            agent: 'simulate',
            testingRatio: 1,
            pollIntervalMs: 5000,
            isolation: {
              mode: 'worktree',
              branch,
              worktreeCopy: [],
              verifyTimeoutMs: 600_000,
              keepBranches: false,
              review: false,
            },
          },
          out,
        });
      });
    });
}
