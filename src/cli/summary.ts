/** The end-of-run summary: one row per feature, the outcome, and where to look in the UI. */
import type { Kysely } from 'kysely';
import { listFeatures } from '../db/features.ts';
import type { Database } from '../db/tables.ts';
import type { ProjectRunResult } from '../workflows/messages.ts';
import { escapeForTerminal } from '../features/terminal.ts';

export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export async function printSummary(
  db: Kysely<Database>,
  projectId: string,
  result: ProjectRunResult,
  uiUrl: string | null,
  out: (line: string) => void,
): Promise<void> {
  const features = await listFeatures(db, projectId, {});
  const rows = features.map((f) => [
    `#${f.id}`,
    escapeForTerminal(f.name).slice(0, 48),
    f.state,
    String(f.attempts),
    f.failureCount ? String(f.failureCount) : '',
  ]);
  out('');
  for (const line of formatTable(['id', 'feature', 'state', 'attempts', 'failures'], rows)) out(line);
  out('');
  const c = result.counts;
  out(`outcome: ${result.outcome} — ${escapeForTerminal(result.message)}`);
  out(
    `features: ${c.passing}/${c.total} passing, ${c.failed} failed, ${c.blocked} blocked; ${result.agentsStarted} agent runs in ${(result.durationMs / 1000).toFixed(1)} s`,
  );
  for (const b of result.blocked.slice(0, 10)) out(`  blocked: ${escapeForTerminal(b.reason)}`);
  if (uiUrl) out(`Temporal UI: ${uiUrl}`);
  // The dashboard's default address; `autocoder ui` serves it (loopback needs no token).
  out(`Dashboard: http://127.0.0.1:8765/#/p/${projectId} (run \`autocoder ui\`)`);
}
