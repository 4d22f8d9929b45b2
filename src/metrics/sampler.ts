/**
 * The gauges read from Postgres, sampled while a worker serves metrics: features per state,
 * merge queue depth and spend per project. Every worker with --metrics reports the same store,
 * so dashboards take max() over instances (infra/grafana-dashboard.json does).
 */
import type { Kysely } from 'kysely';
import { featureCounts } from '../db/features.ts';
import type { Database } from '../db/tables.ts';
import { featureStates } from '../workflows/vocabulary.ts';
import type { AutocoderMetrics } from './meter.ts';

export const DEFAULT_SAMPLE_EVERY_MS = 5000;

/** One sample of every project's gauges. */
export async function sampleStore(db: Kysely<Database>, metrics: AutocoderMetrics): Promise<void> {
  const projects = await db.selectFrom('projects').select('id').execute();
  const spend = await db
    .selectFrom('agent_runs')
    .select(['project_id', (eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), eb.lit(0)).as('usd')])
    .groupBy('project_id')
    .execute();
  const spendOf = new Map(spend.map((row) => [row.project_id, Number(row.usd)]));
  for (const { id } of projects) {
    const counts = await featureCounts(db, id);
    metrics.setFeatures(id, Object.fromEntries(featureStates.map((state) => [state, counts[state]])));
    metrics.setMergeQueueDepth(id, counts.merging);
    metrics.setSpend(id, spendOf.get(id) ?? 0);
  }
}

/** Samples now and then every `everyMs` until stopped; a failed sample is logged and retried next time. */
export function startMetricsSampler(
  db: Kysely<Database>,
  metrics: AutocoderMetrics,
  options: { everyMs?: number; log?: (line: string) => void } = {},
): { stop: () => Promise<void> } {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let current: Promise<void> = Promise.resolve();
  let failing = false;
  const sample = () => {
    current = sampleStore(db, metrics).then(
      () => {
        failing = false;
      },
      (err: unknown) => {
        // One line per outage, not one per sample.
        if (!failing) log(`metrics: sampling the feature store failed (${(err as Error).message}); retrying`);
        failing = true;
      },
    );
  };
  sample();
  const timer = setInterval(() => {
    void current.then(sample);
  }, options.everyMs ?? DEFAULT_SAMPLE_EVERY_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await current;
    },
  };
}
