/**
 * What a versioned `autocoder worker` tells its operator (docs/upgrades.md): at start, whether its
 * version is the deployment's current one and, if not, the Temporal CLI command that makes it so;
 * at exit, the runs still pinned to it when it is no longer current (only a worker of this version
 * can finish them). The operator's tool stays the Temporal CLI: nothing here changes the routing.
 */
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';

export const versionLabel = (v: WorkerDeploymentVersion): string => `${v.deploymentName}:${v.buildId}`;

/** The visibility query of the open runs pinned to a version (docs/upgrades.md step 4). */
export const pinnedRunsQuery = (v: WorkerDeploymentVersion): string =>
  `TemporalWorkerDeploymentVersion='${versionLabel(v)}' AND TemporalWorkflowVersioningBehavior='Pinned' AND ExecutionStatus='Running'`;

type Routing = { current: WorkerDeploymentVersion | null; ramping: WorkerDeploymentVersion | null };

/**
 * The deployment's current and ramping versions; null when it does not exist yet. A worker's first
 * poll creates the deployment, so a caller that just started polling may retry.
 */
export async function deploymentRouting(client: Client, deploymentName: string): Promise<Routing | null> {
  try {
    const { workerDeploymentInfo } = await client.workflowService.describeWorkerDeployment({
      namespace: client.options.namespace,
      deploymentName,
    });
    const routing = workerDeploymentInfo?.routingConfig;
    const version = (v: { deploymentName?: string | null; buildId?: string | null } | null | undefined) =>
      v?.deploymentName && v.buildId ? { deploymentName: v.deploymentName, buildId: v.buildId } : null;
    return { current: version(routing?.currentDeploymentVersion), ramping: version(routing?.rampingDeploymentVersion) };
  } catch (err) {
    if ((err as { code?: number }).code === 5) return null; // gRPC NOT_FOUND
    throw err;
  }
}

const same = (a: WorkerDeploymentVersion | null, b: WorkerDeploymentVersion) =>
  a !== null && a.deploymentName === b.deploymentName && a.buildId === b.buildId;

/**
 * The task queues the server lists for this version; empty until the version exists. A worker's
 * first poll of a queue registers it, a moment after the worker starts polling.
 */
async function registeredQueues(client: Client, version: WorkerDeploymentVersion): Promise<string[]> {
  try {
    const { workerDeploymentVersionInfo } = await client.workflowService.describeWorkerDeploymentVersion({
      namespace: client.options.namespace,
      deploymentVersion: version,
    });
    return (workerDeploymentVersionInfo?.taskQueueInfos ?? []).map((q) => q.name ?? '');
  } catch (err) {
    if ((err as { code?: number }).code === 5) return []; // gRPC NOT_FOUND
    throw err;
  }
}

/**
 * The start-up line, once the server lists the version with all of these task queues (before
 * that, set-current-version fails: "no Worker Deployment found"): is it current, and if not, how
 * to make it so.
 */
export async function routingNotice(
  client: Client,
  version: WorkerDeploymentVersion,
  taskQueues: readonly string[],
  timeoutMs = 30_000,
): Promise<string> {
  const label = versionLabel(version);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queues = await registeredQueues(client, version);
    if (taskQueues.every((q) => queues.includes(q))) break;
    if (Date.now() > deadline)
      return `version ${label} is not registered yet (the server lists its task queues ${JSON.stringify(queues)}); check with: temporal worker deployment describe-version --deployment-name ${version.deploymentName} --build-id ${version.buildId}`;
    await sleep(200);
  }
  const routing = await deploymentRouting(client, version.deploymentName);
  if (routing !== null && same(routing.current, version))
    return `version ${label} is registered and current: new runs start on it and running projects move to it`;
  const makeCurrent = `temporal worker deployment set-current-version --deployment-name ${version.deploymentName} --build-id ${version.buildId} --yes`;
  const current = routing?.current ? versionLabel(routing.current) : null;
  if (current === null)
    return `version ${label} is registered; the deployment has no current version, so no run starts until one is made current: ${makeCurrent}`;
  return `version ${label} is registered but not current (${current} is): it runs only what is pinned to it; to upgrade to it: ${makeCurrent}`;
}

/** The exit line: runs left pinned to a version that is no longer current or ramping, if any. */
export async function pinnedLeftNotice(client: Client, version: WorkerDeploymentVersion): Promise<string | null> {
  const routing = await deploymentRouting(client, version.deploymentName);
  if (routing === null || same(routing.current, version) || same(routing.ramping, version)) return null;
  const { count } = await client.workflow.count(pinnedRunsQuery(version));
  if (count === 0) return null;
  const move =
    routing.current === null
      ? ''
      : `, or move them to ${versionLabel(routing.current)} if it replays them: temporal workflow update-options --query "${pinnedRunsQuery(version)}" --versioning-override-behavior one_time --versioning-override-deployment-name ${routing.current.deploymentName} --versioning-override-build-id ${routing.current.buildId} --yes`;
  return `${count} run(s) are still pinned to ${versionLabel(version)}, which is not current: they wait for a worker of that version (start one again)${move}`;
}
