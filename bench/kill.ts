/**
 * Tree-kill times of the supervisor, measured with real process trees.
 *   bin/node bench/kill.ts [--runs 20] [--grace 5000]
 * Scenarios:
 *   stubborn: the grandchild fixture (a setsid child and two SIGTERM-ignoring grandchildren), so
 *             every kill must wait out the grace period and escalate to SIGKILL;
 *   polite:   the forever fixture, which dies on SIGTERM: the kill ends as soon as it is gone.
 * Time = from handle.kill() to every pid of the tree verified gone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { isProcessAlive, spawnAgent } from '../src/supervisor/index.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, grace: { type: 'string', default: '5000' } },
});
const runs = Number(values.runs);
const graceMs = Number(values.grace);
const fixtures = new URL('../test/fixtures/agents/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'autocoder-bench-kill-'));

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function killOnce(scenario: 'stubborn' | 'polite', n: number): Promise<number> {
  const pidFile = join(dir, `${scenario}-${n}.pids`);
  const argv = scenario === 'stubborn' ? [join(fixtures, 'grandchild'), pidFile] : [join(fixtures, 'forever')];
  const handle = await spawnAgent({ argv, cwd: dir, logPath: join(dir, `${scenario}-${n}.log`) });
  const expected = scenario === 'stubborn' ? 5 : 1;
  const pids = (): number[] => {
    if (scenario === 'polite') return /started/.test(handle.tail()) ? [handle.pid] : [];
    try {
      return [
        handle.pid,
        ...readFileSync(pidFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => Number(line.split(' ')[1])),
      ];
    } catch {
      return [];
    }
  };
  await until(() => pids().length >= expected, 'the tree to start');
  const tree = pids();
  const started = performance.now();
  await handle.kill('stopped', { graceMs });
  await until(() => tree.every((pid) => !isProcessAlive(pid)), 'the tree to be gone');
  const ms = performance.now() - started;
  await handle.outcome();
  return ms;
}

function stats(times: number[]): { p50: number; max: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: sorted[Math.ceil(sorted.length / 2) - 1] ?? NaN, max: sorted.at(-1) ?? NaN };
}

try {
  console.log(
    `tree kill, ${runs} runs per scenario, grace ${graceMs} ms, node ${process.version}, ${process.platform}`,
  );
  console.log('scenario   processes  p50 ms   max ms   limit (grace + 1 s)');
  for (const scenario of ['polite', 'stubborn'] as const) {
    const times: number[] = [];
    for (let n = 0; n < runs; n++) times.push(await killOnce(scenario, n));
    const { p50, max } = stats(times);
    const processes = scenario === 'stubborn' ? '6' : '2';
    console.log(
      `${scenario.padEnd(10)} ${processes.padEnd(10)} ${p50.toFixed(0).padStart(6)} ${max.toFixed(0).padStart(8)}   ${graceMs + 1000}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
