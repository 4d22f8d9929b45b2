/**
 * Claim latency and planning time (issue 4, deliverable 7).
 *
 *   npm run bench:claim            (or: bin/node bench/claim.ts [--quick])
 *
 * For 100, 1k and 10k features in a layered DAG (test/graph/layered-dag.ts: 25 layers, 1-4
 * dependencies on the three layers above, a third passing, ~1% in progress), it times
 * `claimReadyFeatures` (limit 1) the way a run uses it: claim, then the agent marks the feature
 * passing (timed apart: it recounts the dependents' unmet_deps) and its outcome is recorded (not
 * timed), so the ready set keeps moving; then a claim when nothing is ready. Then it times
 * `planFeatures` over 10k features. Postgres: DATABASE_URL if set, else a scratch embedded server
 * with default durability (fsync on). Writes bench/results/claim.md.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { claimReadyFeatures } from '../src/db/claims.ts';
import { createDb } from '../src/db/create-db.ts';
import { markFeature } from '../src/db/features.ts';
import { importFeatures } from '../src/db/import.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { upsertProject } from '../src/db/projects.ts';
import { startScratchPostgres } from '../src/db/scratch-postgres.ts';
import { recordOutcome } from '../src/db/transitions.ts';
import { planFeatures } from '../src/graph/index.ts';
import { layeredFeatures } from '../test/graph/layered-dag.ts';

const quick = process.argv.includes('--quick');
const SIZES = [100, 1000, 10_000];
const CLAIMS_PER_SIZE = quick ? 100 : 400;
const PLAN_RUNS = quick ? 10 : 30;
const EMPTY_CLAIMS = quick ? 12 : 40;
const TARGET_P95_MS = 20;
const TARGET_EMPTY_P95_MS = 5;
const TARGET_PLAN_MS = 100;

type Stats = { n: number; p50: number; p95: number; p99: number; max: number };

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

const ms = (v: number) => v.toFixed(2);

const given = process.env.DATABASE_URL;
const scratch = given ? undefined : await startScratchPostgres();
const { db, close } = createDb(given ?? scratch!.url, { applicationName: 'autocoder-bench' });
try {
  await migrateToLatest(db);
  const version = (await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(db)).rows[0]?.v;
  const rows: string[] = [];
  for (const size of SIZES) {
    const projectId = `bench-${size}-${Date.now()}`;
    const features = layeredFeatures(size, { layers: 25, seed: size });
    await upsertProject(db, { id: projectId, dir: `/tmp/${projectId}` });
    const importStart = performance.now();
    await importFeatures(
      db,
      projectId,
      features.map((f) => ({
        id: f.id,
        priority: f.priority,
        name: `Feature ${f.id}`,
        description: 'benchmark feature',
        steps: ['implement', 'verify'],
        dependencies: f.dependencies === null ? null : [...f.dependencies],
        passes: f.passes,
        in_progress: f.inProgress,
      })),
    );
    const importMs = performance.now() - importStart;
    await sql`ANALYZE features`.execute(db);

    const samples: number[] = [];
    const markSamples: number[] = [];
    for (let i = 0; i < CLAIMS_PER_SIZE; i++) {
      const start = performance.now();
      const [claim] = await claimReadyFeatures(db, { projectId, limit: 1, maxRetries: 3 });
      samples.push(performance.now() - start);
      if (!claim) break;
      const markStart = performance.now();
      await markFeature(db, { projectId, featureId: claim.id, passes: true, runId: claim.claimedBy });
      markSamples.push(performance.now() - markStart);
      await recordOutcome(db, {
        projectId,
        featureId: claim.id,
        owner: claim.claimedBy,
        kind: 'coding',
        outcome: 'passed',
        exitCode: 0,
      });
    }
    const s = stats(samples.slice(5)); // the first few warm the plan cache and the buffers
    const m = stats(markSamples.slice(5));

    // The old worst case: every ready feature is running, nothing is ready, and the claim must
    // find that out (it used to walk every waiting feature and test its dependencies).
    await claimReadyFeatures(db, { projectId, limit: size, maxRetries: 3 });
    const emptySamples: number[] = [];
    for (let i = 0; i < EMPTY_CLAIMS; i++) {
      const start = performance.now();
      const none = await claimReadyFeatures(db, { projectId, limit: 1, maxRetries: 3 });
      emptySamples.push(performance.now() - start);
      if (none.length > 0) throw new Error('expected nothing ready');
    }
    const waiting = await db
      .selectFrom('features')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .where('passes', '=', false)
      .where('in_progress', '=', false)
      .executeTakeFirstOrThrow();
    const e = stats(emptySamples.slice(2));
    rows.push(
      `| ${size.toLocaleString('en')} | ${s.n} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${ms(e.p50)} / ${ms(e.p95)} (${waiting.n} waiting) | ${ms(m.p50)} / ${ms(m.p95)} | ${ms(importMs)} |`,
    );
    process.stdout.write(
      `${size} features: claim p50 ${ms(s.p50)} ms, p95 ${ms(s.p95)} ms, p99 ${ms(s.p99)} ms (${s.n} claims); ` +
        `nothing-ready claim p50 ${ms(e.p50)} ms, p95 ${ms(e.p95)} ms over ${waiting.n} waiting; ` +
        `mark passing p50 ${ms(m.p50)} ms, p95 ${ms(m.p95)} ms; import ${ms(importMs)} ms\n`,
    );
    await db.deleteFrom('projects').where('id', '=', projectId).execute();
  }

  const graph = layeredFeatures(10_000, { layers: 25, seed: 10_000 });
  planFeatures(graph); // warm-up: JIT
  const planSamples: number[] = [];
  for (let i = 0; i < PLAN_RUNS; i++) {
    const start = performance.now();
    planFeatures(graph);
    planSamples.push(performance.now() - start);
  }
  const plan = stats(planSamples);
  process.stdout.write(`plan 10k features: p50 ${ms(plan.p50)} ms, max ${ms(plan.max)} ms (${plan.n} runs)\n`);

  const claim10k = rows.at(-1) ?? '';
  const p95At10k = Number(claim10k.split('|')[4]);
  const emptyP95At10k = Number(/\/ ([\d.]+) \(/.exec(claim10k.split('|')[7] ?? '')?.[1]);
  const report = `# Claim benchmark

Command: \`npm run bench:claim\` (\`bin/node bench/claim.ts${quick ? ' --quick' : ''}\`), ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, shared with other work.
Postgres ${version} (${given ? 'DATABASE_URL' : 'scratch embedded server, default durability: fsync on'}), Node ${process.version}.

Workload: a layered DAG (25 layers, 1-4 dependencies on the three layers above, a third passing,
~1% in progress). Each step claims one feature with \`claimReadyFeatures\` (timed: one statement
and its round trip), then marks it passing with \`markFeature\` (timed separately: the triggers
recount its dependents' \`unmet_deps\`) and records the outcome (not timed), so the ready set
moves the way it does in a run. The first 5 claims of each size are warm-up and not counted.
"Nothing ready": every ready feature is running and the claim returns nothing (before the
ready set, it walked all waiting features and tested their dependencies).

## Claim latency (ms)

| features | claims | p50 | p95 | p99 | max | nothing ready: p50 / p95 | mark passing: p50 / p95 | import (ms) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Target: p95 ≤ ${TARGET_P95_MS} ms at 10k features — ${p95At10k <= TARGET_P95_MS ? 'met' : 'NOT met'}.
Target: nothing ready p95 ≤ ${TARGET_EMPTY_P95_MS} ms at 10k features — ${emptyP95At10k <= TARGET_EMPTY_P95_MS ? 'met' : 'NOT met'}.

## Planning (src/graph \`planFeatures\`, 10k features, in memory)

| runs | p50 (ms) | max (ms) |
|---:|---:|---:|
| ${plan.n} | ${ms(plan.p50)} | ${ms(plan.max)} |

Target: ≤ ${TARGET_PLAN_MS} ms — ${plan.p50 <= TARGET_PLAN_MS ? 'met' : 'NOT met'}.
`;
  await writeFile(new URL('./results/claim.md', import.meta.url), report);
  process.stdout.write('wrote bench/results/claim.md\n');
} finally {
  await close();
  await scratch?.stop();
}
