/**
 * reapOrphans at worker start: agent trees recorded on this host whose agentRun workflow is over
 * or unknown are killed (the whole tree) and their run recorded as crashed; a tree whose
 * workflow still runs is left alone, for the retried activity to adopt.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createActivities } from '../../src/activities/index.ts';
import { connectTemporal, type TemporalClient } from '../../src/client.ts';
import { recordAgentStart } from '../../src/db/agent-runs.ts';
import { upsertProject } from '../../src/db/projects.ts';
import { isProcessAlive, spawnAgent, type AgentHandle } from '../../src/supervisor/index.ts';
import { createTestDb, type TestDb } from '../support/db.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/agents/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ac-reap-'));
let t: TestDb;
let temporal: TemporalClient;

before(async () => {
  t = await createTestDb();
  const address = process.env.TEMPORAL_ADDRESS;
  assert.ok(address, 'run through scripts/test.ts (it provides TEMPORAL_ADDRESS)');
  temporal = await connectTemporal({ address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  await upsertProject(t.db, { id: 'reap', dir });
});
after(async () => {
  await temporal.close();
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

async function recordedAgent(runId: string): Promise<AgentHandle> {
  const handle = await spawnAgent({ argv: [fixture('forever')], cwd: dir, logPath: join(dir, `${runId.replaceAll('/', '_')}.log`) });
  await recordAgentStart(t.db, {
    id: runId, projectId: 'reap', featureId: 1, kind: 'coding', attempt: 1, host: hostname(),
    pid: handle.pid, pgid: handle.pgid, procStartTime: handle.startTime, logPath: handle.logPath, statusPath: handle.statusPath,
  });
  return handle;
}

test('trees of runs that are over or unknown are killed and recorded crashed; a live run is left alone', async () => {
  const queue = `reap-${process.pid}`;
  const orphanId = `autocoder/reap/coding/1/${process.pid}`;
  const liveId = `autocoder/reap/coding/2/${process.pid}`;
  const orphan = await recordedAgent(orphanId);
  const live = await recordedAgent(liveId);
  // A workflow nobody polls for stays RUNNING: the run that owns `live`.
  const owner = await temporal.client.workflow.start('agentRun', { taskQueue: queue, workflowId: liveId, args: [] });
  try {
    const activities = createActivities({ db: t.db, temporal: temporal.client, databaseUrl: t.url, stateDir: dir, host: hostname(), killGraceMs: 500, log: () => undefined });
    const { reaped } = await activities.reapOrphans();
    assert.deepEqual(reaped, [orphanId]);
    assert.equal(isProcessAlive(orphan.pid, orphan.startTime), false, 'the orphan tree is dead');
    assert.equal(isProcessAlive(live.pid, live.startTime), true, 'the live run is left for adoption');
    const rows = await t.db.selectFrom('agent_runs').select(['id', 'outcome', 'ended_at']).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.id, r.outcome]), [[orphanId, 'crashed'], [liveId, null]]);
  } finally {
    await owner.terminate('test over');
    await live.kill('stopped', { graceMs: 500 });
    await live.outcome();
    await orphan.outcome();
  }
});
