/**
 * Orchestration benchmarks (issue 10): zero-work agents through the real workflow, worker,
 * Temporal dev server and Postgres, so every figure includes the whole path an agent takes.
 *
 *   npm run bench                                   every scenario, then bench/results/README.md
 *   npm run bench -- chain20-c3                     one scenario (names below)
 *   npm run bench -- --agent node                   Node zero-work agents instead of C ones
 *   npm run bench -- dag1000-c50 --hosts 2          agents placed over 2 host queues (issue 23;
 *                                                   results as <scenario>-h2.json)
 *
 * The npm script runs Node with the worker's V8 flags (those of bin/autocoder): the worker runs
 * in this process.
 *
 * Per scenario: wall time from the first agent start to the last feature passing, per-feature
 * overhead (wall / features), dependency-to-start latency p50/p95 (a dependency's agent process
 * exiting to its dependant's agent process starting, both as its launcher recorded them), agents
 * spawned, worker peak RSS over its idle RSS, history events and continue-as-new count, Postgres
 * transactions per feature, and CPU per feature of the worker, the Temporal server, Postgres and the
 * agents (bench/cpu.ts: on 2 cores a run is CPU-bound, so these say where time goes). Writes
 * bench/results/<scenario>.json.
 */
import { freshBenchDatabase } from './bench-db.ts';
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { connectTemporal, startOrJoinRun } from '../src/client.ts';
import type { createDb } from '../src/db/create-db.ts';
import { importFeatures, type FeatureEntry } from '../src/db/import.ts';
import { upsertProject } from '../src/db/projects.ts';
import { privateStackConfig, stackDown, stackUp } from '../src/stack/index.ts';
import { createAutocoderWorker } from '../src/worker.ts';
import { logFileFor } from '../src/activities/supervise.ts';
import { readStatusFile, statusPathFor } from '../src/supervisor/index.ts';
import { spawnHelperPid } from '../src/supervisor/spawn-helper.ts';
import { agentChoices, zeroWorkAgent, type AgentChoice, type ZeroWorkAgent } from './agents/build.ts';
import { cpuPerFeature, cpuSnapshot } from './cpu.ts';
import { scenarios, type Scenario } from './scenarios.ts';
import { percentile, segments, stepTimeline, type StepTimeline } from './timeline.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(root, 'bench', 'results');

type Result = Record<string, number | string | null>;

type Stack = Awaited<ReturnType<typeof stackUp>>;

