/** The pure rules of questions and answers (src/workflows/human-answer.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerCommand, answerText, checkAnswer, requestForm, storedAnswer } from '../../src/workflows/human-answer.ts';

const choice = { options: ['red', 'blue'], fields: [] };

test('requestForm reads choices, fields and ask_user questions', () => {
  assert.deepEqual(requestForm('feature', ['a', 'b']), { options: ['a', 'b'], fields: [] });
  assert.deepEqual(
    requestForm('feature', [
      { id: 'k', label: 'Key' },
      { id: 'm', label: 'Mode', required: false, options: [{ value: 'x', label: 'X' }] },
    ]),
    {
      options: [],
      fields: [
        { id: 'k', label: 'Key', required: true, choices: [] },
        { id: 'm', label: 'Mode', required: false, choices: ['x'] },
      ],
    },
  );
  assert.deepEqual(requestForm('ask', [{ question: 'q', options: [{ label: 'SQLite' }, { label: 'Postgres' }] }]), {
    options: ['SQLite', 'Postgres'],
    fields: [],
  });
});

test('checkAnswer: open request, one kind of answer, option range, text length', () => {
  assert.equal(checkAnswer(choice, { featureId: 2, option: 2 }), null);
  assert.equal(checkAnswer(choice, { featureId: 2, text: 'green' }), null);
  assert.match(checkAnswer(null, { featureId: 2, text: 'x' }) ?? '', /feature #2 has no open request/);
  assert.match(checkAnswer(choice, { featureId: 2, option: 0 }) ?? '', /--option must be in 1\.\.2, got 0/);
  assert.match(checkAnswer(choice, { featureId: 2, option: 3 }) ?? '', /1=red, 2=blue/);
  assert.match(checkAnswer(choice, { featureId: 2 }) ?? '', /exactly one of/);
  assert.match(checkAnswer(choice, { featureId: 2, text: 'a', option: 1 }) ?? '', /exactly one of/);
  assert.match(checkAnswer(choice, { featureId: 2, text: '' }) ?? '', /1\.\.10000 characters, got 0/);
  assert.equal(checkAnswer(choice, { featureId: 2, text: 'x'.repeat(10_000) }), null);
  assert.match(checkAnswer(choice, { featureId: 2, text: 'x'.repeat(10_001) }) ?? '', /got 10001/);
  assert.match(checkAnswer({ options: [], fields: [] }, { featureId: 2, option: 1 }) ?? '', /offers no options/);
  assert.match(checkAnswer(choice, { featureId: 0, text: 'x' }) ?? '', /positive integer/);
});

test('the stored answer, its text and the command that answers', () => {
  assert.equal(storedAnswer(choice, { featureId: 2, option: 2 }), 'blue');
  assert.deepEqual(storedAnswer(choice, { featureId: 2, fields: { a: 'b' } }), { a: 'b' });
  assert.equal(answerText('blue'), 'blue');
  assert.equal(answerText({ a: 'b' }), '{"a":"b"}');
  assert.equal(answerCommand('app', { featureId: 2, ...choice }), 'autocoder answer app 2 --option 1');
  assert.equal(answerCommand('app', { featureId: 2, options: [], fields: [] }), 'autocoder answer app 2 "…"');
  assert.equal(
    answerCommand('app', { featureId: 2, options: [], fields: [{ id: 'k', label: 'K', required: true, choices: [] }] }),
    'autocoder answer app 2 --field k=…',
  );
});
