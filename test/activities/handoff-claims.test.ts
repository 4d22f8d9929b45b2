/**
 * Claims an ending agent makes for its run (AgentSpec.claimNext) travel to the run in the agent's
 * report. Until they arrive, a scheduling pass sees a claim whose agent run was never started: it
 * must not take it for stranded and claim the feature again (the run would start it twice), until
 * the claim is old enough that no report can still be on its way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { agentRunPrefix } from '../../src/workflows/run-ids.ts';
import { claimReadyFeatures } from '../../src/db/claims.ts';
import { importFeatures } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import { withActivityEnv } from '../support/activities.ts';

const env = withActivityEnv('handoff');

test('a claim on its way to the run is left alone by a pass, and resumed first once it is 30 s old', async () => {
  const project = `handoff-${process.pid}`;
  await upsertProject(env.t.db, { id: project, dir: env.dir });
  await importFeatures(
    env.t.db,
    project,
    [1, 2, 3].map((id) => ({ id, name: `f${id}`, priority: id })),
  );
  const [handed] = await claimReadyFeatures(env.t.db, {
    projectId: project,
    limit: 1,
    ownerPrefix: agentRunPrefix(project, 'coding'),
    maxRetries: 3,
  });
  assert.equal(handed?.id, 1);
  const { schedule } = env.activities();
  const pass = (known: string[], codingSlots: number) =>
    schedule({
      projectId: project,
      maxRetries: 3,
      codingSlots,
      testingSlots: 0,
      codingRunning: known.length,
      known,
      exclude: [],
      resumeFirst: [],
      analyseBlocked: false,
    });

  const first = await pass([], 1);
  assert.deepEqual(
    first.claims.map((c) => c.featureId),
    [2],
    'the handed-over feature is not claimed again',
  );
  assert.equal(first.resumeLeft, 0);
  const row = await env.t.db
    .selectFrom('features')
    .select(['claimed_by'])
    .where('project_id', '=', project)
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  assert.equal(row.claimed_by, handed.claimedBy, 'the claim stays with the agent run it was made for');

  // No report came: 30 s on, the claim is stranded like any other and resumed before new work.
  await sql`UPDATE features SET claimed_at = now() - interval '31 seconds' WHERE project_id = ${project} AND id = 1`.execute(
    env.t.db,
  );
  const later = await pass(
    first.claims.map((c) => c.workflowId),
    1,
  );
  assert.deepEqual(
    later.claims.map((c) => c.featureId),
    [1],
  );
  assert.notEqual(later.claims[0]?.workflowId, handed.claimedBy);
});
