/** `autocoder ui`: the web dashboard (src/ui), with a worker in this process unless --no-worker. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadEnvConfig, uiTokenSchema, workerVersionOf } from '../../config/env.ts';
import { UserError, showValue } from '../../errors.ts';
import { intFlag, out } from '../options.ts';

const hostSchema = z.string().regex(/^[A-Za-z0-9.:[\]-]{1,255}$/, 'must be an IP address or a host name');

type UiFlags = { port: number; host: string; open: boolean; worker: boolean; token?: string };

/**
 * The token from --token, else AUTOCODER_UI_TOKEN (the environment or the config file, already
 * validated by src/config/env.ts); required off loopback.
 */
export function resolveAccess(
  flags: Pick<UiFlags, 'host' | 'token'>,
  configured: string | undefined,
  isLoopback: (host: string) => boolean,
): string | null {
  const host = hostSchema.safeParse(flags.host);
  if (!host.success)
    throw new UserError(`--host ${host.error.issues[0]!.message}, got ${showValue(flags.host)}`, {
      hint: 'for example --host 127.0.0.1 or --host 0.0.0.0 (with a token)',
    });
  const raw = flags.token ?? configured;
  if (raw === undefined) {
    if (isLoopback(flags.host)) return null;
    throw new UserError(`--host ${flags.host} is not a loopback address, so the dashboard needs a token`, {
      hint: 'give one with --token or AUTOCODER_UI_TOKEN (e.g. AUTOCODER_UI_TOKEN=$(openssl rand -hex 24)), or drop --host',
    });
  }
  const token = uiTokenSchema.safeParse(raw);
  // The value is a secret: say what is wrong with it, never what it is.
  if (!token.success)
    throw new UserError(`--token ${token.error.issues[0]!.message}`, {
      hint: 'use a long random value, e.g. $(openssl rand -hex 24)',
    });
  return token.data;
}

export function register(program: Command): void {
  program
    .command('ui')
    .description('Serve the web dashboard: projects, board, dependency graph, live agent logs and every control')
    .option('--port <n>', 'port to listen on', intFlag('--port', 0, 65535), 8765)
    .option('--host <address>', 'address to listen on (any but loopback needs a token)', '127.0.0.1')
    .option('--token <secret>', 'token required on every request (default: AUTOCODER_UI_TOKEN)')
    .option('--open', 'open the dashboard in the default browser', false)
    .option('--no-worker', 'host no worker here (another `autocoder worker` runs the runs)')
    .addHelpText(
      'after',
      `
On 127.0.0.1 (the default) the dashboard needs no token. Any other --host needs one (--token or
AUTOCODER_UI_TOKEN); the printed link carries it once (?token=) and the page keeps it in an
HttpOnly cookie. Controls send the same signals and updates as the CLI.

Examples:
  autocoder ui
  autocoder ui --port 9000 --open
  AUTOCODER_UI_TOKEN=$(openssl rand -hex 24) autocoder ui --host 0.0.0.0`,
    )
    .action(async (flags: UiFlags) => {
      const { isLoopbackHost } = await import('../../ui/security.ts');
      const token = resolveAccess(flags, loadEnvConfig(process.env).uiToken, isLoopbackHost);
      const [{ openRuntime }, { startUiServer }, { createAutocoderWorker }] = await Promise.all([
        import('../runtime.ts'),
        import('../../ui/server.ts'),
        import('../../worker.ts'),
      ]);
      const rt = await openRuntime({ log: out, start: true });
      const worker = flags.worker
        ? await createAutocoderWorker({
            temporal: rt.temporalTarget,
            taskQueue: rt.config.taskQueue,
            databaseUrl: rt.stack.databaseUrl,
            stateDir: rt.config.home,
            hostId: rt.config.hostId,
            workflowStackTraces: rt.config.workflowStackTraces,
            timeZone: rt.config.timeZone,
            installationDailyBudgetUsd: rt.config.dailyBudgetUsd,
            // AUTOCODER_DEPLOYMENT/AUTOCODER_BUILD_ID version this worker as they do `autocoder worker`.
            version: workerVersionOf(rt.config),
          })
        : undefined;
      const workerDone = worker?.run();
      const server = await startUiServer({
        db: rt.database.db,
        client: rt.temporal.client,
        namespace: rt.temporalTarget.namespace,
        taskQueue: rt.config.taskQueue,
        homeHost: rt.config.hostId,
        temporalUiUrl: rt.temporalTarget.uiUrl ?? null,
        access: { token, host: flags.host, port: flags.port },
      });
      const link = token === null ? server.url : `${server.url}?token=${encodeURIComponent(token)}`;
      out(`dashboard: ${link}`);
      if (rt.temporalTarget.uiUrl) out(`Temporal UI: ${rt.temporalTarget.uiUrl}`);
      out(worker ? `worker polling task queue "${rt.config.taskQueue}"` : 'no worker here (--no-worker)');
      if (flags.open) {
        const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
        spawn(opener, [link], { stdio: 'ignore', detached: true })
          .on('error', () => out(`could not run ${opener}: open the link yourself`))
          .unref();
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          out(`${signal}: stopping the dashboard${worker ? ' and the worker (running agents stay alive)' : ''}`);
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      if (worker) {
        await worker.shutdown();
        await workerDone;
      }
      await rt.close();
    });
}
