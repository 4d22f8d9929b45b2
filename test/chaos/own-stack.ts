/**
 * A private stack for the scenarios that restart a server (Temporal, Postgres): the shared test
 * stack must not go down under other test files. Built with privateStackConfig + stackUp; the
 * servers are stopped with the stack's own functions (by recorded pid, never by name) and started
 * again with stackUp, on the same ports, Temporal database file and Postgres data directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { connectTemporal, startOrJoinRun, type ProjectRunHandle, type TemporalClient } from '../../src/client.ts';
import { createDb, type DbHandle } from '../../src/db/create-db.ts';
import { importFeatures, type FeatureEntry } from '../../src/db/import.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { upsertProject } from '../../src/db/projects.ts';
import type { Database } from '../../src/db/tables.ts';
import { privateStackConfig, stackDown, stackPaths, stackUp, type StackInfo } from '../../src/stack/index.ts';
import { stopPostgres } from '../../src/stack/postgres.ts';
import { stopTemporalServer } from '../../src/stack/temporal-server.ts';
import { createAutocoderWorker } from '../../src/worker.ts';
import type { ProjectRunInput } from '../../src/workflows/messages.ts';
import { repoRoot, liveAgentProcesses } from '../support/temporal.ts';

export type OwnStack = {
  stack: StackInfo;
  /** The task queue runs are started on (and the in-process worker, if any, polls). */
  taskQueue: string;
  db: Kysely<Database>;
  client: TemporalClient['client'];
  stateDir: string;
  seedProject: (features: readonly FeatureEntry[], base: string) => Promise<string>;
  startRun: (projectId: string, settings: Partial<ProjectRunInput>) => Promise<ProjectRunHandle>;
  /** Stops the Temporal dev server, waits `downMs`, starts it again on the same database file. */
  restartTemporal: (downMs: number) => Promise<{ stoppedAt: number; upAt: number }>;
  /** Stops Postgres (pg_ctl), waits `downMs`, starts it again on the same data directory. */
  restartPostgres: (downMs: number) => Promise<{ stoppedAt: number; upAt: number }>;
  close: () => Promise<void>;
};

export async function createOwnStack(name: string, options: { worker?: boolean } = {}): Promise<OwnStack> {
  process.env.AUTOCODER_TOOLS_DIR ??= join(repoRoot, '.autocoder-test', 'tools');
  const home = mkdtempSync(join(tmpdir(), `ac-chaos-${name}-`));
  const cfg = await privateStackConfig(home);
  const paths = stackPaths(cfg);
  const stack = await stackUp(cfg);
  const database: DbHandle = createDb(stack.databaseUrl, { applicationName: 'autocoder-chaos-test' });
  await migrateToLatest(database.db);
  const temporal = await connectTemporal({ address: stack.temporal.address, namespace: stack.temporal.namespace });
  const taskQueue = `chaos-${name}-${randomBytes(3).toString('hex')}`;
  const stateDir = join(home, 'state');
  // Without one, the test runs its own (e.g. in a child process it can SIGKILL).
  const worker =
    options.worker === false
      ? null
      : await createAutocoderWorker({
          temporal: { address: stack.temporal.address, namespace: stack.temporal.namespace },
          taskQueue,
          databaseUrl: stack.databaseUrl,
          stateDir,
          killGraceMs: 500,
          logLevel: (process.env.AUTOCODER_TEST_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR',
        });
  const running = worker?.run() ?? Promise.resolve();
  const projects: string[] = [];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const restart = async (stop: () => Promise<unknown>, downMs: number) => {
    const stoppedAt = Date.now();
    await stop();
    await sleep(downMs);
    await stackUp(cfg);
    return { stoppedAt, upAt: Date.now() };
  };
  return {
    stack,
    taskQueue,
    db: database.db,
    client: temporal.client,
    stateDir,
    async seedProject(features, base) {
      const projectId = `${base}-${randomBytes(3).toString('hex')}`;
      projects.push(projectId);
      const dir = join(stateDir, 'projects', projectId);
      mkdirSync(dir, { recursive: true });
      await upsertProject(database.db, { id: projectId, dir });
      await importFeatures(database.db, projectId, features);
      return projectId;
    },
    async startRun(projectId, settings) {
      const { handle } = await startOrJoinRun(temporal.client, taskQueue, {
        agent: 'simulate',
        testingRatio: 0,
        pollIntervalMs: 1000,
        ...settings,
        projectId,
        projectDir: join(stateDir, 'projects', projectId),
      } as ProjectRunInput);
      return handle;
    },
    restartTemporal: (downMs) => restart(() => stopTemporalServer(paths), downMs),
    restartPostgres: (downMs) => restart(() => stopPostgres(paths), downMs),
    async close() {
      await worker?.shutdown();
      await running.catch(() => undefined);
      for (const projectId of projects)
        for (const pid of liveAgentProcesses(projectId)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      await Promise.allSettled([temporal.close(), database.close()]);
      await stackDown(cfg);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
