import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ClaimLostError } from '../../src/errors.ts';
import { listAgentRuns, liveAgentRuns, recordAgentStart } from '../../src/db/agent-runs.ts';
import { claimFeaturesByIds, claimFeaturesForTesting, claimReadyFeatures } from '../../src/db/claims.ts';
import { featureCounts, getFeature, markFeature, resetFailures } from '../../src/db/features.ts';
import { heldClaims } from '../../src/db/held-claims.ts';
import { recordOutcome, releaseClaim } from '../../src/db/transitions.ts';
import { withTestDb } from '../support/db.ts';
import { codingPrefix, flatEntries, seedProject } from './seed.ts';

const t = withTestDb();

async function claimOne(projectId: string) {
  const [claim] = await claimReadyFeatures(t.db, {
    projectId,
    limit: 1,
    maxRetries: 3,
  });
  assert.ok(claim, 'a feature was ready');
  return claim;
}

describe('owner fencing', () => {
  test('a non-owner release, outcome or mark raises ClaimLostError and changes nothing', async () => {
    const projectId = await seedProject(t.db, flatEntries(2));
    const claim = await claimOne(projectId);
    const intruder = `${codingPrefix(projectId)}${claim.id}/99`;
    await assert.rejects(releaseClaim(t.db, { projectId, featureId: claim.id, owner: intruder }), ClaimLostError);
    await assert.rejects(
      recordOutcome(t.db, {
        projectId,
        featureId: claim.id,
        owner: intruder,
        kind: 'coding',
        outcome: 'failed',
        exitCode: 1,
      }),
      (error: unknown) => error instanceof ClaimLostError && error.owner === intruder && error.featureId === claim.id,
    );
    await assert.rejects(
      markFeature(t.db, { projectId, featureId: claim.id, passes: true, runId: intruder }),
      ClaimLostError,
    );
    const row = await getFeature(t.db, projectId, claim.id);
    assert.equal(row?.claimedBy, claim.claimedBy);
    assert.equal(row?.failureCount, 0);
    assert.equal(row?.passes, false);
    // The owner still can.
    await releaseClaim(t.db, { projectId, featureId: claim.id, owner: claim.claimedBy });
    assert.equal((await getFeature(t.db, projectId, claim.id))?.state, 'pending');
    // …once: the claim is gone now.
    await assert.rejects(
      releaseClaim(t.db, { projectId, featureId: claim.id, owner: claim.claimedBy }),
      ClaimLostError,
    );
  });

  test('the agent run row is recorded even when the claim was lost', async () => {
    const projectId = await seedProject(t.db, flatEntries(1));
    const claim = await claimOne(projectId);
    // Someone else owns the feature now (released, then claimed again as a new attempt).
    await releaseClaim(t.db, { projectId, featureId: claim.id, owner: claim.claimedBy });
    await claimFeaturesByIds(t.db, { projectId, featureIds: [claim.id], maxRetries: 3 });
    await assert.rejects(
      recordOutcome(t.db, {
        projectId,
        featureId: claim.id,
        owner: claim.claimedBy,
        kind: 'coding',
        outcome: 'crashed',
        signal: 'SIGKILL',
      }),
      ClaimLostError,
    );
    const [run] = await listAgentRuns(t.db, { projectId, featureId: claim.id });
    assert.equal(run?.id, claim.claimedBy);
    assert.equal(run?.outcome, 'crashed');
    assert.ok(run?.ended_at);
  });
});

