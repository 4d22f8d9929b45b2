/**
 * What `autocoder run` and `autocoder demo` share: register the project, import its features,
 * start (or join) the durable run, host a worker in this process, show progress, and print the
 * summary with the run's page in the Temporal UI.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRunId, statusQuery, type ProjectRunInput, type ProjectRunResult } from '../workflows/messages.ts';
import { readRunStatus, startOrJoinRun, workflowUiUrl, type ProjectRunHandle } from '../client.ts';
import { importFeatures, type FeatureEntry } from '../db/import.ts';
import { upsertProject } from '../db/projects.ts';
import { workerVersionOf } from '../config/env.ts';
import { UserError } from '../errors.ts';
import { loadFeatureFile } from '../features/index.ts';
import { createAutocoderWorker, type AutocoderWorker } from '../worker.ts';
import { refuseSharedOnManyHosts } from './host-status.ts';
import { printSummary } from './summary.ts';
import { startLiveView } from './live-view.ts';
import type { Runtime } from './runtime.ts';

export type RunProjectOptions = {
  projectId: string;
  projectDir: string;
  featuresFile?: string | undefined;
  reset: boolean;
  detach: boolean;
  settings: Omit<ProjectRunInput, 'projectId' | 'projectDir'>;
  /** The hosted worker's cap on agents (`--max-agents`, default 20) and its metrics address (`--metrics`). */
  worker?: { maxAgents?: number; metricsAddress?: string | undefined };
  out: (line: string) => void;
};

export async function runProject(rt: Runtime, options: RunProjectOptions): Promise<number> {
  const { projectId, out } = options;
  const projectDir = resolve(options.projectDir);
  const { db } = rt.database;
  const { client } = rt.temporal;

  const previous = await readRunStatus(client, projectId);
  const running = previous?.outcome === null;
  if (running && options.reset) {
    throw new UserError(`project ${projectId} has a run in progress, so --reset cannot start over now`, {
      hint: `stop it first with \`autocoder stop ${projectId}\`, or leave out --reset to join it`,
    });
  }

  // The project dir is on this host: agents that work in it run here (messages.ts homeHost).
  const homeHost = options.settings.homeHost ?? rt.config.hostId;
  if (!running && !options.settings.isolation) await refuseSharedOnManyHosts(client, rt.config.taskQueue, homeHost);

  mkdirSync(projectDir, { recursive: true });
  await upsertProject(db, { id: projectId, dir: projectDir });
  if (options.featuresFile && !running) {
    const entries: FeatureEntry[] = await loadFeatureFile(options.featuresFile);
    const counts = await importFeatures(db, projectId, entries, { reset: options.reset });
    out(
      `features: ${entries.length} in ${options.featuresFile} (${counts.inserted} new, ${counts.updated} updated, ${counts.unchanged} unchanged)`,
    );
  }

  let worker: AutocoderWorker | undefined;
  let workerDone: Promise<void> | undefined;
  if (!options.detach) {
    worker = await createAutocoderWorker({
      temporal: rt.temporalTarget,
      taskQueue: rt.config.taskQueue,
      databaseUrl: rt.stack.databaseUrl,
      stateDir: rt.config.home,
      hostId: rt.config.hostId,
      ...(options.worker?.maxAgents === undefined ? {} : { maxConcurrentAgents: options.worker.maxAgents }),
      metricsAddress: options.worker?.metricsAddress,
      workflowStackTraces: rt.config.workflowStackTraces,
      timeZone: rt.config.timeZone,
      installationDailyBudgetUsd: rt.config.dailyBudgetUsd,
      // AUTOCODER_DEPLOYMENT/AUTOCODER_BUILD_ID version this worker as they do `autocoder worker`.
      version: workerVersionOf(rt.config),
    });
    workerDone = worker.run();
    if (options.worker?.metricsAddress) out(`metrics at http://${options.worker.metricsAddress}/metrics`);
  }
  try {
    const { handle, joined } = await startOrJoinRun(client, rt.config.taskQueue, {
      projectId,
      projectDir,
      // The run's page, for notifications to link to.
      ...(rt.temporalTarget.uiUrl
        ? { uiUrl: workflowUiUrl(rt.temporalTarget.uiUrl, rt.temporalTarget.namespace, projectRunId(projectId)) }
        : {}),
      ...options.settings,
      homeHost,
    });
    const firstRunId = (await handle.describe()).runId;
    const uiUrl = rt.temporalTarget.uiUrl
      ? workflowUiUrl(rt.temporalTarget.uiUrl, rt.temporalTarget.namespace, handle.workflowId, firstRunId)
      : null;
    out(`${joined ? 'joined the run in progress' : 'started run'} ${handle.workflowId}${uiUrl ? ` — ${uiUrl}` : ''}`);
    if (options.detach) {
      out(
        `detached: follow it with \`autocoder status ${projectId} --watch\`; a worker must be running (\`autocoder worker\`)`,
      );
      return 0;
    }
    const result = await followToEnd(handle, rt.config.home, out);
    const last = await handle.describe();
    const finalUrl = rt.temporalTarget.uiUrl
      ? workflowUiUrl(rt.temporalTarget.uiUrl, rt.temporalTarget.namespace, handle.workflowId, last.runId)
      : null;
    await printSummary(db, projectId, result, finalUrl, out);
    return result.outcome === 'complete' || result.outcome === 'drained' || result.outcome === 'stopped' ? 0 : 1;
  } finally {
    if (worker) {
      await worker.shutdown();
      await workerDone;
    }
  }
}

async function followToEnd(
  handle: ProjectRunHandle,
  stateDir: string,
  out: (line: string) => void,
): Promise<ProjectRunResult> {
  const stopWatching = startLiveView({ read: () => handle.query(statusQuery), stateDir, out });
  try {
    // result() follows continue-as-new to the run that really ends.
    return await handle.result();
  } finally {
    await stopWatching();
  }
}
