/**
 * Batches, ours beside the original's (issue 24): chain20 and dag50 at concurrency 3, batch size 1
 * and 3, with zero-work agents on both sides, in one run. Goal: ours ≤ 0.25× the original's wall
 * time on chain20.
 *
 *   npm run bench:batches -- --original <dir> --original-python <python>
 *   npm run bench:batches -- chain20-c3 --batch-sizes 3     one scenario, one batch size
 *   npm run bench:batches                                   ours only (the original's side skipped)
 *
 * --original: a checkout of AutoCoder (upstream HEAD 69d9313 has --batch-size); --original-python:
 * a Python with its dependencies (bench/original.ts says which). --agent c|node|auto picks our
 * zero-work agent as bench/orchestration.ts does. Each scenario runs the original's side, then
 * ours, batch size by batch size, so both see the same hour's load.
 *
 * Writes bench/results/batches.json and bench/results/batches.md (only for a full run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateStackConfig, stackDown, stackUp } from '../src/stack/index.ts';
import { agentChoices, zeroWorkAgent, type AgentChoice, type ZeroWorkAgent } from './agents/build.ts';
import { runOurs } from './batches-ours.ts';
import { checkOriginal, originalCommit, runOriginal, type OriginalTarget, type SideResult } from './original.ts';
import { scenarios } from './scenarios.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(root, 'bench', 'results');
const defaultScenarios = ['chain20-c3', 'dag50-c3'];
const defaultBatchSizes = [1, 3];

type Row = {
  scenario: string;
  features: number;
  concurrency: number;
  batchSize: number;
  ours: SideResult;
  original: SideResult | null;
  /** ours.wallMs / original.wallMs */
  ratio: number | null;
  loadAverage: string;
};

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const args = process.argv.slice(2);
const valued = ['--original', '--original-python', '--agent', '--batch-sizes'] as const;
const value = (flag: (typeof valued)[number]): string | undefined => {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const v = args[at + 1];
  if (v === undefined || v.startsWith('--')) fail(`${flag}: a value is needed`);
  return v;
};
const known = new Set<string>([...valued, '--keep']);
for (const a of args.filter((a) => a.startsWith('--')))
  if (!known.has(a)) fail(`unknown flag ${a}; known: ${[...known].join(', ')}`);
const agentChoice = value('--agent') ?? 'auto';
if (!agentChoices.includes(agentChoice as AgentChoice))
  fail(`--agent: expected one of ${agentChoices.join(', ')}, got ${agentChoice}`);
const batchSizesText = value('--batch-sizes');
const batchSizes = batchSizesText ? batchSizesText.split(',').map(Number) : defaultBatchSizes;
if (batchSizes.some((b) => !Number.isInteger(b) || b < 1 || b > 3))
  fail(`--batch-sizes: expected batch sizes 1..3 separated by commas (e.g. 1,3), got ${batchSizesText}`);
const wanted = args.filter((a, i) => !a.startsWith('--') && !valued.includes(args[i - 1] as (typeof valued)[number]));
const selected = (wanted.length ? wanted : defaultScenarios).map(
  (name) =>
    scenarios.find((s) => s.name === name) ??
    fail(`unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(', ')}`),
);

const originalDir = value('--original');
const originalPython = value('--original-python');
let original: OriginalTarget | null = null;
if (originalDir || originalPython) {
  if (!originalDir || !originalPython)
    fail('--original and --original-python go together: the original checkout and a Python with its dependencies');
  original = { dir: resolve(originalDir), python: originalPython };
  const problem = checkOriginal(original);
  if (problem) fail(problem);
} else {
  console.log(
    "the original's side is skipped: give --original <AutoCoder checkout> and --original-python <python> to run it",
  );
}

let agent: ZeroWorkAgent;
try {
  agent = zeroWorkAgent(agentChoice as AgentChoice, join(root, '.autocoder-bench', 'agents'));
} catch (err) {
  fail((err as Error).message);
}
console.log(`zero-work agent: ${agent.note}`);