async function runScenario(
  scenario: Scenario,
  stack: Stack,
  home: string,
  agent: ZeroWorkAgent,
  hosts: number,
): Promise<Result> {
  const { dbName, databaseUrl, database } = await freshBenchDatabase(stack.databaseUrl, scenario.name);
  const projectId = scenario.name;
  const projectDir = join(home, 'projects', projectId);
  mkdirSync(projectDir, { recursive: true });
  await upsertProject(database.db, { id: projectId, dir: projectDir });
  const features: FeatureEntry[] = scenario.features();
  await importFeatures(database.db, projectId, features);

  const temporalTarget = { address: stack.temporal.address, namespace: stack.temporal.namespace };
  const taskQueue = `bench-${projectId}-${process.pid}`;
  // `--hosts N`: N workers of distinct host ids in this process, each with its share of the
  // slots, so agent runs are placed over N host queues (one state dir: one machine).
  const workers = await Promise.all(
    Array.from({ length: hosts }, (_, i) =>
      createAutocoderWorker({
        temporal: temporalTarget,
        taskQueue,
        databaseUrl,
        stateDir: home,
        maxConcurrentAgents: Math.ceil((scenario.concurrency + 5) / hosts),
        ...(hosts > 1 ? { hostId: `bench-host-${i + 1}` } : {}),
      }),
    ),
  );
  const running = Promise.all(workers.map((w) => w.run()));
  const temporal = await connectTemporal(temporalTarget);
  const runSettings = {
    concurrency: scenario.concurrency,
    maxConcurrency: Math.max(5, scenario.concurrency),
    maxAgents: scenario.concurrency + 1,
    testingRatio: 0,
    yolo: true,
    agent: 'command' as const,
    agentCmd: agent.argv,
    pollIntervalMs: 5000,
  };
  // Warm up: one single-feature run, so the worker has loaded its workflow bundle and opened its
  // connections; "idle" is this worker ready and waiting, as it is between runs.
  await upsertProject(database.db, { id: `${projectId}-warmup`, dir: projectDir });
  await importFeatures(database.db, `${projectId}-warmup`, [{ id: 1, name: 'warm-up' }]);
  await (
    await startOrJoinRun(temporal.client, taskQueue, { projectId: `${projectId}-warmup`, projectDir, ...runSettings })
  ).handle.result();
  await new Promise((r) => setTimeout(r, 1000));
  const idleRss = process.memoryUsage().rss;
  let peakRss = idleRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const cpuBefore = process.cpuUsage();
  const xactBefore = await transactions(database.db, dbName);
  const stackPids = { temporal: stack.temporal.pid, postgres: stack.postgres.pid, spawnHelper: spawnHelperPid() };
  const componentsBefore = cpuSnapshot(stackPids);

  const { handle } = await startOrJoinRun(temporal.client, taskQueue, { projectId, projectDir, ...runSettings });
  const result = await handle.result();
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuBefore);
  const componentsAfter = cpuSnapshot(stackPids);
  const xactAfter = await transactions(database.db, dbName);

  // Timeline from the launchers' status files: when each agent process started and exited.
  const runs = await database.db
    .selectFrom('agent_runs')
    .select(['id', 'feature_id', 'kind', 'outcome', 'error', 'started_at', 'ended_at'])
    .where('project_id', '=', projectId)
    .execute();
  // Agent runs that did not pass (each one a retried attempt), and features that two runs held at once.
  const notPassed = runs.filter((r) => r.outcome !== 'passed');
  const byFeature = new Map<number | null, typeof runs>();
  for (const r of runs)
    if (r.kind === 'coding') byFeature.set(r.feature_id, [...(byFeature.get(r.feature_id) ?? []), r]);
  const overlapping = [...byFeature.values()].filter((rs) =>
    rs.some((a) =>
      rs.some((b) => a !== b && a.started_at < (b.ended_at ?? new Date()) && b.started_at < (a.ended_at ?? new Date())),
    ),
  ).length;
  for (const r of notPassed.slice(0, 3)) {
    console.log(`  not passed: ${r.id} ${r.outcome}: ${r.error ?? ''}`);
    for (const o of byFeature.get(r.feature_id) ?? [])
      console.log(`    ${o.id} ${o.outcome} ${o.started_at.toISOString()} .. ${o.ended_at?.toISOString()}`);
  }
  const passedAt = new Map(
    (
      await database.db
        .selectFrom('features')
        .select(['id', 'updated_at'])
        .where('project_id', '=', projectId)
        .execute()
    ).map((f) => [f.id, f.updated_at.getTime()]),
  );
  const startOf = new Map<number, number>();
  const exitOf = new Map<number, number>();
  const runOf = new Map<number, string>();
  for (const run of runs) {
    if (run.kind !== 'coding' || run.feature_id === null) continue;
    const status = readStatusFile(statusPathFor(logFileFor(home, run.id)));
    if (!status) continue;
    runOf.set(run.feature_id, run.id);
    startOf.set(run.feature_id, Date.parse(status.startedAt));
    exitOf.set(run.feature_id, Date.parse(status.endedAt));
  }
  // Dependency-to-start: the last dependency's agent exiting → the dependant's agent starting.
  const latencies: number[] = [];
  for (const f of features) {
    const deps = f.dependencies ?? [];
    const start = startOf.get(f.id);
    if (deps.length === 0 || start === undefined) continue;
    const ready = Math.max(...deps.map((d) => exitOf.get(d) ?? 0));
    latencies.push(start - ready);
  }
  const firstStart = Math.min(...startOf.values());
  const lastPass = Math.max(...passedAt.values());
  const wallMs = lastPass - firstStart;

  // History: every run of the workflow chain (continue-as-new makes several).
  let historyEvents = 0;
  let runCount = 0;
  const parents = [];
  for await (const execution of temporal.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
    runCount++;
    const history = await temporal.client.workflow.getHandle(handle.workflowId, execution.runId).fetchHistory();
    historyEvents += history.events?.length ?? 0;
    parents.push(history);
  }
  // The hot path, segment by segment (bench/timeline.ts); small scenarios only: it reads every child's history.
  let steps: StepTimeline | null = null;
  if (features.length <= 100) {
    const children = new Map<string, Awaited<ReturnType<typeof handle.fetchHistory>>>();
    for await (const child of temporal.client.workflow.list({ query: `ParentWorkflowId = '${handle.workflowId}'` })) {
      children.set(
        child.workflowId,
        await temporal.client.workflow.getHandle(child.workflowId, child.runId).fetchHistory(),
      );
    }
    const dependencies = new Map(
      features.filter((f) => (f.dependencies ?? []).length > 0).map((f) => [f.id, f.dependencies ?? []]),
    );
    steps = stepTimeline({ parents, children, runOf, dependencies, startOf, exitOf });
  }
  await Promise.all(workers.map((w) => w.shutdown()));
  await running;
  await temporal.close();
  await database.close();

  const n = features.length;
  return {
    scenario: hosts > 1 ? `${scenario.name}-h${hosts}` : scenario.name,
    hosts,
    description: scenario.description,
    features: n,
    concurrency: scenario.concurrency,
    agent: agent.kind,
    outcome: result.outcome,
    wallMs: Math.round(wallMs),
    perFeatureMs: Math.round((wallMs / n) * 10) / 10,
    depToStartP50Ms: percentile(latencies, 0.5),
    depToStartP95Ms: percentile(latencies, 0.95),
    agentsSpawned: runs.length,
    agentRunsNotPassed: notPassed.length,
    featuresRunTwiceAtOnce: overlapping,
    workerIdleRssMb: Math.round(idleRss / 2 ** 20),
    workerPeakRssMb: Math.round(peakRss / 2 ** 20),
    workerRssGrowthMb: Math.round((peakRss - idleRss) / 2 ** 20),
    historyEvents,
    workflowRuns: runCount,
    continueAsNew: runCount - 1,
    // The worker's process and its spawn helper.
    workerCpuMsPerFeature:
      Math.round(
        ((cpu.user + cpu.system) / 1000 / n +
          ((componentsAfter.spawnHelperMs ?? 0) - (componentsBefore.spawnHelperMs ?? 0)) / n) *
          10,
      ) / 10,
    pgTransactionsPerFeature: Math.round(((xactAfter - xactBefore) / n) * 10) / 10,
    ...cpuPerFeature(componentsBefore, componentsAfter, n),
    ...(steps
      ? Object.fromEntries(
          segments.flatMap((name) => [
            [`step_${name}P50Ms`, steps[name].p50],
            [`step_${name}P95Ms`, steps[name].p95],
          ]),
        )
      : {}),
  };
}

