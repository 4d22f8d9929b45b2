/**
 * Worker start-up (issue 10): how long `autocoder worker` takes from exec to polling its task
 * queue, with the stack already up (the workflow bundle comes prebuilt from dist/, made by
 * scripts/setup.sh), and the RSS of the ready worker.
 *
 *   npm run bench:startup            (or: bin/node bench/startup.ts [--runs N])
 *
 * Starts a private stack, then N workers one after another; each is timed to its "worker polling"
 * line and stopped with SIGINT. Writes bench/results/startup.json.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateStackConfig, stackDown, stackUp } from '../src/stack/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

/** One worker: ms from exec to its ready line, and its RSS then (MB). */
function startOnce(env: NodeJS.ProcessEnv): Promise<{ readyMs: number; rssMb: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(join(root, 'bin', 'autocoder'), ['worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    child.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
    });
    let ready: { readyMs: number; rssMb: number } | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (ready || !seen.includes('worker polling')) return;
      const readyMs = Math.round(performance.now() - started);
      // bin/autocoder execs node, so the child's pid is the worker's.
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      ready = { readyMs, rssMb: Math.round(rssKb / 1024) };
      child.kill('SIGINT');
    });
    child.on('exit', (code, signal) =>
      ready ? resolve(ready) : reject(new Error(`worker exited (${code ?? signal}) before it was ready:\n${seen}`)),
    );
  });
}

const home = join(root, '.autocoder-bench', `startup-${process.pid}`);
process.env.AUTOCODER_TOOLS_DIR ??= join(root, '.autocoder-test', 'tools');
const config = await privateStackConfig(home);
const stack = await stackUp(config, { log: (line) => console.log(`[bench stack] ${line}`) });
const env = {
  ...process.env,
  AUTOCODER_HOME: home,
  TEMPORAL_ADDRESS: stack.temporal.address,
  DATABASE_URL: stack.databaseUrl,
};
const samples: { readyMs: number; rssMb: number }[] = [];
try {
  await startOnce(env); // the first start also migrates the database: not a typical start
  for (let i = 0; i < runs; i++) samples.push(await startOnce(env));
} finally {
  await stackDown(config);
  rmSync(home, { recursive: true, force: true });
}
const ready = samples.map((s) => s.readyMs).sort((a, b) => a - b);
const result = {
  runs,
  readyP50Ms: ready[Math.floor((ready.length - 1) / 2)],
  readyMaxMs: ready[ready.length - 1],
  readyRssMb: Math.max(...samples.map((s) => s.rssMb)),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
  loadAverage: loadavg()[0]!.toFixed(1),
  date: new Date().toISOString(),
};
writeFileSync(join(root, 'bench', 'results', 'startup.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `worker start-up, exec to polling: p50 ${result.readyP50Ms} ms, max ${result.readyMaxMs} ms over ${runs} starts; RSS when ready ${result.readyRssMb} MB`,
);
