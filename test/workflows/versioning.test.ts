/**
 * Every workflow type in the bundle declares its Worker Versioning behavior (docs/upgrades.md):
 * a type added without one would silently take the worker's default. The short ones are pinned,
 * the long-lived ones auto-upgrade (and so must replay the previous release's histories). The
 * declaration names the behavior only on a versioned worker (test/upgrade checks the behaviors
 * Temporal recorded; the server would refuse an unversioned worker's tasks that named one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as workflows from '../../src/workflows/index.ts';
import { VERSIONED_WORKER_FLAG, versioningBehaviors } from '../../src/workflows/versioning.ts';

test('each workflow type declares its versioning behavior: agentRun and notifyWebhook pinned, the rest auto-upgrade', () => {
  assert.deepEqual(Object.keys(versioningBehaviors).sort(), Object.keys(workflows).sort());
  assert.deepEqual(versioningBehaviors, {
    agentRun: 'PINNED',
    notifyWebhook: 'PINNED',
    projectRun: 'AUTO_UPGRADE',
    mergeQueue: 'AUTO_UPGRADE',
    quotaGovernor: 'AUTO_UPGRADE',
    windowRun: 'AUTO_UPGRADE',
  });
});

test('the behavior is declared on a versioned worker only (an unversioned one must send none)', () => {
  const declared = () =>
    Object.fromEntries(
      Object.entries(workflows).map(([name, fn]) => {
        const options = (fn as { workflowDefinitionOptions?: () => { versioningBehavior?: string } })
          .workflowDefinitionOptions;
        return [name, options?.().versioningBehavior];
      }),
    );
  const global = globalThis as Record<string, unknown>;
  assert.ok(
    Object.values(declared()).every((b) => b === undefined),
    JSON.stringify(declared()),
  );
  global[VERSIONED_WORKER_FLAG] = true;
  try {
    assert.deepEqual(declared(), versioningBehaviors);
  } finally {
    delete global[VERSIONED_WORKER_FLAG];
  }
});
