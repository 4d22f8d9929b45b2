/**
 * Worktree isolation's cost (issue 18), side by side with --isolation shared in one invocation:
 *
 *   bin/node bench/merge-queue.ts            (npm run bench:merge)
 *   MERGE_BENCH_FEATURES=24 bin/node bench/merge-queue.ts
 *
 * One private stack (Temporal dev server + embedded Postgres), a worker in this process, the
 * simulate agent (each coding agent writes one file and passes after 200 ms) at concurrency 4,
 * as many chains of features as agents (a dependent waits for its dependency only, never for a
 * slot), and a trivial verify command (`true`).
 * Per mode, on a fresh git repository and database:
 *   - features landed per minute: features / (first agent start → last feature passing);
 *   - pass → dependent start: a dependency's passing agent exiting (agent_runs.ended_at) to its
 *     dependent's first agent starting (started_at), for the dependency that ended last, p50/p95.
 * Under worktree isolation the second includes commit, rebase, verify, fast-forward, worktree
 * removal, the land's database write and the run's wake-up (split at the land: passToLanded,
 * landedToDependentStart). Writes bench/results/merge-queue.json.
 */
import { freshBenchDatabase } from './bench-db.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectTemporal, startOrJoinRun } from '../src/client.ts';
import { importFeatures, type FeatureEntry } from '../src/db/import.ts';
import { upsertProject } from '../src/db/projects.ts';
import { privateStackConfig, stackDown, stackUp } from '../src/stack/index.ts';
import { createAutocoderWorker } from '../src/worker.ts';
import type { ProjectRunInput } from '../src/workflows/messages.ts';
import { percentile } from './timeline.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const FEATURES = Number(process.env.MERGE_BENCH_FEATURES ?? 24);
const CONCURRENCY = 4;

type Stack = Awaited<ReturnType<typeof stackUp>>;

/**
 * As many chains as agents (so a dependent never waits for a free slot, only for its dependency):
 * feature i+1 depends on feature i within a chain.
 */
function chains(n: number): FeatureEntry[] {
  const length = Math.ceil(n / CONCURRENCY);
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `feature ${i + 1}`,
    dependencies: i % length === 0 ? [] : [i],
  }));
}

async function runMode(mode: 'worktree' | 'shared', stack: Stack, home: string) {
  const { databaseUrl, database } = await freshBenchDatabase(stack.databaseUrl, `merge_${mode}`);
  const projectId = `merge-${mode}`;
  const projectDir = join(home, 'projects', projectId);
  mkdirSync(projectDir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], {
      cwd: projectDir,
      encoding: 'utf8',
    });
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(projectDir, 'README.md'), 'bench\n');
  git('add', '--all');
  git('commit', '--quiet', '-m', 'initial');
  await upsertProject(database.db, { id: projectId, dir: projectDir });
  await importFeatures(database.db, projectId, chains(FEATURES));

  const target = { address: stack.temporal.address, namespace: stack.temporal.namespace };
  const taskQueue = `bench-merge-${mode}-${process.pid}`;
  const worker = await createAutocoderWorker({
    temporal: target,
    taskQueue,
    databaseUrl,
    stateDir: home,
    maxConcurrentAgents: CONCURRENCY + 5,
  });
  const running = worker.run();
  const temporal = await connectTemporal(target);
  const input: ProjectRunInput = {
    projectId,
    projectDir,
    concurrency: CONCURRENCY,
    testingRatio: 0,
    yolo: true,
    agent: 'simulate',
    simulate: { default: { action: 'pass', delayMs: 200 } },
    pollIntervalMs: 5000,
    ...(mode === 'worktree'
      ? {
          isolation: {
            mode: 'worktree',
            branch: 'main',
            verifyCmd: ['true'],
            worktreeCopy: [],
            verifyTimeoutMs: 60_000,
            keepBranches: false,
            review: false,
          },
        }
      : {}),
  };
  const { handle } = await startOrJoinRun(temporal.client, taskQueue, input);
  const result = await handle.result();
  const runs = await database.db
    .selectFrom('agent_runs')
    .select(['feature_id', 'attempt', 'started_at', 'ended_at', 'outcome'])
    .where('project_id', '=', projectId)
    .where('kind', '=', 'coding')
    .execute();
  const passedAt = await database.db
    .selectFrom('features')
    .select(['id', 'updated_at'])
    .where('project_id', '=', projectId)
    .execute();
  const landedRows = await database.db
    .selectFrom('feature_events')
    .select(['feature_id', 'created_at'])
    .where('project_id', '=', projectId)
    .where('action', '=', 'landed')
    .execute();
  await temporal.close();
  await worker.shutdown();
  await running;
  await database.close();

  const started = new Map<number, number>();
  const ended = new Map<number, number>();
  for (const r of runs) {
    if (r.feature_id === null) continue;
    const s = r.started_at.getTime();
    if (!started.has(r.feature_id) || s < started.get(r.feature_id)!) started.set(r.feature_id, s);
    if (r.outcome === 'passed' && r.ended_at) ended.set(r.feature_id, r.ended_at.getTime());
  }
  const landed = new Map(landedRows.map((r) => [r.feature_id, r.created_at.getTime()]));
  const toLanded: number[] = [];
  const landedToStart: number[] = [];
  const latencies: number[] = [];
  for (const f of chains(FEATURES)) {
    const deps = f.dependencies ?? [];
    if (deps.length === 0) continue;
    const lastDep = Math.max(...deps.map((d) => ended.get(d) ?? NaN));
    const start = started.get(f.id);
    if (start !== undefined && Number.isFinite(lastDep)) latencies.push(start - lastDep);
    const dep = deps[0]!;
    const landedAt = landed.get(dep);
    if (landedAt !== undefined && ended.has(dep) && start !== undefined) {
      toLanded.push(landedAt - ended.get(dep)!);
      landedToStart.push(start - landedAt);
    }
  }
  const first = Math.min(...started.values());
  const last = Math.max(...passedAt.map((f) => f.updated_at.getTime()));
  const wallMs = last - first;
  const commits = Number(git('rev-list', '--count', 'main').trim());
  return {
    mode,
    outcome: result.outcome,
    features: FEATURES,
    concurrency: CONCURRENCY,
    wallMs,
    landedPerMinute: Math.round((FEATURES / (wallMs / 60_000)) * 10) / 10,
    passToDependentStartP50Ms: percentile(latencies, 0.5),
    passToDependentStartP95Ms: percentile(latencies, 0.95),
    edges: latencies.length,
    // Worktree only: the split of the above at the land's database write.
    passToLandedP50Ms: percentile(toLanded, 0.5),
    landedToDependentStartP50Ms: percentile(landedToStart, 0.5),
    commitsOnMain: commits,
  };
}

const home = mkdtempSync(join(tmpdir(), 'ac-bench-merge-'));
const config = await privateStackConfig(home);
const stack = await stackUp(config);
try {
  const load = loadavg()[0]!.toFixed(1);
  const rows = [];
  for (const mode of ['worktree', 'shared'] as const) {
    const row = await runMode(mode, stack, home);
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  const out = {
    command: 'bin/node bench/merge-queue.ts',
    date: new Date().toISOString(),
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load} at start`,
    rows,
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'merge-queue.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.table(rows);
} finally {
  await stackDown(config);
  rmSync(home, { recursive: true, force: true });
}