const home = join(root, '.autocoder-bench', `batches-${process.pid}`);
process.env.AUTOCODER_TOOLS_DIR ??= join(root, '.autocoder-test', 'tools');
const config = await privateStackConfig(home);
const stack = await stackUp(config, { log: (line) => console.log(`[bench stack] ${line}`) });
const loadAtStart = loadavg();
const rows: Row[] = [];
try {
  for (const scenario of selected) {
    for (const batchSize of batchSizes) {
      const features = scenario.features();
      const settings = { concurrency: scenario.concurrency, batchSize };
      const label = `${scenario.name} batch ${batchSize}`;
      const theirs = original
        ? await runOriginal(original, features, settings, join(home, 'original', `${scenario.name}-b${batchSize}`))
        : null;
      if (theirs) console.log(`${label} original: ${summary(theirs)}`);
      const ours = await runOurs(stack, home, agent, `${scenario.name}-b${batchSize}`, features, settings);
      console.log(`${label} ours: ${summary(ours)}`);
      rows.push({
        scenario: scenario.name,
        features: features.length,
        concurrency: scenario.concurrency,
        batchSize,
        ours,
        original: theirs,
        ratio: ours.wallMs !== null && theirs?.wallMs ? Math.round((ours.wallMs / theirs.wallMs) * 1000) / 1000 : null,
        loadAverage: loadavg()[0]!.toFixed(1),
      });
    }
  }
} finally {
  await stackDown(config);
  if (!args.includes('--keep')) rmSync(home, { recursive: true, force: true });
}

function summary(r: SideResult): string {
  return `${r.outcome}, wall ${r.wallMs ?? '-'} ms (process ${r.processMs} ms), ${r.agentsSpawned} agents, ${r.featuresPassing} passing, hand-off p50 ${r.handoffP50Ms ?? '-'} ms, dependency order ${r.dependencyOrderKept ? 'kept' : 'NOT kept'}${r.error ? `; ${r.error}` : ''}`;
}

const cell = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));
const table = [
  '| scenario | batch size | ours wall ms | ours agents | original wall ms | original agents | ours / original | ours hand-off p50 ms | original hand-off p50 ms | original process ms | load avg |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.batchSize} | ${r.ours.outcome === 'complete' ? cell(r.ours.wallMs) : `failed: ${r.ours.error}`} | ${cell(r.ours.agentsSpawned)} | ${r.original ? (r.original.outcome === 'complete' ? cell(r.original.wallMs) : `failed: ${r.original.error}`) : 'not run'} | ${cell(r.original?.agentsSpawned)} | ${r.ratio === null ? '-' : `${r.ratio}×`} | ${cell(r.ours.handoffP50Ms)} | ${cell(r.original?.handoffP50Ms)} | ${cell(r.original?.processMs)} | ${r.loadAverage} |`,
  ),
];
console.log(`\n${table.join('\n')}`);
const goal = rows.find((r) => r.scenario.startsWith('chain20') && r.ratio !== null && r.batchSize === 3);
if (goal) console.log(`\nchain20 at batch 3: ours / original = ${goal.ratio} (goal ≤ 0.25)`);

if (wanted.length === 0 && !batchSizesText) {
  const commit = (cwd: string) => {
    try {
      return execFileSync('git', ['-C', cwd, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  const meta = {
    date: new Date().toISOString(),
    commit: commit(root),
    original: original ? { dir: original.dir, commit: originalCommit(original.dir) } : null,
    agent: agent.note,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    loadAverageAtStart: load(loadAtStart),
    loadAverageAtEnd: load(loadavg()),
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'batches.json'), `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  writeFileSync(
    join(resultsDir, 'batches.md'),
    [
      '# Batches: ours beside the original',
      '',
      `${meta.date}; commit ${meta.commit}; the original: ${original ? `${meta.original?.commit ?? 'a checkout'} (parallel_orchestrator.py run for real)` : 'not run'}; ${meta.machine}; load average (1 / 5 / 15 min) ${meta.loadAverageAtStart} at the start, ${meta.loadAverageAtEnd} at the end.`,
      '',
      'Command: `npm run bench:batches -- --original <AutoCoder checkout> --original-python <python with its dependencies>`.',
      `Zero-work agents on both sides: ours ${agent.note} through the \`command\` adapter; the original's bench/original/agent/autonomous_agent_demo.py (Python, standard library), spawned by its orchestrator as it spawns its own agent. Concurrency 3, no testing agents, the original with --yolo. Wall time: the first agent start to the last feature passing.`,
      '',
      ...table,
      '',
      "`ours / original`: the wall times' ratio at the same batch size (issue 24's goal: ≤ 0.25 on chain20). `hand-off p50`: the median, over agents whose first feature has dependencies, of its last dependency passing → the agent starting. `original process ms`: the original's orchestrator process from start to exit, its Python start and imports included (issue 24's 11.0 s → 4.2 s for chain20 are figures of this kind).",
      '',
    ].join('\n'),
  );
}
