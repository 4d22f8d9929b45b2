/**
 * What an agent spawn costs the worker (issue 10, the spawn helper): this process grows to a
 * worker's RSS, then starts N agents (`/bin/true` under the launcher) one after another, forking
 * them itself (`direct`) and through the spawn helper, and reports this process's CPU per spawn
 * (fork() copies the caller's page tables, so it grows with the caller's memory), the wall time
 * to the handle, and the helper's RSS. Writes bench/results/spawn.json.
 *
 *   npm run bench:spawn                 (or: bin/node bench/spawn.ts [--rss-mb 250] [--runs 30])
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnAgent } from '../src/supervisor/index.ts';
import { spawnHelperPid } from '../src/supervisor/spawn-helper.ts';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const rssMb = arg('--rss-mb', 250);
const runs = arg('--runs', 30);
const rssOf = (pid: number | 'self'): number =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

// Touched memory, as a worker's heaps and code are.
const ballast: Buffer[] = [];
while (rssOf('self') < rssMb) ballast.push(Buffer.alloc(16 << 20, 1));

const dir = mkdtempSync(join(tmpdir(), 'ac-bench-spawn-'));
async function measure(direct: boolean): Promise<{ cpuMsPerSpawn: number; toHandleP50Ms: number }> {
  const toHandle: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const handle = await spawnAgent({
      argv: ['/bin/true'],
      cwd: dir,
      logPath: join(dir, `${direct ? 'direct' : 'helper'}-${i}.log`),
      direct,
    });
    toHandle.push(performance.now() - started);
    await handle.outcome();
  }
  const cpu = process.cpuUsage(cpuBefore);
  toHandle.sort((a, b) => a - b);
  return {
    cpuMsPerSpawn: Math.round(((cpu.user + cpu.system) / 1000 / runs) * 10) / 10,
    toHandleP50Ms: Math.round(toHandle[Math.floor(runs / 2)]! * 10) / 10,
  };
}

try {
  await measure(false); // starts the helper, warms both paths
  const helper = await measure(false);
  const direct = await measure(true);
  const helperPid = spawnHelperPid();
  const result = {
    runs,
    callerRssMb: rssOf('self'),
    helperRssMb: helperPid ? rssOf(helperPid) : null,
    direct,
    helper,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    loadAverage: loadavg()[0]!.toFixed(1),
    date: new Date().toISOString(),
  };
  writeFileSync(
    fileURLToPath(new URL('./results/spawn.json', import.meta.url)),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log(
    `caller RSS ${result.callerRssMb} MB, ${runs} spawns each: direct ${direct.cpuMsPerSpawn} ms of this process's CPU per spawn (handle p50 ${direct.toHandleP50Ms} ms); through the helper ${helper.cpuMsPerSpawn} ms (handle p50 ${helper.toHandleP50Ms} ms); helper RSS ${result.helperRssMb} MB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
