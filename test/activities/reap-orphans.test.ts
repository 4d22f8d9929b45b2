/**
 * reapOrphans at worker start: agent trees recorded on this host whose agentRun workflow is over
 * or unknown are killed (the whole tree) and their run recorded as crashed; a tree whose
 * workflow still runs is left alone, for the retried activity to adopt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordAgentStart } from '../../src/db/agent-runs.ts';
import { upsertProject } from '../../src/db/projects.ts';
import { isProcessAlive, spawnAgent, type AgentHandle } from '../../src/supervisor/index.ts';
import { withActivityEnv } from '../support/activities.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/agents/${name}`, import.meta.url));
const env = withActivityEnv('reap');
const { dir } = env;

async function recordedAgent(runId: string): Promise<AgentHandle> {
  const handle = await spawnAgent({
    argv: [fixture('forever')],
    cwd: dir,
    logPath: join(dir, `${runId.replaceAll('/', '_')}.log`),
  });
  await recordAgentStart(env.t.db, {
    id: runId,
    projectId: 'reap',
    featureId: 1,
    kind: 'coding',
    attempt: 1,
    host: hostname(),
    pid: handle.pid,
    pgid: handle.pgid,
    procStartTime: handle.startTime,
    logPath: handle.logPath,
    statusPath: handle.statusPath,
  });
  return handle;
}

test('trees of runs that are over or unknown are killed and recorded crashed; a live run is left alone', async () => {
  const queue = `reap-${process.pid}`;
  const orphanId = `autocoder/reap/coding/1/${process.pid}`;
  const liveId = `autocoder/reap/coding/2/${process.pid}`;
  await upsertProject(env.t.db, { id: 'reap', dir });
  const orphan = await recordedAgent(orphanId);
  const live = await recordedAgent(liveId);
  // A workflow nobody polls for stays RUNNING: the run that owns `live`.
  const owner = await env.temporal.client.workflow.start('agentRun', {
    taskQueue: queue,
    workflowId: liveId,
    args: [],
  });
  try {
    const activities = env.activities({ killGraceMs: 500 });
    const { reaped } = await activities.reapOrphans();
    assert.deepEqual(reaped, [orphanId]);
    assert.equal(isProcessAlive(orphan.pid, orphan.startTime), false, 'the orphan tree is dead');
    assert.equal(isProcessAlive(live.pid, live.startTime), true, 'the live run is left for adoption');
    const rows = await env.t.db.selectFrom('agent_runs').select(['id', 'outcome', 'ended_at']).orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => [r.id, r.outcome]),
      [
        [orphanId, 'crashed'],
        [liveId, null],
      ],
    );
  } finally {
    await owner.terminate('test over');
    await live.kill('stopped', { graceMs: 500 });
    await live.outcome();
    await orphan.outcome();
  }
});
