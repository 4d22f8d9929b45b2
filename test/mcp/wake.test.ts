/**
 * Marking a feature passing wakes the project's run: the `refresh` signal reaches workflow
 * `autocoder/<projectId>` on a real Temporal (the run's stack under npm test, else a private one).
 * The workflow here has no worker: its history shows which signals arrived, nothing else runs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { claimFeaturesByIds } from '../../src/db/claims.ts';
import { withTemporal } from '../support/temporal.ts';
import { agentEnv, autocoderBin, openMcp } from './support.ts';

describe('marking passing wakes the run', () => {
  const t = withTemporal({ startWorker: false, name: 'mcp-wake' });

  test('feature_mark_passing and `autocoder feature pass` send refresh to autocoder/<project>; no run is fine too', async () => {
    const projectId = await t.seedProject(
      [
        { id: 1, name: 'One' },
        { id: 2, name: 'Two' },
        { id: 3, name: 'Three' },
      ],
      { base: 'wake' },
    );
    const [claim] = await claimFeaturesByIds(t.db, {
      projectId,
      featureIds: [1],
      maxRetries: 3,
    });
    const handle = await t.client.workflow.start('projectRun', {
      workflowId: `autocoder/${projectId}`,
      taskQueue: t.taskQueue,
      args: [{ projectId }],
    });
    const temporalEnv = { TEMPORAL_ADDRESS: t.stack.address, TEMPORAL_NAMESPACE: t.stack.namespace };
    const mcp = await openMcp(
      agentEnv(t.databaseUrl, projectId, { ...temporalEnv, AUTOCODER_RUN_ID: claim!.claimedBy }),
    );
    try {
      assert.equal((await mcp.ok('feature_mark_passing', { feature_id: 1 })).scheduler_notified, true);

      const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          autocoderBin,
          ['feature', 'pass', '2'],
          { env: { ...process.env, ...agentEnv(t.databaseUrl, projectId, temporalEnv), AUTOCODER_RUN_ID: '' } },
          (error, stdout, stderr) => {
            resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
          },
        );
      });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, new RegExp(`woke the run autocoder/${projectId}`));

      const signals: string[] = [];
      for (const event of (await handle.fetchHistory()).events ?? []) {
        const name = event.workflowExecutionSignaledEventAttributes?.signalName;
        if (name) signals.push(name);
      }
      assert.deepEqual(signals, ['refresh', 'refresh']);
    } finally {
      await handle.terminate('test done').catch(() => undefined);
      await mcp.close();
    }
    // An operator session with no run to wake still passes the feature.
    const operator = await openMcp(agentEnv(t.databaseUrl, projectId, temporalEnv));
    try {
      assert.deepEqual(await operator.ok('feature_mark_passing', { feature_id: 3 }), {
        success: true,
        feature_id: 3,
        name: 'Three',
        scheduler_notified: false,
      });
    } finally {
      await operator.close();
    }
  });
});
