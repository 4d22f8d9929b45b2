/**
 * Time to plan 10,000 features (ready order, scores, cycles, missing dependencies) in a layered
 * DAG: `bin/node bench/plan.ts [features] [runs]`. Prints p50/p95/min over the runs, after a
 * warm-up, for a realistic depth (25 layers) and a deep one (250 layers, where path counts pass
 * 2^53 and scores are recounted with BigInt). The target is p50 ≤ 100 ms at 10,000 features.
 */
import { planFeatures } from '../src/graph/index.ts';
import { layeredFeatures } from '../test/graph/layered-dag.ts';

const count = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 20);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const rows: string[] = [];
for (const layers of [25, 250]) {
  const features = layeredFeatures(count, { layers });
  const edges = features.reduce((n, f) => n + (f.dependencies?.length ?? 0), 0);
  for (let k = 0; k < 3; k++) planFeatures(features); // warm-up: JIT
  const times: number[] = [];
  let ready = 0;
  for (let k = 0; k < runs; k++) {
    const start = performance.now();
    ready = planFeatures(features).ready.length;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const ms = (t: number): string => t.toFixed(1).padStart(7);
  rows.push(
    `| ${String(count).padStart(8)} | ${String(layers).padStart(6)} | ${String(edges).padStart(6)} | ${String(ready).padStart(5)} | ${ms(percentile(times, 50))} | ${ms(percentile(times, 95))} | ${ms(times[0] as number)} |`,
  );
}
process.stdout.write(
  [
    `planFeatures, ${runs} runs each (Node ${process.versions.node})`,
    '| features | layers |  edges | ready | p50 ms  | p95 ms  | min ms  |',
    '|---------:|-------:|-------:|------:|--------:|--------:|--------:|',
    ...rows,
    '',
  ].join('\n'),
);