async function transactions(db: ReturnType<typeof createDb>['db'], dbName: string): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = ${dbName}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * How fast this hour's CPU is: a fixed CPU-bound workload (PBKDF2-SHA256, 300,000 iterations),
 * best of three. On these shared machines the same code ran up to 1.5× slower from one hour to
 * the next; figures from runs with different calibrations compare only after scaling by it.
 */
function calibrationMs(): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    pbkdf2Sync('autocoder', 'bench', 300_000, 32, 'sha256');
    best = Math.min(best, performance.now() - started);
  }
  return Math.round(best);
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const args = process.argv.slice(2);
const agentFlag = args.indexOf('--agent');
const agentChoice = agentFlag >= 0 ? args[agentFlag + 1] : 'auto';
if (!agentChoices.includes(agentChoice as AgentChoice)) {
  console.error(`--agent: expected one of ${agentChoices.join(', ')}, got ${agentChoice ?? 'nothing'}`);
  process.exit(2);
}
const hostsFlag = args.indexOf('--hosts');
const hosts = hostsFlag >= 0 ? Number(args[hostsFlag + 1]) : 1;
if (!Number.isInteger(hosts) || hosts < 1 || hosts > 8) {
  console.error(`--hosts: expected a whole number of hosts from 1 to 8, got ${args[hostsFlag + 1] ?? 'nothing'}`);
  process.exit(2);
}
const flagValues = new Set([agentFlag, hostsFlag].filter((i) => i >= 0).map((i) => i + 1));
const wanted = args.filter((a, i) => !a.startsWith('--') && !flagValues.has(i));
const selected = wanted.length
  ? scenarios.filter((s) => wanted.includes(s.name))
  : scenarios.filter((s) => !s.heavy || process.argv.includes('--all'));
