/**
 * autocoder's own Prometheus series, made through the Temporal SDK's metric meter so that one
 * endpoint (the Runtime's Prometheus exporter, `worker --metrics`) serves them beside the SDK's.
 * The exporter serves a name as given (countersTotalSuffix is off), so the counter is named with
 * its `_total` already; SDK counters are integers, so spend (USD) is a gauge of the total.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { agentKinds, type AgentKind } from '../workflows/vocabulary.ts';

export const metricNames = {
  agentsRunning: 'autocoder_agents_running',
  features: 'autocoder_features',
  agentRunSeconds: 'autocoder_agent_run_seconds',
  spendUsd: 'autocoder_spend_usd_total',
  quotaPauses: 'autocoder_quota_pauses_total',
  mergeQueueDepth: 'autocoder_merge_queue_depth',
} as const;

/** Agent runs last seconds (a failed start) to hours (a long coding session). */
const RUN_SECONDS_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400];

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/** The Runtime's telemetry `metrics` option: Prometheus at `bindAddress`, our histogram's buckets. */
export function prometheusExporter(bindAddress: string) {
  return {
    prometheus: {
      bindAddress,
      histogramBucketOverrides: { [metricNames.agentRunSeconds]: RUN_SECONDS_BUCKETS },
    },
  };
}

export type AutocoderMetrics = {
  readonly enabled: boolean;
  /** An agent tree this worker watches (spawned or adopted) / no longer watches. */
  agentWatched(kind: AgentKind): void;
  agentReleased(kind: AgentKind): void;
  /** An agent run's outcome, written by this worker (once per run), and how long the run took. */
  agentRunEnded(kind: AgentKind, outcome: string, seconds: number): void;
  /** The quota governor paused dispatch on `key`. */
  quotaPaused(key: string): void;
  /** Sampled from Postgres (src/metrics/sampler.ts). */
  setFeatures(project: string, counts: Readonly<Record<string, number>>): void;
  setSpend(project: string, usd: number): void;
  setMergeQueueDepth(project: string, depth: number): void;
};

export const noMetrics: AutocoderMetrics = {
  enabled: false,
  agentWatched: () => undefined,
  agentReleased: () => undefined,
  agentRunEnded: () => undefined,
  quotaPaused: () => undefined,
  setFeatures: () => undefined,
  setSpend: () => undefined,
  setMergeQueueDepth: () => undefined,
};

export function createAutocoderMetrics(meter: MetricMeter, host: string): AutocoderMetrics {
  const agentsRunning = meter.createGauge(
    metricNames.agentsRunning,
    'int',
    '',
    'Agent process trees this worker watches, by kind',
  );
  const features = meter.createGauge(
    metricNames.features,
    'int',
    '',
    "Features of a project by state (each project's store)",
  );
  const runSeconds = meter.createHistogram(
    metricNames.agentRunSeconds,
    'float',
    's',
    'Agent runs by kind and outcome: seconds from start to end',
  );
  const spend = meter.createGauge(metricNames.spendUsd, 'float', 'USD', "A project's agent spend so far, in USD");
  const quotaPauses = meter.createCounter(metricNames.quotaPauses, '', 'Quota pauses broadcast, by quota key');
  const mergeDepth = meter.createGauge(
    metricNames.mergeQueueDepth,
    'int',
    '',
    'Features of a project waiting to land (state merging)',
  );

  const running = new Map<AgentKind, number>(agentKinds.map((k) => [k, 0]));
  const show = (kind: AgentKind) => agentsRunning.set(running.get(kind) ?? 0, { kind, host });
  for (const kind of agentKinds) show(kind);
  const change = (kind: AgentKind, by: number) => {
    running.set(kind, Math.max(0, (running.get(kind) ?? 0) + by));
    show(kind);
  };
  return {
    enabled: true,
    agentWatched: (kind) => change(kind, 1),
    agentReleased: (kind) => change(kind, -1),
    agentRunEnded: (kind, outcome, seconds) => runSeconds.record(Math.max(0, seconds), { kind, outcome }),
    quotaPaused: (key) => quotaPauses.add(1, { key }),
    setFeatures: (project, counts) => {
      for (const [state, n] of Object.entries(counts)) features.set(n, { project, state } satisfies MetricTags);
    },
    setSpend: (project, usd) => spend.set(usd, { project }),
    setMergeQueueDepth: (project, depth) => mergeDepth.set(depth, { project }),
  };
}
