/**
 * Our side of bench/batches.ts: one scenario at one batch size through the real workflow, worker,
 * Temporal dev server and Postgres with zero-work agents, as bench/orchestration.ts runs it, with
 * the figures the original's side gives too (bench/original.ts).
 */
import { freshBenchDatabase } from './bench-db.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connectTemporal, startOrJoinRun } from '../src/client.ts';
import { importFeatures, type FeatureEntry } from '../src/db/import.ts';
import { upsertProject } from '../src/db/projects.ts';
import { logFileFor } from '../src/activities/supervise.ts';
import type { stackUp } from '../src/stack/index.ts';
import { readStatusFile, statusPathFor } from '../src/supervisor/index.ts';
import type { ProjectRunInput } from '../src/workflows/messages.ts';
import { createAutocoderWorker } from '../src/worker.ts';
import type { ZeroWorkAgent } from './agents/build.ts';
import { handoffP50, type SideResult } from './original.ts';

type Stack = Awaited<ReturnType<typeof stackUp>>;

const runTimeoutMs = 300_000;

export async function runOurs(
  stack: Stack,
  home: string,
  agent: ZeroWorkAgent,
  name: string,
  features: FeatureEntry[],
  settings: { concurrency: number; batchSize: number },
): Promise<SideResult> {
  const { databaseUrl, database } = await freshBenchDatabase(stack.databaseUrl, name);
  const projectId = name;
  const projectDir = join(home, 'projects', projectId);
  mkdirSync(projectDir, { recursive: true });
  await upsertProject(database.db, { id: projectId, dir: projectDir });
  await importFeatures(database.db, projectId, features);

  const temporalTarget = { address: stack.temporal.address, namespace: stack.temporal.namespace };
  const taskQueue = `bench-${projectId}-${process.pid}`;
  const worker = await createAutocoderWorker({
    temporal: temporalTarget,
    taskQueue,
    databaseUrl,
    stateDir: home,
    maxConcurrentAgents: settings.concurrency + 5,
  });
  const running = worker.run();
  const temporal = await connectTemporal(temporalTarget);
  // batchSize only when batching: 1 is the default, and a build without batches rejects the field.
  const runSettings = {
    concurrency: settings.concurrency,
    maxConcurrency: Math.max(5, settings.concurrency),
    maxAgents: settings.concurrency + 1,
    testingRatio: 0,
    yolo: true,
    agent: 'command' as const,
    agentCmd: agent.argv,
    pollIntervalMs: 5000,
    ...(settings.batchSize > 1 ? { batchSize: settings.batchSize } : {}),
  } as Omit<ProjectRunInput, 'projectId' | 'projectDir'>;
  try {
    // Warm-up: one single-feature run, so the worker has loaded its workflow bundle.
    await upsertProject(database.db, { id: `${projectId}-warmup`, dir: projectDir });
    await importFeatures(database.db, `${projectId}-warmup`, [{ id: 1, name: 'warm-up' }]);
    await (
      await startOrJoinRun(temporal.client, taskQueue, { ...runSettings, projectId: `${projectId}-warmup`, projectDir })
    ).handle.result();

    const started = performance.now();
    const { handle } = await startOrJoinRun(temporal.client, taskQueue, { ...runSettings, projectId, projectDir });
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no result after ${runTimeoutMs / 1000} s (the run was terminated)`));
          void handle.terminate('bench: timed out').catch(() => undefined);
        }, runTimeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const processMs = Math.round(performance.now() - started);

    const runs = await database.db
      .selectFrom('agent_runs')
      .select(['id', 'feature_id', 'kind'])
      .where('project_id', '=', projectId)
      .where('kind', '=', 'coding')
      .execute();
    const passed = await database.db
      .selectFrom('features')
      .select(['id', 'passes', 'updated_at'])
      .where('project_id', '=', projectId)
      .execute();
    const passedAt = new Map(passed.filter((f) => f.passes).map((f) => [f.id, f.updated_at.getTime()]));
    // Agent process starts, as their launchers recorded them; a run is named after its first feature.
    const startOf = new Map<number, number>();
    for (const run of runs) {
      const status = readStatusFile(statusPathFor(logFileFor(home, run.id)));
      if (status && run.feature_id !== null)
        startOf.set(run.feature_id, Math.min(startOf.get(run.feature_id) ?? Infinity, Date.parse(status.startedAt)));
    }
    const byId = new Map(features.map((f) => [f.id, f]));
    // Passes in dependency order, and each run started after its first feature's dependencies passed.
    const dependencyOrderKept =
      passedAt.size === features.length &&
      features.every((f) =>
        (f.dependencies ?? []).every((d) => (passedAt.get(d) ?? Infinity) <= passedAt.get(f.id)!),
      ) &&
      [...startOf].every(([first, start]) =>
        (byId.get(first)?.dependencies ?? []).every((d) => (passedAt.get(d) ?? Infinity) <= start),
      );
    const complete = result.outcome === 'complete' && passedAt.size === features.length;
    return {
      outcome: complete ? 'complete' : 'failed',
      wallMs: startOf.size && passedAt.size ? Math.max(...passedAt.values()) - Math.min(...startOf.values()) : null,
      processMs,
      agentsSpawned: runs.length,
      featuresPassing: passedAt.size,
      dependencyOrderKept,
      handoffP50Ms: handoffP50(
        [...startOf].map(([first, start]) => ({ start, firstDeps: byId.get(first)?.dependencies ?? [] })),
        passedAt,
      ),
      ...(complete ? {} : { error: `run outcome ${result.outcome}, ${passedAt.size}/${features.length} passing` }),
    };
  } catch (err) {
    return {
      outcome: 'failed',
      wallMs: null,
      processMs: 0,
      agentsSpawned: 0,
      featuresPassing: 0,
      dependencyOrderKept: false,
      handoffP50Ms: null,
      error: describe(err),
    };
  } finally {
    await worker.shutdown();
    await running;
    await temporal.close();
    await database.close();
  }
}

/** The innermost cause: a workflow's failure wraps the ApplicationFailure that says why. */
function describe(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e.cause) e = e.cause as typeof e;
  return e.message ?? String(err);
}
