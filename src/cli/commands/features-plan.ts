/**
 * `autocoder features plan FILE [--json]`: what a run would start first, without a database.
 * Cycles and missing dependencies are findings (exit 0); a file that breaks the format is bad
 * input (exit 2, every problem listed).
 */
import type { Command } from 'commander';
import { escapeForTerminal, loadFeatureFile, toGraphFeatures, type FeatureFileEntry } from '../../features/index.ts';
import {
  blockedFeatures,
  compareForScheduling,
  dependencyCycles,
  describeBlockReason,
  formatCycle,
  planFeatures,
  type FeaturePlan,
} from '../../graph/index.ts';
import { featuresCommand } from './features-group.ts';

export function register(program: Command): void {
  featuresCommand(program)
    .command('plan')
    .description(
      'Show the scheduling plan of a feature file: ready order, scores, cycles, missing dependencies (no database needed)',
    )
    .argument('<file>', 'feature file: {"features": [...]} or a bare JSON list (see schema/feature-file.schema.json)')
    .option('--json', 'print {"ready":[...],"scores":{...},"cycles":[...],"missing":{...}} on one line')
    .addHelpText(
      'after',
      `
Examples:
  autocoder features plan examples/todo-app/features.json
  autocoder features plan features.json --json | jq '.ready[:3]'

The order is AutoCoder's: scheduling score (unblocks more, closer to the roots, priority 0..10)
descending, then priority, then id. Exit 0 even with cycles or missing dependencies (they are
reported); exit 2 when the file breaks the format, with every problem and its path.`,
    )
    .action(async (file: string, options: { json?: boolean }) => {
      const entries = await loadFeatureFile(file);
      const plan = planFeatures(toGraphFeatures(entries));
      process.stdout.write(options.json ? `${JSON.stringify(plan)}\n` : renderPlan(file, entries, plan));
    });
}

/** The readable plan: a summary line, a table of features not yet passing, then the findings. */
export function renderPlan(file: string, entries: readonly FeatureFileEntry[], plan: FeaturePlan): string {
  const features = toGraphFeatures(entries);
  const byId = new Map(entries.map((e) => [e.id, e]));
  const passing = new Set(entries.filter((e) => e.passes).map((e) => e.id));
  const blocked = blockedFeatures(features, new Set());
  const blockedIds = new Set(blocked.map((b) => b.id));
  const readyOrder = new Map(plan.ready.map((id, k) => [id, k + 1]));
  const scores = new Map(Object.entries(plan.scores).map(([id, score]) => [Number(id), score]));
  const compare = compareForScheduling(scores);
  const waiting = features.filter((f) => !f.passes && !readyOrder.has(f.id)).sort(compare);
  const rows = [
    ...plan.ready.map((id) => byId.get(id) as FeatureFileEntry),
    ...waiting.map((f) => byId.get(f.id) as FeatureFileEntry),
  ];

  const stateOf = (e: FeatureFileEntry): string =>
    readyOrder.has(e.id) ? 'ready' : e.in_progress ? 'running' : blockedIds.has(e.id) ? 'blocked' : 'waiting';
  const blockedBy = (e: FeatureFileEntry): string =>
    (e.dependencies ?? [])
      .filter((d) => !passing.has(d))
      .map((d) => (byId.has(d) ? `#${d}` : `#${d} (missing)`))
      .join(', ');

  const inProgress = entries.filter((e) => e.in_progress && !e.passes).length;
  const lines = [
    `${escapeForTerminal(file)}: ${count(entries.length, 'feature')}, ${passing.size} passing, ${inProgress} in progress, ${plan.ready.length} ready, ${blocked.length} blocked`,
  ];
  if (rows.length > 0) {
    lines.push('');
    const table = [
      ['order', 'id', 'score', 'priority', 'state', 'name', 'blocked by'],
      ...rows.map((e) => [
        String(readyOrder.get(e.id) ?? '-'),
        String(e.id),
        (plan.scores[String(e.id)] as number).toFixed(2),
        String(e.priority),
        stateOf(e),
        clip(escapeForTerminal(e.name), 48),
        blockedBy(e),
      ]),
    ];
    lines.push(...formatTable(table, new Set([0, 1, 2, 3])));
  } else if (entries.length > 0) {
    lines.push('', 'every feature passes: nothing left to schedule');
  }
  const cycles = dependencyCycles(features);
  if (cycles.length > 0)
    lines.push('', 'cycles (these features wait for each other):', ...cycles.map((c) => `  ${formatCycle(c)}`));
  const missing = Object.entries(plan.missing);
  if (missing.length > 0) {
    lines.push('', 'missing dependencies:');
    for (const [id, deps] of missing) {
      const unique = [...new Set(deps)];
      lines.push(
        `  #${id} depends on ${unique.map((d) => `#${d}`).join(', ')}, which ${unique.length === 1 ? 'names' : 'name'} no feature`,
      );
    }
  }
  if (blocked.length > 0) {
    lines.push('', 'blocked (can never start until the file changes):');
    for (const b of blocked) lines.push(`  ${describeBlockReason(b.id, b.reason)}`);
  }
  return `${lines.join('\n')}\n`;
}

function formatTable(rows: readonly string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = (rows[0] as string[]).map((_, column) =>
    Math.max(...rows.map((row) => (row[column] as string).length)),
  );
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] as number;
        return column === row.length - 1 ? cell : rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
