/**
 * The steps of a scheduling pass (src/activities/schedule-steps.ts), each against a real Postgres
 * and Temporal server, and the pass that runs them in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimReadyFeatures } from '../../src/db/claims.ts';
import { importFeatures } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import {
  claimReady,
  claimTesters,
  decideEnd,
  foreignClaims,
  ownerStates,
  resumeStranded,
  settleClosed,
  startRecorded,
} from '../../src/activities/schedule-steps.ts';
import { agentRunPrefix, parseAgentRunId } from '../../src/workflows/run-ids.ts';
import { withActivityEnv } from '../support/activities.ts';

const env = withActivityEnv('steps');
let n = 0;

async function project(
  features: Array<{ id: number; dependencies?: number[]; passes?: boolean; in_progress?: boolean }>,
) {
  const id = `steps-${process.pid}-${++n}`;
  await upsertProject(env.t.db, { id, dir: env.dir });
  await importFeatures(
    env.t.db,
    id,
    features.map((f) => ({ name: `f${f.id}`, priority: f.id, ...f })),
  );
  return id;
}

const claimOne = async (projectId: string) => {
  const [claim] = await claimReadyFeatures(env.t.db, {
    projectId,
    limit: 1,
    maxRetries: 3,
  });
  assert.ok(claim, 'a feature was claimed');
  return claim;
};

const feature = (projectId: string, id: number) =>
  env.t.db
    .selectFrom('features')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

test('ownerStates: a running workflow, a closed one and one never started', async () => {
  const { client } = env.temporal;
  const never = `autocoder/steps-none/coding/1/${Date.now()}`;
  const states = await ownerStates(client, [never]);
  assert.equal(states.get(never), 'not-started');
});

test('foreignClaims + startRecorded: a claim made for an agent run that never started is started under its own ID', async () => {
  const p = await project([{ id: 1 }, { id: 2 }, { id: 3 }]);
  const handed = await claimOne(p);
  const foreign = await foreignClaims(env.t.db, env.temporal.client, { projectId: p, known: [] });
  assert.deepEqual(
    foreign.notStarted.map((h) => h.owner),
    [handed.claimedBy],
  );
  assert.deepEqual(foreign.adopt, []);
  assert.deepEqual(foreign.closed, []);
  // Known to the run: not foreign.
  const known = await foreignClaims(env.t.db, env.temporal.client, { projectId: p, known: [handed.claimedBy] });
  assert.equal(known.notStarted.length, 0);

  const started = await startRecorded(env.t.db, p, foreign.notStarted, { coding: 1, testing: 0 });
  assert.deepEqual(started.start, [
    { featureId: 1, featureName: 'f1', attempt: 1, workflowId: handed.claimedBy, kind: 'coding' },
  ]);
  assert.equal(started.coding, 0, 'it took the free coding slot');
  assert.equal((await feature(p, 1)).claimed_by, handed.claimedBy, 'no new attempt: the claim is kept');

  // No slot for it: kept (its report may be on its way), unless the run is ending.
  const none = await startRecorded(env.t.db, p, foreign.notStarted, { coding: 0, testing: 0 });
  assert.deepEqual(none.start, []);
  assert.equal((await feature(p, 1)).claimed_by, handed.claimedBy);
  // Held by an operator since it was claimed: never started, given back even with a free slot.
  const held = await startRecorded(env.t.db, p, foreign.notStarted, { coding: 1, testing: 0 }, { held: [1] });
  assert.deepEqual(held.start, []);
  assert.equal((await feature(p, 1)).claimed_by, null);
  const again = await claimOne(p);
  const stillForeign = await foreignClaims(env.t.db, env.temporal.client, { projectId: p, known: [] });
  assert.deepEqual(
    stillForeign.notStarted.map((h) => h.owner),
    [again.claimedBy],
  );
  await startRecorded(env.t.db, p, stillForeign.notStarted, { coding: 0, testing: 0 }, { releaseRest: true });
  const released = await feature(p, 1);
  assert.equal(released.claimed_by, null);
  assert.equal(released.failure_count, 0);
});

test('settleClosed: a run that closed without reporting is settled once, as crashed; a second settle returns the first', async () => {
  const p = await project([{ id: 1 }]);
  const claim = await claimOne(p);
  const closed = [{ owner: claim.claimedBy, kind: 'coding' as const, featureId: 1 }];
  const [first] = await settleClosed(env.t.db, { projectId: p, maxRetries: 3 }, closed);
  assert.equal(first?.outcome, 'crashed');
  assert.equal(first?.fresh, true);
  assert.equal(first?.failureCount, 1);
  const [second] = await settleClosed(env.t.db, { projectId: p, maxRetries: 3 }, closed);
  assert.equal(second?.fresh, false);
  assert.equal(second?.failureCount, 1, 'the failure was counted once');
  const row = await feature(p, 1);
  assert.equal(row.in_progress, false);
  assert.equal(row.failure_count, 1);
  const run = await env.t.db
    .selectFrom('agent_runs')
    .selectAll()
    .where('id', '=', claim.claimedBy)
    .executeTakeFirstOrThrow();
  assert.equal(run.outcome, 'crashed');
  assert.ok(run.ended_at);
});

test('resumeStranded: orphans in progress first, whatever their dependencies, then crashed ones, up to the slots', async () => {
  const p = await project([
    { id: 1, passes: true },
    { id: 2, dependencies: [5], in_progress: true },
    { id: 3 },
    { id: 4 },
    { id: 5 },
  ]);
  const one = await resumeStranded(env.t.db, { projectId: p, maxRetries: 3, exclude: [] }, [3], 1);
  assert.deepEqual(
    one.claims.map((c) => [c.featureId, c.attempt]),
    [[2, 1]],
  );
  assert.equal(one.left, 0);
  const crashed = await resumeStranded(env.t.db, { projectId: p, maxRetries: 3, exclude: [] }, [3, 4], 1);
  assert.deepEqual(
    crashed.claims.map((c) => c.featureId),
    [3],
  );
  const held = await resumeStranded(env.t.db, { projectId: p, maxRetries: 3, exclude: [4] }, [4], 1);
  assert.deepEqual(held.claims, [], 'a held feature is not resumed');
  const noSlot = await resumeStranded(env.t.db, { projectId: p, maxRetries: 3, exclude: [] }, [4], 0);
  assert.deepEqual(noSlot.claims, [], 'no slot: nothing claimed (no attempt spent)');
  assert.equal((await feature(p, 4)).attempts, 0);
});

test('claimReady and claimTesters: ready coding features in order; passing ones to distinct testers', async () => {
  const p = await project([{ id: 1, passes: true }, { id: 2, passes: true }, { id: 3, dependencies: [1] }, { id: 4 }]);
  const coding = await claimReady(env.t.db, { projectId: p, maxRetries: 3, exclude: [4] }, 5);
  assert.deepEqual(
    coding.map((c) => c.featureId),
    [3],
  );
  assert.deepEqual(parseAgentRunId(coding[0]!.workflowId), { projectId: p, kind: 'coding', featureId: 3, attempt: 1 });
  const { claims: testers } = await claimTesters(env.t.db, { projectId: p }, 5);
  assert.deepEqual(testers.map((c) => c.featureId).sort(), [1, 2]);
  assert.ok(testers.every((c) => c.kind === 'testing'));
});

test('decideEnd: complete when all pass, blocked naming the missing dependency, nothing while agents code', async () => {
  const done = await project([{ id: 1, passes: true }]);
  const base = { maxRetries: 3, exclude: [], codingSlots: 1, analyseBlocked: false };
  assert.equal((await decideEnd(env.t.db, { projectId: done, ...base }, false)).finished?.outcome, 'complete');
  const stuck = await project([
    { id: 1, passes: true },
    { id: 2, dependencies: [9] },
  ]);
  const blocked = await decideEnd(env.t.db, { projectId: stuck, ...base }, false);
  assert.equal(blocked.finished?.outcome, 'blocked');
  assert.match(blocked.finished?.message ?? '', /#2/);
  assert.equal((await decideEnd(env.t.db, { projectId: stuck, ...base }, true)).finished, null);
});

test('schedule: a handed-over claim is started by its ID, not claimed again, and no timer is involved', async () => {
  const p = await project([{ id: 1 }, { id: 2 }, { id: 3 }]);
  const handed = await claimOne(p);
  const { schedule } = env.activities();
  const pass = await schedule({
    projectId: p,
    maxRetries: 3,
    codingSlots: 2,
    testingSlots: 0,
    codingRunning: 0,
    known: [],
    exclude: [],
    analyseBlocked: false,
  });
  assert.deepEqual(
    pass.claims.map((c) => [c.featureId, c.workflowId]),
    [
      [1, handed.claimedBy],
      [2, `${agentRunPrefix(p, 'coding')}2/1`],
    ],
  );
  assert.equal(pass.resumeLeft, 0);
  assert.deepEqual(pass.settled, []);
});