describe('recordOutcome (coding)', () => {
  test('a passing feature releases the claim without a failure', async () => {
    const projectId = await seedProject(t.db, flatEntries(1));
    const claim = await claimOne(projectId);
    await markFeature(t.db, { projectId, featureId: claim.id, passes: true, runId: claim.claimedBy });
    const result = await recordOutcome(t.db, {
      projectId,
      featureId: claim.id,
      owner: claim.claimedBy,
      kind: 'coding',
      outcome: 'passed',
      exitCode: 0,
      costUsd: 0.42,
      tokens: { input: 10, output: 5 },
    });
    assert.deepEqual(result, {
      outcome: 'passed',
      fresh: true,
      error: null,
      passes: true,
      failureCount: 0,
      countedAsFailure: false,
      gaveUp: false,
    });
    const row = await getFeature(t.db, projectId, claim.id);
    assert.equal(row?.state, 'passing');
    assert.equal(row?.claimedBy, null);
    const [run] = await listAgentRuns(t.db, { projectId, featureId: claim.id });
    assert.equal(run?.cost_usd, 0.42);
    assert.deepEqual(run?.tokens, { input: 10, output: 5 });
  });

  test('exit 0 without the feature passing is a failed attempt', async () => {
    const projectId = await seedProject(t.db, flatEntries(1));
    const claim = await claimOne(projectId);
    const result = await recordOutcome(t.db, {
      projectId,
      featureId: claim.id,
      owner: claim.claimedBy,
      kind: 'coding',
      outcome: 'passed',
      exitCode: 0,
    });
    assert.equal(result.outcome, 'failed');
    assert.equal(result.failureCount, 1);
    assert.equal(result.countedAsFailure, true);
    const row = await getFeature(t.db, projectId, claim.id);
    assert.match(row?.lastError ?? '', /exited 0 without feature #1 passing/);
    assert.equal(row?.state, 'pending');
    assert.equal((await listAgentRuns(t.db, { projectId }))[0]?.outcome, 'failed');
  });

  test('stopped releases without counting; crash and timeout count with their error', async () => {
    const projectId = await seedProject(t.db, flatEntries(1));
    let claim = await claimOne(projectId);
    let result = await recordOutcome(t.db, {
      projectId,
      featureId: 1,
      owner: claim.claimedBy,
      kind: 'coding',
      outcome: 'stopped',
      signal: 'SIGTERM',
    });
    assert.equal(result.failureCount, 0);
    claim = await claimOne(projectId);
    result = await recordOutcome(t.db, {
      projectId,
      featureId: 1,
      owner: claim.claimedBy,
      kind: 'coding',
      outcome: 'crashed',
      signal: 'SIGSEGV',
      error: 'segfault in agent',
    });
    assert.equal(result.failureCount, 1);
    claim = await claimOne(projectId);
    result = await recordOutcome(t.db, {
      projectId,
      featureId: 1,
      owner: claim.claimedBy,
      kind: 'coding',
      outcome: 'timed_out',
    });
    assert.equal(result.failureCount, 2);
    assert.equal(claim.attempt, 3);
    assert.match((await getFeature(t.db, projectId, 1))?.lastError ?? '', /timed out/);
  });

  test('failure counts survive a new connection (durable), and resetFailures makes the feature ready again', async () => {
    const projectId = await seedProject(t.db, flatEntries(1));
    for (let i = 0; i < 3; i++) {
      const claim = await claimOne(projectId);
      await recordOutcome(t.db, {
        projectId,
        featureId: 1,
        owner: claim.claimedBy,
        kind: 'coding',
        outcome: 'failed',
        exitCode: 2,
      });
    }
    const fresh = t.connect({ poolSize: 1 });
    assert.equal((await getFeature(fresh, projectId, 1))?.state, 'failed');
    assert.deepEqual(await featureCounts(fresh, projectId), {
      total: 1,
      passing: 0,
      running: 0,
      pending: 0,
      blocked: 0,
      failed: 1,
      merging: 0,
      needs_human_input: 0,
    });
    assert.deepEqual(await claimReadyFeatures(fresh, { projectId, limit: 5, maxRetries: 3 }), []);
    await resetFailures(fresh, projectId, 1);
    assert.equal((await claimOne(projectId)).attempt, 4);
  });
});

describe('testing claims', () => {
  test('only passing features that are not in progress, never the same feature twice', async () => {
    const projectId = await seedProject(t.db, [
      { id: 1, name: 'passing', passes: true },
      { id: 2, name: 'passing, being coded', passes: true, in_progress: true },
      { id: 3, name: 'pending' },
      { id: 4, name: 'passing too', passes: true },
    ]);
    const [a] = await claimFeaturesForTesting(t.db, { projectId, limit: 1 });
    const [b] = await claimFeaturesForTesting(t.db, { projectId, limit: 1 });
    const [c] = await claimFeaturesForTesting(t.db, { projectId, limit: 1 });
    assert.deepEqual([a?.id, b?.id].sort(), [1, 4]);
    assert.equal(c, undefined);
    assert.equal(a?.owner, `autocoder/${projectId}/testing/${a?.id}/1`);
    assert.equal((await getFeature(t.db, projectId, a!.id))?.testingInProgress, true);
    // The lease ends with the run; the feature is stamped as tested and can be tested again.
    await recordOutcome(t.db, {
      projectId,
      featureId: a!.id,
      owner: a!.owner,
      kind: 'testing',
      outcome: 'passed',
      exitCode: 0,
    });
    const row = await getFeature(t.db, projectId, a!.id);
    assert.equal(row?.testingInProgress, false);
    assert.ok(row?.lastTestedAt);
    const again = (await claimFeaturesForTesting(t.db, { projectId, limit: 1 }))[0];
    assert.equal(again?.id, a!.id);
    assert.equal(again?.attempt, 2);
  });
});

describe('testing leases', () => {
  test('a testing lease older than the lease time is taken over by the database clock; a fresh one is kept', async () => {
    const projectId = await seedProject(
      t.db,
      flatEntries(2).map((e) => ({ ...e, passes: true })),
    );
    const old = (await claimFeaturesForTesting(t.db, { projectId, limit: 1 }))[0];
    const fresh = (await claimFeaturesForTesting(t.db, { projectId, limit: 1 }))[0];
    assert.deepEqual(
      (await heldClaims(t.db, projectId)).map((h) => [h.kind, h.featureId, h.owner]).sort(),
      [old!, fresh!].map((c) => ['testing', c.id, c.owner]).sort(),
      'heldClaims lists both leases',
    );
    await sql`UPDATE features SET testing_claimed_at = now() - interval '31 minutes' WHERE project_id = ${projectId} AND id = ${old!.id}`.execute(
      t.db,
    );
    const next = (await claimFeaturesForTesting(t.db, { projectId, limit: 1 }))[0];
    assert.equal(next?.id, old!.id, 'the expired lease is free to take over');
    assert.notEqual(next?.owner, old!.owner);
    assert.equal((await getFeature(t.db, projectId, fresh!.id))?.testingInProgress, true);
    // The expired tester's late outcome is fenced off.
    await assert.rejects(
      recordOutcome(t.db, { projectId, featureId: old!.id, owner: old!.owner, kind: 'testing', outcome: 'passed' }),
      ClaimLostError,
    );
  });
});

describe('agent runs', () => {
  test('recordAgentStart is idempotent and liveAgentRuns lists the unended runs of a host', async () => {
    const projectId = await seedProject(t.db, flatEntries(1));
    const claim = await claimOne(projectId);
    const start = {
      id: claim.claimedBy,
      projectId,
      featureId: 1,
      kind: 'coding' as const,
      attempt: 1,
      host: 'host-a',
      pid: 4242,
      pgid: 4242,
      procStartTime: 123456789,
    };
    await recordAgentStart(t.db, start);
    await recordAgentStart(t.db, { ...start, pid: 4343, pgid: 4343, logPath: '/tmp/x.log' });
    const live = await liveAgentRuns(t.db, { host: 'host-a' });
    const mine = live.filter((r) => r.project_id === projectId);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]?.pid, 4343);
    assert.equal(mine[0]?.proc_start_time, 123456789);
    await recordOutcome(t.db, {
      projectId,
      featureId: 1,
      owner: claim.claimedBy,
      kind: 'coding',
      outcome: 'failed',
      exitCode: 1,
    });
    assert.equal((await liveAgentRuns(t.db, { host: 'host-a' })).filter((r) => r.project_id === projectId).length, 0);
  });
});
