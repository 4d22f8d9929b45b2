/**
 * Each workflow type's behavior under Worker Versioning (`worker --deployment --build-id`;
 * docs/upgrades.md). PINNED: a run ends on the version it started on, so its code may change
 * freely between releases, and the old version's workers stay until such runs close. AUTO_UPGRADE:
 * the run moves to the new current version at its next workflow task, so a release must replay the
 * previous release's histories of these types (patched() once releases are tagged).
 * - agentRun: one agent's attempt (minutes to hours); its supervision stays with its version's
 *   workers on the agent's host. notifyWebhook: one POST.
 * - projectRun, mergeQueue, quotaGovernor, windowRun: they live for days or wait for hours; pinned,
 *   they would hold the old version up for as long.
 */
import { setWorkflowOptions } from '@temporalio/workflow';
import type { VersioningBehavior } from '@temporalio/common';

export const versioningBehaviors = {
  agentRun: 'PINNED',
  notifyWebhook: 'PINNED',
  projectRun: 'AUTO_UPGRADE',
  mergeQueue: 'AUTO_UPGRADE',
  quotaGovernor: 'AUTO_UPGRADE',
  windowRun: 'AUTO_UPGRADE',
} as const satisfies Record<string, VersioningBehavior>;

/**
 * Set to true in the sandbox's globals by a versioned worker (src/worker.ts prefixes its bundle
 * with it). The history cannot tell: a run replayed on this worker may have started on a worker of
 * the other kind.
 */
export const VERSIONED_WORKER_FLAG = '__autocoderVersionedWorker';

const onVersionedWorker = (): boolean => (globalThis as Record<string, unknown>)[VERSIONED_WORKER_FLAG] === true;

/**
 * Declares the behavior on a versioned worker only: the server refuses the completion of an
 * unversioned worker's task that names one ("versioning behavior cannot be specified without
 * deployment options"), and unversioned workers are the default.
 */
export function declareVersioning(fn: (...args: never[]) => Promise<unknown>, behavior: VersioningBehavior): void {
  setWorkflowOptions(() => (onVersionedWorker() ? { versioningBehavior: behavior } : {}), fn);
}