if (selected.length === 0) {
  console.error(`unknown scenario ${wanted.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

let agent: ZeroWorkAgent;
try {
  agent = zeroWorkAgent(agentChoice as AgentChoice, join(root, '.autocoder-bench', 'agents'));
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
console.log(`zero-work agent: ${agent.note}`);
const home = join(root, '.autocoder-bench', `run-${process.pid}`);
process.env.AUTOCODER_TOOLS_DIR ??= join(root, '.autocoder-test', 'tools');
const config = await privateStackConfig(home);
const stack = await stackUp(config, { log: (line) => console.log(`[bench stack] ${line}`) });
mkdirSync(resultsDir, { recursive: true });
const results: Result[] = [];
try {
  for (const scenario of selected) {
    const calibration = calibrationMs();
    const result: Result = {
      ...(await runScenario(scenario, stack, home, agent, hosts)),
      calibrationMs: calibration,
    };
    results.push(result);
    writeFileSync(
      join(resultsDir, `${result.scenario}.json`),
      `${JSON.stringify({ ...result, commit: commit(), date: new Date().toISOString() }, null, 2)}\n`,
    );
    result.loadAverage = loadavg()[0]!.toFixed(1);
    console.log(
      `${result.scenario}: ${result.outcome}, wall ${result.wallMs} ms, ${result.perFeatureMs} ms/feature, dep→start p50 ${result.depToStartP50Ms} p95 ${result.depToStartP95Ms} ms, +${result.workerRssGrowthMb} MB RSS, ${result.historyEvents} events / ${result.workflowRuns} runs`,
    );
    if (result.step_reportP50Ms !== undefined)
      console.log(
        `  dep→start p50 / p95 by segment (ms): ${segments.map((name) => `${name} ${result[`step_${name}P50Ms`] ?? '-'} / ${result[`step_${name}P95Ms`] ?? '-'}`).join(', ')}`,
      );
  }
} finally {
  await stackDown(config);
  rmSync(home, { recursive: true, force: true });
}

const columns = [
  'scenario',
  'features',
  'concurrency',
  'agent',
  'outcome',
  'wallMs',
  'perFeatureMs',
  'depToStartP50Ms',
  'depToStartP95Ms',
  'agentsSpawned',
  'agentRunsNotPassed',
  'featuresRunTwiceAtOnce',
  'workerRssGrowthMb',
  'historyEvents',
  'continueAsNew',
  'workerCpuMsPerFeature',
  'serverCpuMsPerFeature',
  'postgresCpuMsPerFeature',
  'agentCpuMsPerFeature',
  'pgTransactionsPerFeature',
  'loadAverage',
  'calibrationMs',
];
const table = [
  `| ${columns.join(' | ')} |`,
  `|${columns.map(() => '---').join('|')}|`,
  ...results.map((r) => `| ${columns.map((c) => String(r[c] ?? '')).join(' | ')} |`),
];
console.log(`\n${table.join('\n')}`);
if (wanted.length === 0) {
  writeFileSync(
    join(resultsDir, 'README.md'),
    [
      '# Benchmark results',
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; commit ${commit()}; ${new Date().toISOString()}; load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (1 / 5 / 15 min: figures taken on a busy machine run slower).`,
      `Command: \`npm run bench\` (one scenario: \`npm run bench -- <name>\`; Node agents: \`-- --agent node\`). Zero-work agents through the \`command\` adapter: ${agent.note}; wall time from the first agent start to the last feature passing.`,
      '',
      ...table,
      '',
      'Claims: see [claim.md](claim.md) (`npm run bench:claim`). Worker start-up: see [startup.json](startup.json) (`npm run bench:startup`).',
      '',
      '`calibrationMs`: a fixed CPU-bound workload timed just before the scenario (bench/orchestration.ts), lower is a faster hour: compare runs after scaling by it.',
      '',
      'The `step_*P50Ms` and `step_*P95Ms` fields in each scenario JSON split dependency-to-start into report, parentTask, childStart, childTask and spawn (bench/timeline.ts).',
      '',
    ].join('\n'),
  );
}
