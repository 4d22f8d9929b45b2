import type { Command } from 'commander';
import { loadEnvConfig } from '../../config/env.ts';
import { stackDoctor, type DoctorComponent } from '../../stack/index.ts';

/** `autocoder doctor`: each stack component's health, version, address, and the fix when down. */
export function register(program: Command): void {
  program
    .command('doctor')
    .description('Check the stack: Temporal CLI, Temporal server and UI, Postgres (exit 3 when something is down)')
    .option('--json', 'print the components as JSON')
    .addHelpText(
      'after',
      `
Starts nothing. Exit code 0 when every component is healthy, 3 when one is down (each down
component is printed with its fix).

Examples:
  $ autocoder doctor
  $ autocoder doctor --json | jq '.components[] | select(.health == "down")'
  $ DATABASE_URL=postgres://me:secret@db:5432/autocoder autocoder doctor`,
    )
    .action(async (opts: { json?: boolean }) => {
      const cfg = loadEnvConfig(process.env);
      const components = await stackDoctor(cfg);
      const ok = components.every((c) => c.health === 'ok');
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ok, home: cfg.home, components }, null, 2)}\n`);
      } else {
        for (const component of components) process.stdout.write(`${formatComponent(component)}\n`);
      }
      // 3 = infrastructure unreachable (the CLI's exit-code contract); not an exception, because
      // the report above already says what is down and how to fix it.
      if (!ok) process.exitCode = 3;
    });
}

/**
 * One line per component: "temporal: ok (127.0.0.1:7233) server 1.32.0 — pid 12" or
 * "temporal: down (127.0.0.1:7233) — fix: autocoder up".
 */
export function formatComponent(c: DoctorComponent): string {
  const where = c.address ? ` (${c.address})` : '';
  if (c.health === 'ok') {
    return `${c.name}: ok${where}${c.version ? ` ${c.version}` : ''}${c.detail ? ` — ${c.detail}` : ''}`;
  }
  return `${c.name}: down${where}${c.detail ? ` — ${c.detail}` : ''}${c.fix ? ` — fix: ${c.fix}` : ''}`;
}
