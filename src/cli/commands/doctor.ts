import type { Command } from 'commander';
import { loadEnvConfig, type EnvConfig } from '../../config/env.ts';
import { stackDoctor, type DoctorComponent } from '../../stack/index.ts';
import type { StuckRun } from '../../stuck-runs.ts';

/** What doctor found about runs: the stuck ones, or why they were not checked. */
export type DoctorRuns = { checked: true; stuck: (StuckRun & { line: string })[] } | { checked: false; reason: string };

/** `autocoder doctor`: each stack component's health, version, address, and the fix when down. */
export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check the stack: Temporal CLI, Temporal server and UI, Postgres (exit 3 when something is down), and list stuck runs (exit 1)',
    )
    .option('--json', 'print the components and stuck runs as JSON')
    .addHelpText(
      'after',
      `
Starts nothing. Exit code 0 when every component is healthy and no run is stuck, 3 when a
component is down (each down component is printed with its fix), 1 when a run is stuck: its
workflow tasks keep failing, above all a run started by an older version whose workflow code this
version cannot replay (each is printed with the remedy).

Examples:
  $ autocoder doctor
  $ autocoder doctor --json | jq '.components[] | select(.health == "down")'
  $ autocoder doctor --json | jq '.runs.stuck[].workflowId'
  $ DATABASE_URL=postgres://me:secret@db:5432/autocoder autocoder doctor`,
    )
    .action(async (opts: { json?: boolean }) => {
      const cfg = loadEnvConfig(process.env);
      const components = await stackDoctor(cfg);
      const healthy = components.every((c) => c.health === 'ok');
      const temporal = components.find((c) => c.name === 'temporal');
      const runs: DoctorRuns =
        temporal?.health === 'ok' && temporal.address
          ? await doctorRuns(cfg, temporal.address)
          : { checked: false, reason: 'Temporal is down' };
      const stuck = runs.checked ? runs.stuck : [];
      // Reported, not an exit code: runs with the simulate or command adapter need no sandbox.
      const { checkSandboxTools, formatSandboxCheck } = await import('../../guard/sandbox-check.ts');
      const sandbox = checkSandboxTools();
      if (opts.json) {
        const ok = healthy && stuck.length === 0;
        process.stdout.write(`${JSON.stringify({ ok, home: cfg.home, components, runs, sandbox }, null, 2)}\n`);
      } else {
        for (const component of components) process.stdout.write(`${formatComponent(component)}\n`);
        for (const line of formatRuns(runs)) process.stdout.write(`${line}\n`);
        process.stdout.write(`${formatSandboxCheck(sandbox)}\n`);
      }
      // 3 = infrastructure unreachable, 1 = a run is blocked (the CLI's exit-code contract); not an
      // exception, because the report above already says what is wrong and how to fix it.
      if (!healthy) process.exitCode = 3;
      else if (stuck.length > 0) process.exitCode = 1;
    });
}

/** Our running workflows whose tasks keep failing (src/stuck-runs.ts), on any task queue. */
export async function doctorRuns(cfg: EnvConfig, address: string): Promise<DoctorRuns> {
  const [{ connectTemporal }, { listStuckRuns, stuckRunLine }] = await Promise.all([
    import('../../client.ts'),
    import('../../stuck-runs.ts'),
  ]);
  let temporal;
  try {
    temporal = await connectTemporal({
      address,
      namespace: cfg.temporalNamespace,
      useEnvConfig: cfg.temporalAddress !== undefined,
    });
  } catch (err) {
    return { checked: false, reason: (err as Error).message };
  }
  try {
    const stuck = await listStuckRuns(temporal.client);
    return {
      checked: true,
      stuck: stuck.map((run) => ({
        ...run,
        line: stuckRunLine(run, `the code of the workers on task queue "${run.taskQueue}"`),
      })),
    };
  } catch (err) {
    // A server older than 1.28 has no TemporalReportedProblems search attribute.
    return { checked: false, reason: `listing runs failed: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    await temporal.close();
  }
}

/** "runs: ok (none stuck)", or "runs: 2 stuck" and one line per run with its remedy. */
export function formatRuns(runs: DoctorRuns): string[] {
  if (!runs.checked) return [`runs: not checked (${runs.reason})`];
  if (runs.stuck.length === 0) return ['runs: ok (none stuck)'];
  return [`runs: ${runs.stuck.length} stuck`, ...runs.stuck.map((run) => `  ${run.line}`)];
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
