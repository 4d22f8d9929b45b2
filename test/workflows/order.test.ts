/**
 * The original's start order at concurrency 1 with agents that pass at once, on real Temporal +
 * Postgres: every golden vector in shared/reference/golden (hidden ones dropped there are run
 * too) and synthetic graphs, against src/graph step by step. Long orders are checked on a prefix
 * (AUTOCODER_TEST_ORDER_PREFIX, default 8; set it high to run every case to the end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureEntry } from '../../src/db/import.ts';
import type { AgentRunRow } from '../../src/db/tables.ts';
import { compareForScheduling, readyFeatures, schedulingScores, type GraphFeature } from '../../src/graph/index.ts';
import { goldenCases, toEntries, toGraph } from '../db/seed.ts';
import { layeredFeatures } from '../graph/layered-dag.ts';
import { agentRunsOf, maxOverlap, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';

const t = withTemporal();

/**
 * The original's order at concurrency 1 with agents that pass at once: at each step the first
 * ready feature by src/graph (score desc, priority, id) starts, and passes before the next.
 */
function originalOrder(features: readonly GraphFeature[]): number[] {
  const state = features.map((f) => ({ ...f }));
  const order: number[] = [];
  for (;;) {
    const next = readyFeatures(state)[0];
    if (!next) return order;
    next.passes = true;
    order.push(next.id);
  }
}

/**
 * The same with features left in progress by an earlier session (as an AutoCoder import leaves
 * them): the original resumes those first, in scheduling order and whatever their dependencies
 * (SPEC Scheduling §3; `start_feature(resume=True)` checks no dependency), then goes on as above.
 */
function originalOrderWithResume(features: readonly GraphFeature[]): number[] {
  const compare = compareForScheduling(schedulingScores(features));
  const resumed = features
    .filter((f) => f.inProgress && !f.passes)
    .sort(compare)
    .map((f) => f.id);
  const rest = features.map((f) => ({ ...f, inProgress: false, passes: f.passes || resumed.includes(f.id) }));
  return [...resumed, ...originalOrder(rest)];
}

/** Graphs for the order test: golden vectors (in-progress flags cleared) and synthetic ones. */
function orderCases(): Array<{ name: string; entries: FeatureEntry[]; golden?: number[] }> {
  const cases: Array<{ name: string; entries: FeatureEntry[]; golden?: number[] }> = goldenCases().map((c) => {
    const entries = c.features.map((f) => ({ ...f, in_progress: false }));
    // The golden `ready` list is the resolver's own first step when nothing was in progress.
    const golden = c.features.some((f) => f.in_progress && !f.passes) ? undefined : c.expected.ready;
    return { name: c.name, entries, ...(golden ? { golden } : {}) };
  });
  cases.push({
    name: 'layered-24',
    entries: toEntries(
      layeredFeatures(24, { layers: 4, seed: 7 }).map((f) => ({ ...f, passes: false, inProgress: false })),
    ),
  });
  cases.push({
    name: 'ties-missing-cycle',
    entries: [
      { id: 1, name: 'a', priority: 5 },
      { id: 2, name: 'b', priority: 5 },
      { id: 3, name: 'c', priority: 1, dependencies: [1] },
      { id: 4, name: 'd', priority: 999, dependencies: null },
      { id: 5, name: 'e', priority: 2, dependencies: [2, 3] },
      { id: 6, name: 'f', priority: 0, dependencies: [42] },
      { id: 7, name: 'g', priority: 1, dependencies: [8] },
      { id: 8, name: 'h', priority: 1, dependencies: [7] },
      { id: 9, name: 'i', priority: 3, dependencies: [4] },
    ],
  });
  return cases;
}

/** Long orders are checked on a prefix: each start costs two processes. */
const ORDER_PREFIX = Number(process.env.AUTOCODER_TEST_ORDER_PREFIX ?? 8);

/**
 * Runs a project at concurrency 1 and compares its first coding starts with `expected` (all of
 * them when the order is short, then the run must end; else a prefix, then the run is ended).
 */
async function checkOrder(
  name: string,
  entries: readonly FeatureEntry[],
  expected: readonly number[],
): Promise<string> {
  const checked = expected.slice(0, ORDER_PREFIX);
  const project = await t.seedProject(entries, { base: 'order' });
  const handle = await t.startRun(project, {
    concurrency: 1,
    yolo: true,
    pollIntervalMs: 5000,
    simulate: { default: { action: 'pass', delayMs: 0 } },
  });
  let runs: AgentRunRow[];
  if (checked.length === expected.length) {
    await waitForResult(handle, 180_000);
    runs = await agentRunsOf(t.db, project, 'coding');
  } else {
    runs = await waitUntil(
      `${name}: ${checked.length} starts`,
      async () => {
        const r = await agentRunsOf(t.db, project, 'coding');
        return r.length >= checked.length && r;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    await handle.terminate('order prefix checked');
  }
  runs = runs.slice(0, checked.length);
  if (runs.length > 0) assert.equal(maxOverlap(runs), 1, `${name}: one agent at a time`);
  assert.deepEqual(
    runs.map((r) => r.feature_id),
    checked,
    `${name}: start order`,
  );
  return `${name}: ${checked.length}/${expected.length} starts in order`;
}

/** Three cases at a time on the one worker (each project keeps its own concurrency of 1). */
async function checkAll(cases: Array<() => Promise<string>>, report: (line: string) => void): Promise<void> {
  assert.ok(cases.length > 0, 'no cases to check');
  const queue = [...cases];
  const checker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        report(await next());
      } catch (err) {
        queue.length = 0; // the other checkers stop after their current case
        throw err;
      }
    }
  };
  const results = await Promise.allSettled([checker(), checker(), checker()]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

test('concurrency 1, agents that pass at once: features start in exactly the original order', async (ctx) => {
  await checkAll(
    orderCases().map((c) => async () => {
      const expected = originalOrder(toGraph(c.entries));
      if (c.golden?.length)
        assert.equal(expected[0], c.golden[0], `${c.name}: src/graph's first pick is the golden vector's`);
      return checkOrder(c.name, c.entries, expected);
    }),
    (line) => ctx.diagnostic(line),
  );
});

test('concurrency 1: features left in progress are resumed first, whatever their dependencies, then the original order', async (ctx) => {
  const cases = goldenCases().filter((g) => g.features.some((f) => f.in_progress && !f.passes));
  // test/fixtures/golden has eight such cases; the shared reference, when present, may have more.
  assert.ok(cases.length >= 8, `golden vectors with features left in progress: ${cases.length}`);
  await checkAll(
    cases.map((c) => () => checkOrder(c.name, c.features, originalOrderWithResume(toGraph(c.features)))),
    (line) => ctx.diagnostic(line),
  );
});
