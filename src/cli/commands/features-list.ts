/** `autocoder features list --project ID [--state S] [--json]`: features with state and why they wait. */
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import type { Feature } from '../../db/features.ts';
import { DEFAULT_MAX_RETRIES, FEATURE_STATES, type FeatureState } from '../../db/states.ts';
import { escapeForTerminal } from '../../features/index.ts';
import { blockedFeatures, describeBlockReason } from '../../graph/index.ts';
import { featuresCommand } from './features-group.ts';

type ListOptions = { project: string; state?: string; json?: boolean; maxRetries: string };

export function register(program: Command): void {
  featuresCommand(program)
    .command('list')
    .description(
      'List the features of a project with their state (pending, running, passing, failed, blocked) and what they wait on',
    )
    .requiredOption('--project <id>', 'project id')
    .option('--state <state>', `only features in this state: ${FEATURE_STATES.join('|')}`)
    .option('--max-retries <n>', 'failures after which a feature counts as failed', String(DEFAULT_MAX_RETRIES))
    .option('--json', 'print a JSON list (one object per feature, with state and blockedBy)')
    .addHelpText(
      'after',
      `
Examples:
  autocoder features list --project todo-app
  autocoder features list --project todo-app --state blocked
  autocoder features list --project todo-app --json | jq '.[] | select(.state == "failed")'

States: pending = ready to start; running = an agent has it; blocked = waits on a dependency
that does not pass yet (or never can: missing, failed, or in a cycle, which is said).`,
    )
    .action(async (options: ListOptions) => {
      const state = parseState(options.state);
      const maxRetries = parseMaxRetries(options.maxRetries);
      const [{ connectForCli }, { listFeatures }, { requireProject }] = await Promise.all([
        import('../../db/connect-cli.ts'),
        import('../../db/features.ts'),
        import('../../db/projects.ts'),
      ]);
      const { db, close } = await connectForCli();
      try {
        await requireProject(db, options.project);
        const all = await listFeatures(db, options.project, { maxRetries });
        const reasons = blockReasons(all);
        const shown = state === undefined ? all : all.filter((f) => f.state === state);
        if (options.json) {
          const out = shown.map((f) => ({ ...featureJson(f), blockedBy: reasons.get(f.id) ?? null }));
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        process.stdout.write(renderList(shown, reasons, maxRetries, all.length));
      } finally {
        await close();
      }
    });
}

/** Why each blocked feature waits: "can never pass" reasons from src/graph, else what it waits on. */
export function blockReasons(features: readonly Feature[]): Map<number, string> {
  const givenUp = new Set(features.filter((f) => f.state === 'failed').map((f) => f.id));
  const never = new Map(blockedFeatures(features, givenUp).map((b) => [b.id, describeBlockReason(b.id, b.reason)]));
  const byId = new Map(features.map((f) => [f.id, f]));
  const reasons = new Map<number, string>();
  for (const f of features) {
    if (f.state !== 'blocked') continue;
    const permanent = never.get(f.id);
    if (permanent) {
      reasons.set(f.id, permanent);
      continue;
    }
    const waits = f.waitingOn.map((id) => `#${id} (${byId.get(id)?.state ?? 'missing'})`);
    reasons.set(f.id, `waiting on ${waits.join(', ')}`);
  }
  return reasons;
}

export function featureJson(f: Feature) {
  return {
    id: f.id,
    name: f.name,
    category: f.category,
    priority: f.priority,
    state: f.state,
    score: f.score,
    dependencies: f.dependencies,
    waitingOn: f.waitingOn,
    missingDependencies: f.missingDependencies,
    passes: f.passes,
    inProgress: f.inProgress,
    testingInProgress: f.testingInProgress,
    failureCount: f.failureCount,
    lastError: f.lastError,
    attempts: f.attempts,
    claimedBy: f.claimedBy,
    claimedAt: f.claimedAt,
    lastTestedAt: f.lastTestedAt,
  };
}

function renderList(
  features: readonly Feature[],
  reasons: ReadonlyMap<number, string>,
  maxRetries: number,
  total: number,
): string {
  if (features.length === 0)
    return total === 0 ? 'no features (import some with `autocoder features import`)\n' : 'no features in that state\n';
  const detail = (f: Feature): string => {
    switch (f.state) {
      case 'blocked':
        return reasons.get(f.id) ?? '';
      case 'failed':
        return `failed ${f.failureCount}/${maxRetries}: ${oneLine(f.lastError ?? '')}`;
      case 'running':
        return f.claimedBy ? `by ${f.claimedBy}` : 'in progress (no live owner: resumed first)';
      case 'pending':
        return f.failureCount > 0
          ? `ready; ${f.failureCount} failed attempt(s): ${oneLine(f.lastError ?? '')}`
          : 'ready';
      case 'passing':
        return f.testingInProgress ? 'being re-tested' : '';
      case 'merging':
        return 'passed by its agent; waiting for the merge queue to land it';
      case 'needs_human_input':
        return 'waiting for a person (autocoder inbox)';
    }
  };
  const rows = features.map((f) => [
    String(f.id),
    f.state,
    String(f.priority),
    escapeForTerminal(f.name),
    escapeForTerminal(detail(f)),
  ]);
  const header = ['ID', 'STATE', 'PRIO', 'NAME', 'DETAIL'];
  const widths = header.map((h, i) =>
    Math.min(i === 3 ? 40 : 200, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : cut(c, widths[i] ?? 0).padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

function oneLine(text: string): string {
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return cut(first.trim(), 100);
}

export function parseState(value: string | undefined): FeatureState | undefined {
  if (value === undefined) return undefined;
  if ((FEATURE_STATES as readonly string[]).includes(value)) return value as FeatureState;
  throw new UserError(`--state must be one of ${FEATURE_STATES.join(', ')}, got ${showValue(value)}`, {
    hint: 'e.g. --state blocked',
  });
}

export function parseMaxRetries(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new UserError(`--max-retries must be an integer 1..1000, got ${showValue(value)}`, {
      hint: 'the run default is 3',
    });
  }
  return n;
}
