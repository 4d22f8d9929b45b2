import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syncVocabularyChecks, VOCABULARY_CHECKS, type VocabularyCheck } from '../../src/db/vocabulary-checks.ts';
import { agentKinds } from '../../src/workflows/vocabulary.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from './seed.ts';

const t = withTestDb();

const withReviewer: VocabularyCheck[] = VOCABULARY_CHECKS.map((c) =>
  c.constraint === 'agent_runs_kind_check' ? { ...c, values: [...agentKinds, 'reviewer'] } : c,
);

async function insertRun(projectId: string, id: string, kind: string, outcome: string | null = null) {
  await t.db
    .insertInto('agent_runs')
    .values({ id, project_id: projectId, kind: kind as 'coding', attempt: 1, outcome: outcome as 'passed' | null })
    .execute();
}

test('a migrated database already has the constraints the lists give: the sync changes nothing', async () => {
  assert.deepEqual(await syncVocabularyChecks(t.db), { replaced: [] });
});

test('a name outside the lists is refused by the database; adding it to the list lets it in', async () => {
  const projectId = await seedProject(t.db, []);
  await insertRun(projectId, `${projectId}/ok`, 'coding', 'passed');
  await insertRun(projectId, `${projectId}/running`, 'testing', null);
  await assert.rejects(insertRun(projectId, `${projectId}/r1`, 'reviewer'), /agent_runs_kind_check/);
  await assert.rejects(insertRun(projectId, `${projectId}/o1`, 'coding', 'exploded'), /agent_runs_outcome_check/);

  assert.deepEqual(await syncVocabularyChecks(t.db, withReviewer), { replaced: ['agent_runs_kind_check'] });
  assert.deepEqual(await syncVocabularyChecks(t.db, withReviewer), { replaced: [] }, 'idempotent');
  await insertRun(projectId, `${projectId}/r2`, 'reviewer');

  // A sync with the older lists (an older worker starting beside newer ones) does not narrow:
  // the newer name stays allowed, whether rows use it or not.
  assert.deepEqual(await syncVocabularyChecks(t.db), { replaced: [] });
  await insertRun(projectId, `${projectId}/r3`, 'reviewer');
  await t.db
    .deleteFrom('agent_runs')
    .where('kind', '=', 'reviewer' as 'coding')
    .execute();
  assert.deepEqual(await syncVocabularyChecks(t.db), { replaced: [] });
  await insertRun(projectId, `${projectId}/r4`, 'reviewer');
  await t.db
    .deleteFrom('agent_runs')
    .where('kind', '=', 'reviewer' as 'coding')
    .execute();
});

test('human_requests.kind takes its names from the vocabulary too', async () => {
  const projectId = await seedProject(t.db, []);
  await assert.rejects(
    t.db
      .insertInto('human_requests')
      .values({ project_id: projectId, feature_id: null, run_id: 'r', kind: 'poll' as 'ask', question: 'q?' })
      .execute(),
    /human_requests_kind_check/,
  );
});
