/**
 * Parking a feature on a question to a person, in the store: an open 'feature' request makes it
 * needs_human_input and unclaimable, the agent that asked settles `waiting` (no failure counted),
 * the answer is checked under the request's lock and frees the feature, and the feature's next
 * agent gets the latest answer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { claimReadyFeatures } from '../../src/db/claims.ts';
import { featureCounts, getFeature } from '../../src/db/features.ts';
import { answerFeatureRequest, createHumanRequest, latestAnswer, openRequests } from '../../src/db/human-requests.ts';
import { recordOutcome } from '../../src/db/transitions.ts';
import { UserError } from '../../src/errors.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from './seed.ts';

const t = withTestDb();

describe('a question parks its feature', () => {
  test('needs_human_input, not claimed, the asking agent waiting; answered, ready again with its answer', async () => {
    const projectId = await seedProject(t.db, [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    const claims = await claimReadyFeatures(t.db, { projectId, limit: 2, maxRetries: 3 });
    const owner = claims.find((c) => c.id === 2)!.claimedBy;
    await createHumanRequest(t.db, {
      projectId,
      featureId: 2,
      runId: owner,
      kind: 'feature',
      question: 'Which colour?',
      options: ['red', 'blue'],
    });
    assert.equal((await getFeature(t.db, projectId, 2))?.state, 'running', 'its agent still holds it');
    const settled = await recordOutcome(t.db, {
      projectId,
      featureId: 2,
      owner,
      kind: 'coding',
      outcome: 'passed',
      exitCode: 0,
    });
    assert.deepEqual([settled.outcome, settled.countedAsFailure, settled.failureCount], ['waiting', false, 0]);
    assert.match(settled.error ?? '', /waiting for a person/);
    assert.equal((await getFeature(t.db, projectId, 2))?.state, 'needs_human_input');
    assert.equal((await featureCounts(t.db, projectId)).needs_human_input, 1);
    assert.deepEqual(await claimReadyFeatures(t.db, { projectId, limit: 5, maxRetries: 3 }), [], 'parked: not claimed');

    const [open] = await openRequests(t.db, { projectId });
    assert.deepEqual(
      [open?.featureId, open?.question, open?.options, open?.fields],
      [2, 'Which colour?', ['red', 'blue'], []],
    );

    await assert.rejects(
      answerFeatureRequest(t.db, { projectId, answer: { featureId: 2, option: 3 } }),
      (err: unknown) => err instanceof UserError && /--option must be in 1\.\.2, got 3/.test(err.message),
    );
    await assert.rejects(
      answerFeatureRequest(t.db, { projectId, answer: { featureId: 1, text: 'x' } }),
      /feature #1 has no open request/,
    );
    assert.equal(await latestAnswer(t.db, { projectId, featureId: 2 }), null);

    const stored = await answerFeatureRequest(t.db, { projectId, answer: { featureId: 2, option: 2 } });
    assert.deepEqual([stored.featureId, stored.answer], [2, 'blue']);
    assert.equal((await getFeature(t.db, projectId, 2))?.state, 'pending');
    assert.deepEqual(await latestAnswer(t.db, { projectId, featureId: 2 }), {
      question: 'Which colour?',
      answer: 'blue',
    });
    const [again] = await claimReadyFeatures(t.db, { projectId, limit: 1, maxRetries: 3 });
    assert.equal(again?.id, 2, 'ready again');
    await assert.rejects(
      answerFeatureRequest(t.db, { projectId, answer: { featureId: 2, text: 'late' } }),
      /no open request/,
    );
  });

  test('a stopped agent stays stopped; an agent that asked and crashed is still waiting, not a failure', async () => {
    const projectId = await seedProject(t.db, [{ id: 1, name: 'a' }]);
    const [claim] = await claimReadyFeatures(t.db, { projectId, limit: 1, maxRetries: 3 });
    const ask = {
      projectId,
      featureId: 1,
      runId: claim!.claimedBy,
      kind: 'feature' as const,
      question: 'q',
      options: [],
    };
    await createHumanRequest(t.db, ask);
    const crashed = await recordOutcome(t.db, {
      projectId,
      featureId: 1,
      owner: claim!.claimedBy,
      kind: 'coding',
      outcome: 'crashed',
    });
    assert.deepEqual([crashed.outcome, crashed.failureCount], ['waiting', 0]);
  });

  test('an agent that asked and then hit the usage limit ends rate_limited (the quota path), no failure counted', async () => {
    const projectId = await seedProject(t.db, [{ id: 1, name: 'a' }]);
    const [claim] = await claimReadyFeatures(t.db, { projectId, limit: 1, maxRetries: 3 });
    await createHumanRequest(t.db, {
      projectId,
      featureId: 1,
      runId: claim!.claimedBy,
      kind: 'feature',
      question: 'q',
      options: [],
    });
    const limited = await recordOutcome(t.db, {
      projectId,
      featureId: 1,
      owner: claim!.claimedBy,
      kind: 'coding',
      outcome: 'rate_limited',
    });
    assert.deepEqual([limited.outcome, limited.failureCount], ['rate_limited', 0]);
    assert.deepEqual(await claimReadyFeatures(t.db, { projectId, limit: 1, maxRetries: 3 }), [], 'still parked');
  });

  test('a fields request: text is refused, required fields are checked, the record is stored', async () => {
    const projectId = await seedProject(t.db, [{ id: 1, name: 'a' }]);
    await createHumanRequest(t.db, {
      projectId,
      featureId: 1,
      runId: 'operator',
      kind: 'feature',
      question: 'Stripe?',
      options: [
        { id: 'key', label: 'Secret key', type: 'text', required: true },
        {
          id: 'mode',
          label: 'Mode',
          type: 'select',
          required: true,
          options: [
            { value: 'test', label: 'Test' },
            { value: 'live', label: 'Live' },
          ],
        },
        { id: 'note', label: 'Note', type: 'text', required: false },
      ],
    });
    const answer = (a: object) => answerFeatureRequest(t.db, { projectId, answer: { featureId: 1, ...a } });
    await assert.rejects(
      answer({ text: 'sk' }),
      /request has fields: answer with --field key=… --field mode=… --field note=…/,
    );
    await assert.rejects(answer({ fields: { key: 'sk' } }), /missing required field\(s\): --field mode=…/);
    await assert.rejects(
      answer({ fields: { key: 'sk', mode: 'prod' } }),
      /--field mode must be one of test, live, got "prod"/,
    );
    await assert.rejects(answer({ fields: { key: 'sk', mode: 'test', colour: 'x' } }), /--field colour is not a field/);
    const stored = await answer({ fields: { key: 'sk_test', mode: 'test' } });
    assert.equal(stored.answer, '{"key":"sk_test","mode":"test"}');
  });
});
