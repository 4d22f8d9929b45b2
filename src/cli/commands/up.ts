import type { Command } from 'commander';
import { loadEnvConfig } from '../../config/env.ts';
import { stackUp } from '../../stack/index.ts';

/** `autocoder up`: start (or reuse) the local Temporal dev server and embedded Postgres. */
export function register(program: Command): void {
  program
    .command('up')
    .description(
      'Start the local stack (Temporal dev server with UI, embedded Postgres) under AUTOCODER_HOME; reuses what already runs',
    )
    .option('--temporal-port <port>', 'Temporal frontend (gRPC) port [env AUTOCODER_TEMPORAL_PORT, default 7233]')
    .option('--ui-port <port>', 'Temporal web UI port [env AUTOCODER_TEMPORAL_UI_PORT, default 8233]')
    .option('--pg-port <port>', 'embedded Postgres port [env AUTOCODER_PG_PORT, default 54329]')
    .addHelpText(
      'after',
      `
With TEMPORAL_ADDRESS set no Temporal server is started (it is checked); with DATABASE_URL set no
Postgres is started (it is checked). The servers keep running after this command exits; stop them
with \`autocoder down\`. State (databases, logs, pid files) lives in AUTOCODER_HOME (~/.autocoder).

Examples:
  $ autocoder up
  $ autocoder up --temporal-port 7300 --ui-port 8300 --pg-port 54400
  $ AUTOCODER_HOME=/tmp/ac autocoder up
  $ DATABASE_URL=postgres://me:secret@db:5432/autocoder autocoder up   # only Temporal is started`,
    )
    .action(async (opts: { temporalPort?: string; uiPort?: string; pgPort?: string }) => {
      const cfg = loadEnvConfig(process.env, {
        temporalPort: opts.temporalPort,
        temporalUiPort: opts.uiPort,
        pgPort: opts.pgPort,
      });
      const info = await stackUp(cfg, { log: (line) => process.stdout.write(`${line}\n`) });
      const postgresAt = new URL(info.databaseUrl).host;
      process.stdout.write(
        `stack is up: temporal ${info.temporal.address}` +
          (info.temporal.uiUrl ? `, UI ${info.temporal.uiUrl}` : '') +
          `, postgres ${postgresAt} (state ${cfg.home})\n`,
      );
    });
}
