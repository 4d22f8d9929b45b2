/**
 * What execa and tree-kill would change in the supervisor (issue 17, item 4): the figures behind
 * removing both from the dependencies (docs/architecture.md, Process supervision).
 *   - import cost of execa in a fresh Node (the spawn helper imports next to nothing, because its
 *     fork() copies its page tables: every MB it holds is paid again at every spawn);
 *   - one launcher fork as fork-launcher.ts does it, by child_process.spawn and by execa;
 *   - killing the grandchild fixture's 5-process tree (two ignore SIGTERM) with tree-kill and with
 *     killTree: wall time, CPU here and in reaped children (tree-kill's `ps` runs), survivors.
 * Neither package is a dependency any more; install them for the run without saving:
 *   npm i --no-save execa@10.2.1 tree-kill@1.2.2 && bin/node bench/supervision-deps.ts [--runs 30]
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { isProcessAlive, killTree, LAUNCHER_PATH } from '../src/supervisor/index.ts';

type Execa = (file: string, args: string[], options: object) => Promise<unknown> & { pid?: number };
type TreeKill = (pid: number, signal: string, callback: (err?: Error) => void) => void;

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
let execa: Execa;
let treeKill: TreeKill;
try {
  execa = ((await import(require.resolve('execa'))) as { execa: Execa }).execa;
  treeKill = require('tree-kill') as TreeKill;
} catch {
  console.error('needs execa and tree-kill: npm i --no-save execa@10.2.1 tree-kill@1.2.2');
  process.exit(2);
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'autocoder-bench-deps-'));
const round = (n: number): number => Math.round(n * 100) / 100;
const p50 = (v: number[]): number => round([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN);
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
/** CPU of reaped children (cutime + cstime of /proc/self/stat), in 10 ms clock ticks. */
const childCpuMs = (): number => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[13]) + Number(fields[14])) * 10;
};

function importCost(spec: string): { ms: number; rssMb: number } {
  const code =
    `const r0 = process.memoryUsage().rss; const t = performance.now(); await import(${JSON.stringify(spec)});` +
    `console.log(JSON.stringify({ ms: performance.now() - t, rss: (process.memoryUsage().rss - r0) / 1048576 }))`;
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.stdout) as { ms: number; rss: number };
    ms.push(result.ms);
    rss.push(result.rss);
  }
  return { ms: p50(ms), rssMb: p50(rss) };
}

async function launch(how: 'spawn' | 'execa', name: string): Promise<{ toPid: number; toExit: number }> {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const args = [LAUNCHER_PATH, `${log}.status.json`, '/bin/true'];
  const options: SpawnOptions = { detached: true, stdio: ['ignore', fd, fd] };
  const started = performance.now();
  let exited: Promise<unknown>;
  if (how === 'spawn') {
    const child = spawn('/bin/sh', args, options);
    exited = new Promise((resolve) => child.once('exit', resolve));
  } else {
    exited = execa('/bin/sh', args, { ...options, reject: false });
  }
  const toPid = performance.now() - started;
  closeSync(fd);
  await exited;
  return { toPid, toExit: performance.now() - started };
}

async function spawnCost(how: 'spawn' | 'execa'): Promise<object> {
  for (let i = 0; i < 5; i++) await launch(how, `${how}-warm-${i}`);
  const toPid: number[] = [];
  const toExit: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const result = await launch(how, `${how}-${i}`);
    toPid.push(result.toPid);
    toExit.push(result.toExit);
  }
  return {
    cpuMsPerSpawn: round(cpuMs(process.cpuUsage(cpu)) / runs),
    toPidP50Ms: p50(toPid),
    toExitP50Ms: p50(toExit),
  };
}

let trees = 0;
async function startTree(): Promise<{ pid: number; pids: number[] }> {
  const pidFile = join(dir, `tree-${++trees}.pids`);
  const child = spawn(join(root, 'test/fixtures/agents/grandchild'), [pidFile], { detached: true, stdio: 'ignore' });
  for (;;) {
    let lines: string[] = [];
    try {
      lines = readFileSync(pidFile, 'utf8').trim().split('\n').filter(Boolean);
    } catch {
      // not written yet
    }
    if (lines.length >= 5) return { pid: child.pid!, pids: lines.map((line) => Number(line.split(' ')[1])) };
    await sleep(10);
  }
}

type Killer = 'tree-kill SIGTERM' | 'tree-kill SIGKILL' | 'killTree, grace 0';
async function killCost(how: Killer): Promise<object> {
  const ms: number[] = [];
  let survivors = 0;
  let childCpu = 0;
  const cpu = process.cpuUsage();
  const n = Math.min(runs, 10);
  for (let i = 0; i < n; i++) {
    const { pid, pids } = await startTree();
    const childCpuBefore = childCpuMs();
    const started = performance.now();
    if (how === 'killTree, grace 0') await killTree({ pid, pgid: pid }, { graceMs: 0 });
    else {
      const signal = how === 'tree-kill SIGTERM' ? 'SIGTERM' : 'SIGKILL';
      await new Promise<void>((resolve) => treeKill(pid, signal, () => resolve()));
    }
    ms.push(performance.now() - started);
    await sleep(100); // signals land and children are reaped before counting
    childCpu += childCpuMs() - childCpuBefore;
    const alive = pids.filter((p) => isProcessAlive(p));
    survivors = Math.max(survivors, alive.length);
    for (const p of alive) process.kill(p, 'SIGKILL');
  }
  return {
    p50Ms: p50(ms),
    cpuMsPerKill: round(cpuMs(process.cpuUsage(cpu)) / n),
    childCpuMsPerKill: round(childCpu / n),
    maxSurvivors: survivors,
  };
}

try {
  const importFreshNode = { 'node:child_process': importCost('node:child_process'), execa: importCost('execa') };
  const launcherFork = { 'child_process.spawn': await spawnCost('spawn'), execa: await spawnCost('execa') };
  const kill5ProcessTree: Record<string, object> = {};
  for (const how of ['tree-kill SIGTERM', 'tree-kill SIGKILL', 'killTree, grace 0'] as const) {
    kill5ProcessTree[how] = await killCost(how);
  }
  const processesOnMachine = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
  const machine = { node: process.version, cores: cpus().length, processesOnMachine, runs };
  console.log(JSON.stringify({ ...machine, importFreshNode, launcherFork, kill5ProcessTree }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
