/**
 * Typed helpers over the Temporal client: connect (with a clear error when unreachable), start or
 * join a project's run, read its status whether it runs or has ended, and link to the web UI.
 */
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type ConnectionOptions,
  type WorkflowHandle,
} from '@temporalio/client';
import { InfraError, UserError } from './errors.ts';
import type { projectRun } from './workflows/project-run.ts';
import {
  projectRunId,
  statusQuery,
  type FeatureCounts,
  type RunOutcome,
  type RunPhase,
  type ProjectRunInput,
  type ProjectRunResult,
  type ProjectRunStatus,
} from './workflows/messages.ts';
import { searchAttributes } from './workflows/search-attributes.ts';
import { mergeStatusQuery, type MergeQueueStatus } from './workflows/merge-messages.ts';
import { mergeQueueId } from './workflows/run-ids.ts';

export type TemporalTarget = {
  address: string;
  namespace: string;
  uiUrl?: string | undefined;
  /** An external Temporal (cluster, Cloud): TLS, API key and gRPC metadata come from @temporalio/envconfig. */
  useEnvConfig?: boolean;
};

/** TLS, API key and metadata for an external Temporal, from env vars and the profile file. */
export async function connectionExtras(
  target: TemporalTarget,
): Promise<{ tls?: ConnectionOptions['tls']; apiKey?: string; metadata?: Record<string, string> }> {
  if (!target.useEnvConfig) return {};
  const { loadClientConnectConfig } = await import('@temporalio/envconfig');
  let options;
  try {
    options = loadClientConnectConfig().connectionOptions;
  } catch (err) {
    throw new UserError(`the Temporal client configuration is invalid: ${(err as Error).message}`, {
      hint: 'check TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE and the TEMPORAL_TLS_* / TEMPORAL_API_KEY variables',
    });
  }
  return {
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(typeof options.apiKey === 'string' ? { apiKey: options.apiKey } : {}),
    ...(options.metadata ? { metadata: options.metadata as Record<string, string> } : {}),
  };
}
export type TemporalClient = { client: Client; connection: Connection; close: () => Promise<void> };

export async function connectTemporal(target: TemporalTarget): Promise<TemporalClient> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: target.address,
      connectTimeout: '5s',
      ...(await connectionExtras(target)),
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new InfraError(`Temporal is unreachable at ${target.address}: ${(err as Error).message}`, {
      hint: 'start the local stack with `autocoder up`, or set TEMPORAL_ADDRESS to a running Temporal frontend',
      cause: err,
    });
  }
  const client = new Client({ connection, namespace: target.namespace });
  return { client, connection, close: () => connection.close() };
}

export type ProjectRunHandle = WorkflowHandle<typeof projectRun>;

export function projectRunHandle(client: Client, projectId: string, runId?: string): ProjectRunHandle {
  return client.workflow.getHandle<typeof projectRun>(projectRunId(projectId), runId);
}

/**
 * Starts the project's run, or joins the one already running: the workflow ID is the lock, so
 * two starts for one project never make two runs.
 */
export async function startOrJoinRun(
  client: Client,
  taskQueue: string,
  input: ProjectRunInput,
): Promise<{ handle: ProjectRunHandle; joined: boolean }> {
  const workflowId = projectRunId(input.projectId);
  // Every project of one Claude account shares its usage limit: the default key names the account's config dir.
  const { defaultQuotaKey } = await import('./activities/quota.ts');
  const args = { ...input, quotaKey: input.quotaKey ?? defaultQuotaKey() };
  try {
    const handle = await client.workflow.start<typeof projectRun>('projectRun', {
      workflowId,
      taskQueue,
      args: [args],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `project ${input.projectId}`,
      staticDetails: `Directory: ${input.projectDir}\nAgent: ${input.agent ?? 'claude'}, concurrency ${input.concurrency ?? 3}`,
      typedSearchAttributes: [{ key: searchAttributes.project, value: input.projectId }],
    });
    return { handle, joined: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { handle: projectRunHandle(client, input.projectId), joined: true };
    throw err;
  }
}

/** The shape of `autocoder status --json` and of the workflow's status query (DESIGN.md §3). */
export type StatusReport = {
  project: string;
  phase: RunPhase | null;
  outcome: RunOutcome | null;
  counts: FeatureCounts;
  /** Each running agent with every feature it holds (`featureIds`: a batch's, or just its one). */
  running: ProjectRunStatus['running'];
  workflowId: string;
  runId: string | null;
  status?: ProjectRunStatus;
  result?: ProjectRunResult;
  /** The run is in progress but no worker answered the status query. */
  unanswered?: string;
};

const QUERY_DEADLINE_MS = 5000;
const emptyCounts = (): FeatureCounts => ({
  total: 0,
  passing: 0,
  running: 0,
  pending: 0,
  blocked: 0,
  failed: 0,
  merging: 0,
  needs_human_input: 0,
});

/** Status of the project's latest run: live from the query, or from the result once it ended. */
export async function readRunStatus(client: Client, projectId: string): Promise<StatusReport | null> {
  const handle = projectRunHandle(client, projectId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
  const base = { project: projectId, workflowId: handle.workflowId, runId: description.runId };
  if (description.status.name === 'RUNNING') {
    try {
      // A query needs a worker; without one it would wait for the server's long timeout.
      const status = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        handle.query(statusQuery),
      );
      return { ...base, phase: status.phase, outcome: null, counts: status.counts, running: status.running, status };
    } catch (err) {
      if (
        err instanceof Error &&
        /deadline|DEADLINE_EXCEEDED|Failed to query/i.test(`${err.message} ${String(err.cause ?? '')}`)
      ) {
        return {
          ...base,
          phase: null,
          outcome: null,
          counts: emptyCounts(),
          running: [],
          unanswered: `no worker answered the status query within ${QUERY_DEADLINE_MS / 1000} s: start one with \`autocoder worker\``,
        };
      }
      throw err;
    }
  }
  if (description.status.name === 'COMPLETED') {
    const result = await projectRunHandle(client, projectId, description.runId).result();
    return { ...base, phase: 'done', outcome: result.outcome, counts: result.counts, running: [], result };
  }
  const outcome: RunOutcome =
    description.status.name === 'TERMINATED' || description.status.name === 'CANCELLED' ? 'stopped' : 'failed';
  return { ...base, phase: 'done', outcome, counts: emptyCounts(), running: [] };
}

/** The Temporal web UI page of a workflow run (workflow IDs contain '/', so they are encoded). */
export function workflowUiUrl(uiBase: string, namespace: string, workflowId: string, runId?: string | null): string {
  const base = `${uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/** The project's merge queue status (worktree isolation), or null when no queue is running. */
export async function readMergeQueue(client: Client, projectId: string): Promise<MergeQueueStatus | null> {
  const handle = client.workflow.getHandle(mergeQueueId(projectId));
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return null;
    return await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(mergeStatusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
