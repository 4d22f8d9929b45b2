/**
 * State tools over stdio against real Postgres: pass, fail, skip, claim, give back. Agents are
 * `bin/autocoder mcp` processes with AUTOCODER_RUN_ID set to the owner the scheduler stamped (so
 * their writes are fenced by the claim), plus an operator session without a run id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { claimFeaturesByIds } from '../../src/db/claims.ts';
import { getFeature } from '../../src/db/features.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from '../db/seed.ts';
import { agentEnv, openMcp, type McpSession } from './support.ts';

describe('MCP feature server: state tools over stdio', () => {
  const t = withTestDb();
  let projectId = '';
  let runA = '';
  let agentA: McpSession;
  let agentB: McpSession;
  let operator: McpSession;

  // 1-6 free; 7 passes (a testing lease for agent A is added below); 8 depends on 1.
  const entries = [
    ...[1, 2, 3, 4, 5, 6].map((id) => ({ id, name: `Feature ${id}`, priority: id })),
    { id: 7, name: 'Already done', passes: true },
    { id: 8, name: 'After one', dependencies: [1] },
  ];

  before(async () => {
    projectId = await seedProject(t.db, entries, 'mcp-state');
    // The scheduler claims #1 for agent A, as projectRun does; A's run id is the claim owner.
    const [claim] = await claimFeaturesByIds(t.db, {
      projectId,
      featureIds: [1],
      maxRetries: 3,
    });
    runA = claim!.claimedBy;
    await t.db
      .updateTable('features')
      .set({ testing_claimed_by: runA, testing_claimed_at: sql`now()` })
      .where('project_id', '=', projectId)
      .where('id', '=', 7)
      .execute();
    const common = { AUTOCODER_AGENT_KIND: 'coding' };
    [agentA, agentB, operator] = await Promise.all([
      openMcp(agentEnv(t.url, projectId, { ...common, AUTOCODER_RUN_ID: runA, AUTOCODER_FEATURE_ID: '1' })),
      openMcp(
        agentEnv(t.url, projectId, {
          ...common,
          AUTOCODER_RUN_ID: `autocoder/${projectId}/coding/2/1`,
          AUTOCODER_FEATURE_ID: '2',
        }),
      ),
      // No run id: an operator's session. Temporal "configured" at a dead port: waking must not fail writes.
      openMcp(agentEnv(t.url, projectId, { TEMPORAL_ADDRESS: '127.0.0.1:1' })),
    ]);
  });
  after(async () => {
    await Promise.all([agentA?.close(), agentB?.close(), operator?.close()]);
  });

  const feature = async (id: number) => (await getFeature(t.db, projectId, id))!;
  const events = (id: number) =>
    t.db
      .selectFrom('feature_events')
      .select(['run_id', 'action', 'detail'])
      .where('project_id', '=', projectId)
      .where('feature_id', '=', id)
      .orderBy('id')
      .execute();

  test('feature_mark_passing: the holder passes its feature; the write names its run', async () => {
    assert.match(
      await agentB.fails('feature_mark_passing', { feature_id: 1 }),
      /feature #1 is not held by this agent run \(autocoder\/.*\/coding\/2\/1\).*given feature #2.*Nothing was changed/,
    );
    assert.equal((await feature(1)).passes, false);
    const result = await agentA.ok('feature_mark_passing', { feature_id: 1 });
    assert.deepEqual(result, { success: true, feature_id: 1, name: 'Feature 1', scheduler_notified: false });
    const f = await feature(1);
    assert.equal(f.passes, true);
    assert.equal(f.claimedBy, runA, 'the claim stays with its run; the workflow settles it when the agent exits');
    assert.deepEqual(await events(1), [{ run_id: runA, action: 'mark passing', detail: {} }]);
    assert.match(await agentA.fails('feature_mark_passing', { feature_id: 1 }), /feature #1 is already passing/);
    assert.match(await agentA.fails('feature_mark_passing', { feature_id: 404 }), /has no feature #404/);
    assert.match(await agentA.fails('feature_mark_passing', { feature_id: 0 }), /feature_id must be ≥ 1/);
    assert.match(await agentA.fails('feature_mark_passing', {}), /feature_id/);
  });

  test('feature_mark_failing: a testing agent reports a regression with a reason', async () => {
    assert.match(
      await agentB.fails('feature_mark_failing', { feature_id: 7, reason: 'nope' }),
      /not held by this agent run/,
    );
    assert.equal((await feature(7)).passes, true);
    const result = await agentA.ok<{ message: string; feature: { id: number; passes: boolean; last_error: string } }>(
      'feature_mark_failing',
      { feature_id: 7, reason: 'the list is not sorted' },
    );
    assert.equal(result.message, 'Feature #7 marked as failing - regression detected');
    assert.deepEqual(
      [result.feature.id, result.feature.passes, result.feature.last_error],
      [7, false, 'the list is not sorted'],
    );
    assert.deepEqual(
      (await events(7)).map((e) => [e.run_id, e.action, e.detail]),
      [[runA, 'mark failing', { reason: 'the list is not sorted' }]],
    );
    assert.match(await agentA.fails('feature_mark_failing', { feature_id: 7, reason: 42 }), /reason/);
    assert.match(await agentA.fails('feature_mark_failing', { feature_id: 'seven' }), /feature_id must be a number/);
  });

  test('an operator session (no run id) marks any feature; a dead Temporal does not fail it', async () => {
    const started = performance.now();
    const result = await operator.ok('feature_mark_passing', { feature_id: 6 });
    assert.deepEqual(result, { success: true, feature_id: 6, name: 'Feature 6', scheduler_notified: false });
    assert.ok(performance.now() - started < 5000, 'waking is bounded');
    const [event] = await events(6);
    assert.match(event?.run_id ?? '', new RegExp(`^autocoder/${projectId}/session/[0-9a-f-]{36}$`));
    await operator.ok('feature_mark_failing', { feature_id: 6 });
    assert.equal((await feature(6)).passes, false);
  });

  test('feature_skip moves a feature behind every other and recomputes its score', async () => {
    const before = await feature(3);
    const result = await agentB.ok('feature_skip', { feature_id: 3 });
    const top = await t.db
      .selectFrom('features')
      .select(sql<number>`max(priority)`.as('p'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(result, {
      id: 3,
      name: 'Feature 3',
      old_priority: 3,
      new_priority: top.p,
      message: "Feature 'Feature 3' moved to end of queue",
    });
    assert.ok(top.p > before.priority);
    const after = await feature(3);
    assert.ok(after.score < before.score, `score ${before.score} → ${after.score}`);
    // Priority only breaks ties of the scheduling score (as in AutoCoder): among the features
    // without dependencies, #3 now comes last.
    const ready = await agentB.ok<{ features: Array<{ id: number; dependencies: number[] }> }>('feature_get_ready', {
      limit: 50,
    });
    assert.equal(ready.features.filter((f) => f.dependencies.length === 0).at(-1)?.id, 3);
    assert.match(
      await agentB.fails('feature_skip', { feature_id: 1 }),
      /already passes; only a feature that does not pass can be skipped/,
    );
    assert.match(await agentB.fails('feature_skip', { feature_id: 404 }), /has no feature #404/);
    assert.match(await agentB.fails('feature_skip', { feature_id: -1 }), /feature_id must be ≥ 1/);
  });

  test('feature_mark_in_progress claims a free feature for the run, and only then', async () => {
    const claimed = await agentB.ok('feature_mark_in_progress', { feature_id: 2 });
    assert.deepEqual(
      [claimed.id, claimed.in_progress, claimed.claimed_by],
      [2, true, `autocoder/${projectId}/coding/2/1`],
    );
    // Its own feature again: fine (it is in progress by this run).
    await agentB.ok('feature_mark_in_progress', { feature_id: 2 });
    assert.match(
      await agentA.fails('feature_mark_in_progress', { feature_id: 2 }),
      /feature #2 is already claimed by another agent run \(autocoder\/.*\/coding\/2\/1, since /,
    );
    assert.match(
      await agentA.fails('feature_mark_in_progress', { feature_id: 1 }),
      /already passes; there is nothing to claim/,
    );
    assert.match(await agentA.fails('feature_mark_in_progress', { feature_id: 404 }), /has no feature #404/);
    assert.match(await agentA.fails('feature_mark_in_progress', { feature_id: 1.25 }), /feature_id must be an integer/);
  });

  test('feature_claim_and_get: two agents claim the same feature at once, exactly one wins', async () => {
    for (const id of [4, 5]) {
      const [a, b] = await Promise.all([
        agentA.call('feature_claim_and_get', { feature_id: id }),
        agentB.call('feature_claim_and_get', { feature_id: id }),
      ]);
      const winners = [a, b].filter((r) => !r.isError);
      assert.equal(winners.length, 1, `one winner for #${id}: ${a.text} | ${b.text}`);
      const loser = [a, b].find((r) => r.isError);
      const won = JSON.parse(winners[0]!.text) as {
        id: number;
        already_claimed: boolean;
        claimed_by: string;
        description: string;
      };
      assert.equal(won.id, id);
      assert.equal(won.already_claimed, false);
      assert.match(
        loser!.text,
        new RegExp(
          `feature #${id} is already claimed by another agent run \\(${won.claimed_by.replaceAll('/', '\\/')}`,
        ),
      );
      assert.equal((await feature(id)).claimedBy, won.claimed_by);
      // The winner asking again is idempotent.
      const winner = won.claimed_by === runA ? agentA : agentB;
      assert.equal((await winner.ok('feature_claim_and_get', { feature_id: id })).already_claimed, true);
    }
    assert.match(await agentA.fails('feature_claim_and_get', { feature_id: 404 }), /has no feature #404/);
    assert.match(await agentA.fails('feature_claim_and_get', { feature_id: 0 }), /feature_id must be ≥ 1/);
  });

  test('feature_clear_in_progress gives back only what the run holds', async () => {
    // #2 is held by agent B (claimed above).
    assert.match(
      await agentA.fails('feature_clear_in_progress', { feature_id: 2 }),
      /feature #2 is held by another agent run \(autocoder\/.*\/coding\/2\/1\); only its owner can give it back/,
    );
    const cleared = await agentB.ok('feature_clear_in_progress', { feature_id: 2 });
    assert.deepEqual(
      [cleared.in_progress, cleared.claimed_by, cleared.released, cleared.state],
      [false, null, 'coding', 'pending'],
    );
    // Nobody holds it now: idempotent.
    assert.equal((await agentB.ok('feature_clear_in_progress', { feature_id: 2 })).released, 'none');
    // An operator clears anyone's claim.
    const held = await feature(4);
    assert.ok(held.claimedBy);
    assert.equal((await operator.ok('feature_clear_in_progress', { feature_id: 4 })).released, 'coding');
    assert.equal((await feature(4)).inProgress, false);
    assert.match(await agentB.fails('feature_clear_in_progress', { feature_id: 404 }), /has no feature #404/);
    assert.match(await agentB.fails('feature_clear_in_progress', { feature_id: null }), /feature_id must be a number/);
    const actions = (await events(2)).map((e) => e.action);
    assert.deepEqual(actions, ['claim', 'clear in progress']);
  });
});
