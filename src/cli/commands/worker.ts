import type { Command } from 'commander';
import { intFlag, metricsAddressOf, metricsFlag, out } from '../options.ts';

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run a standalone worker on the autocoder task queue until interrupted')
    .option('--max-agents <n>', 'agent processes this worker runs at once', intFlag('--max-agents', 1, 200), 20)
    .option(
      '--metrics [address]',
      'serve Prometheus metrics at host:port (alone: 127.0.0.1:9464; /metrics)',
      metricsFlag('--metrics'),
    )
    .option(
      '--deployment <name>',
      'Worker Deployment to join, with --build-id (AUTOCODER_DEPLOYMENT; docs/upgrades.md)',
    )
    .option('--build-id <id>', "this worker's version in the deployment, e.g. the release tag (AUTOCODER_BUILD_ID)")
    .addHelpText(
      'after',
      `
Several workers (on one host or many) may poll the same task queue; Temporal spreads the work.
Each worker names its host with AUTOCODER_HOST_ID (default the hostname; agents get it in their
environment) and also polls its host's queue, <task queue>@<host id>, where the agents it runs
are supervised.
Ctrl-C (SIGINT) stops the worker and leaves running agents alive: the next worker on this host
adopts them. SIGTERM (a Kubernetes pod's stop) drains the host: no new agents, running ones are
stopped and end host_drained, so they run again on another host with no failure counted.
With --deployment and --build-id (both, or neither) the worker is versioned: a new release starts
beside the running one, becomes current with the Temporal CLI, and the old one stops once the
agent runs pinned to it have closed (docs/upgrades.md). Nothing runs on a version until it is
current: temporal worker deployment set-current-version --deployment-name NAME --build-id ID

Examples:
  autocoder worker
  AUTOCODER_HOST_ID=build-2 autocoder worker --max-agents 8 --metrics 127.0.0.1:9464
  autocoder worker --deployment autocoder --build-id v1.1.0`,
    )
    .action(async (opts: { maxAgents: number; metrics?: string | boolean; deployment?: string; buildId?: string }) => {
      const [{ openStack }, { createAutocoderWorker }, { workerVersionOf }, notices] = await Promise.all([
        import('../runtime.ts'),
        import('../../worker.ts'),
        import('../../config/env.ts'),
        import('../worker-version.ts'),
      ]);
      const metricsAddress = metricsAddressOf(opts.metrics);
      // The worker opens its own connections (and migrates): none of the CLI's are needed.
      const rt = await openStack({
        log: out,
        start: true,
        overrides: { deploymentName: opts.deployment, buildId: opts.buildId },
      });
      const version = workerVersionOf(rt.config);
      const worker = await createAutocoderWorker({
        temporal: rt.temporalTarget,
        taskQueue: rt.config.taskQueue,
        databaseUrl: rt.stack.databaseUrl,
        stateDir: rt.config.home,
        maxConcurrentAgents: opts.maxAgents,
        hostId: rt.config.hostId,
        metricsAddress,
        logLevel: 'INFO',
        workflowStackTraces: rt.config.workflowStackTraces,
        timeZone: rt.config.timeZone,
        installationDailyBudgetUsd: rt.config.dailyBudgetUsd,
        version,
        ownSignals: true,
      });
      let interrupts = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        interrupts++;
        if (interrupts === 1 && signal === 'SIGTERM') {
          out(`SIGTERM: draining host ${worker.hostId}: its agents stop and run again elsewhere (again to force)`);
          void worker.drain();
        } else if (interrupts === 1) {
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
        `worker polling task queue "${rt.config.taskQueue}" at ${rt.temporalTarget.address} (namespace ${rt.temporalTarget.namespace}) as host ${worker.hostId}, max agents ${opts.maxAgents}${version ? `, version ${notices.versionLabel(version)}` : ''}${metricsAddress ? `, metrics at http://${metricsAddress}/metrics` : ''}`,
      );
      const running = worker.run();
      // Printed once the server lists the version (its first polls register it): advice, never fatal.
      if (version)
        void notices
          .routingNotice(worker.client, version, [rt.config.taskQueue, worker.hostQueue])
          .then(out, (err: unknown) => {
            out(`could not read the routing of deployment ${version.deploymentName}: ${(err as Error).message}`);
          });
      await running;
      if (version) {
        // The worker's connections are closed by now; this one is only for the exit notice.
        const { connectTemporal } = await import('../../client.ts');
        const temporal = await connectTemporal(rt.temporalTarget).catch(() => null);
        if (temporal) {
          const left = await notices.pinnedLeftNotice(temporal.client, version).catch(() => null);
          if (left) out(left);
          await temporal.close();
        }
      }
      out('worker stopped');
    });
}
