/**
 * The original's side of bench/batches.ts: AutoCoder's own parallel_orchestrator.py, run for real
 * with zero-work agents (bench/original/). Nothing of the original is changed or copied: run.py
 * imports its module from the directory given with --original and points the directory it takes
 * its agent script from at bench/original/agent, whose autonomous_agent_demo.py marks its batch
 * passing as the original's MCP tool feature_mark_passing does and exits.
 *
 * The original's dependencies (SQLAlchemy, python-dotenv, psutil) come from a Python of the
 * caller's choosing (--original-python), e.g. a venv outside this repository.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeatureEntry } from '../src/db/import.ts';
import { percentile } from './timeline.ts';

const here = fileURLToPath(new URL('original/', import.meta.url));

export type OriginalTarget = { dir: string; python: string };

export type SideResult = {
  outcome: 'complete' | 'failed';
  /** First agent start to the last feature passing (as the agents recorded them). */
  wallMs: number | null;
  /** The orchestrator process, start to exit (the original) or the run's start to its result (ours). */
  processMs: number;
  agentsSpawned: number;
  featuresPassing: number;
  /** Every agent started after its features' dependencies outside its batch had passed. */
  dependencyOrderKept: boolean;
  /** Median, over agents whose first feature has dependencies, of its last dependency passing → the agent starting. */
  handoffP50Ms: number | null;
  error?: string;
};

/** The median hand-off: a first feature's last dependency passing → its agent starting (ms). */
export function handoffP50(agents: { start: number; firstDeps: readonly number[] }[], passedAt: Map<number, number>) {
  const gaps = agents
    .filter((a) => a.firstDeps.length > 0)
    .map((a) => a.start - Math.max(...a.firstDeps.map((d) => passedAt.get(d) ?? Infinity)));
  return gaps.length && gaps.every(Number.isFinite) ? Math.round(percentile(gaps, 0.5)!) : null;
}

type AgentLine = { kind: string; ids: number[]; started: number; passed: [number, number][]; ended: number };

/** A clear message for --original and --original-python, or null when both look usable. */
export function checkOriginal(target: OriginalTarget): string | null {
  if (!existsSync(join(target.dir, 'parallel_orchestrator.py')))
    return `--original: ${target.dir} has no parallel_orchestrator.py; give a checkout of AutoCoder (e.g. git --git-dir=<mirror> archive 69d9313 | tar -x -C <dir>)`;
  const probe = spawnSync(target.python, ['-c', 'import sqlalchemy, dotenv, psutil'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    return `--original-python: ${target.python} cannot import the original's dependencies (${(probe.error?.message ?? probe.stderr).trim().split('\n').at(-1)}); make a venv outside the repository: python3 -m venv <dir> && <dir>/bin/pip install 'sqlalchemy>=2' python-dotenv psutil`;
  return null;
}

/** The original's commit when --original is a git checkout, else null. */
export function originalCommit(dir: string): string | null {
  const rev = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return rev.status === 0 ? rev.stdout.trim() : null;
}

export async function runOriginal(
  target: OriginalTarget,
  features: FeatureEntry[],
  settings: { concurrency: number; batchSize: number },
  scratch: string,
): Promise<SideResult> {
  const projectDir = join(scratch, 'project');
  const tmp = join(scratch, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const seeded = spawnSync(target.python, [join(here, 'seed.py'), target.dir, projectDir], {
    input: JSON.stringify(features.map((f) => ({ ...f, category: f.category ?? '' }))),
    encoding: 'utf8',
  });
  if (seeded.status !== 0) throw new Error(`the original's seed failed: ${seeded.stderr.trim()}`);
  const log = join(scratch, 'agents.jsonl');
  const args = [
    join(here, 'run.py'),
    target.dir,
    join(scratch, 'orchestrator_debug.log'),
    '--',
    '--project-dir',
    projectDir,
    '--max-concurrency',
    String(settings.concurrency),
    '--yolo',
    '--testing-agent-ratio',
    '0',
    '--batch-size',
    String(settings.batchSize),
  ];
  const started = performance.now();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(target.python, args, {
      cwd: scratch,
      // TMPDIR: the original's inter-session cleanup deletes stale files in the temp dir; keep it to ours.
      env: {
        ...process.env,
        TMPDIR: tmp,
        AUTOCODER_BENCH_ORIGINAL_DB: seeded.stdout.trim(),
        AUTOCODER_BENCH_ORIGINAL_LOG: log,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      output += '\n(bench: timed out after 300 s, stopped)';
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, 300_000);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, output });
    });
  });
  const processMs = Math.round(performance.now() - started);
  const lines: AgentLine[] = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AgentLine)
    : [];
  const coding = lines.filter((l) => l.kind === 'coding');
  const passedAt = new Map(coding.flatMap((l) => l.passed));
  const agentOf = new Map(coding.flatMap((l) => l.ids.map((id) => [id, l] as const)));
  const dependencyOrderKept = features.every((f) => {
    const agent = agentOf.get(f.id);
    const passed = passedAt.get(f.id);
    if (!agent || passed === undefined) return false;
    return (f.dependencies ?? []).every((d) => {
      const dep = passedAt.get(d);
      if (dep === undefined) return false;
      return agentOf.get(d) === agent ? dep <= passed : dep <= agent.started;
    });
  });
  const byId = new Map(features.map((f) => [f.id, f]));
  const complete = code === 0 && passedAt.size === features.length;
  const wallMs = coding.length
    ? Math.round((Math.max(...passedAt.values()) - Math.min(...coding.map((l) => l.started))) * 1000)
    : null;
  return {
    outcome: complete ? 'complete' : 'failed',
    wallMs,
    processMs,
    agentsSpawned: coding.length,
    featuresPassing: passedAt.size,
    dependencyOrderKept,
    handoffP50Ms: handoffP50(
      coding.map((l) => ({ start: l.started * 1000, firstDeps: byId.get(l.ids[0]!)?.dependencies ?? [] })),
      new Map([...passedAt].map(([id, at]) => [id, at * 1000])),
    ),
    ...(complete ? {} : { error: `exit ${code}; ${output.trim().split('\n').slice(-5).join(' | ')}` }),
  };
}
