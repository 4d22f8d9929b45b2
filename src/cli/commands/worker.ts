import type { Command } from 'commander';
import { intFlag, out } from '../options.ts';

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run a standalone worker on the autocoder task queue until interrupted')
    .option('--max-agents <n>', 'agent processes this worker runs at once', intFlag('--max-agents', 1, 200), 20)
    .addHelpText(
      'after',
      `
Several workers (on one host or many) may poll the same task queue; Temporal spreads the work.
Ctrl-C stops the worker and leaves running agents alive: the next worker adopts them.

Examples:
  autocoder worker
  AUTOCODER_TASK_QUEUE=autocoder-host2 autocoder worker --max-agents 8`,
    )
    .action(async (opts: { maxAgents: number }) => {
      const [{ openStack }, { createAutocoderWorker }] = await Promise.all([
        import('../runtime.ts'),
        import('../../worker.ts'),
      ]);
      // The worker opens its own connections (and migrates): none of the CLI's are needed.
      const rt = await openStack({ log: out, start: true });
      const worker = await createAutocoderWorker({
        temporal: rt.temporalTarget,
        taskQueue: rt.config.taskQueue,
        databaseUrl: rt.stack.databaseUrl,
        stateDir: rt.config.home,
        maxConcurrentAgents: opts.maxAgents,
        logLevel: 'INFO',
        workflowStackTraces: rt.config.workflowStackTraces,
        timeZone: rt.config.timeZone,
        installationDailyBudgetUsd: rt.config.dailyBudgetUsd,
      });
      let interrupts = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        interrupts++;
        if (interrupts === 1) {
          out(`${signal}: stopping the worker; running agents stay alive for the next worker (again to force)`);
          void worker.shutdown();
        } else {
          // Re-raise with default handling so the exit status says how we ended.
          process.removeAllListeners(signal);
          process.kill(process.pid, signal);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      out(
        `worker polling task queue "${rt.config.taskQueue}" at ${rt.temporalTarget.address} (namespace ${rt.temporalTarget.namespace})`,
      );
      await worker.run();
      out('worker stopped');
    });
}
