import type { Command } from 'commander';
import { loadEnvConfig } from '../../config/env.ts';
import { stackDown } from '../../stack/index.ts';

/** `autocoder down`: stop the servers `autocoder up` started from this state dir, and nothing else. */
export function register(program: Command): void {
  program
    .command('down')
    .description('Stop the local Temporal dev server and embedded Postgres that `autocoder up` started (data is kept)')
    .addHelpText(
      'after',
      `
Only processes recorded by \`autocoder up\` in AUTOCODER_HOME are stopped (matched by pid and start
time, never by name); external servers (TEMPORAL_ADDRESS, DATABASE_URL) are left alone. Workflow
history and the database stay on disk, so the next \`autocoder up\` continues where this left off.

Examples:
  $ autocoder down
  $ AUTOCODER_HOME=/tmp/ac autocoder down`,
    )
    .action(async () => {
      const cfg = loadEnvConfig(process.env);
      await stackDown(cfg, { log: (line) => process.stdout.write(`${line}\n`) });
    });
}
