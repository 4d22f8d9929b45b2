import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentRunId, agentRunPrefix, attemptOf, parseAgentRunId, projectRunId } from '../../src/workflows/run-ids.ts';

test('agent run IDs round-trip through parseAgentRunId for every kind', () => {
  const coding = agentRunId({ projectId: 'todo-app', kind: 'coding', featureId: 12, attempt: 3 });
  assert.equal(coding, 'autocoder/todo-app/coding/12/3');
  assert.ok(coding.startsWith(agentRunPrefix('todo-app', 'coding')));
  assert.ok(coding.startsWith(projectRunId('todo-app') + '/'));
  assert.deepEqual(parseAgentRunId(coding), { projectId: 'todo-app', kind: 'coding', featureId: 12, attempt: 3 });

  const testing = agentRunId({ projectId: 'p', kind: 'testing', featureId: 4, attempt: 1 });
  assert.deepEqual(parseAgentRunId(testing), { projectId: 'p', kind: 'testing', featureId: 4, attempt: 1 });

  const init = agentRunId({ projectId: 'p', kind: 'initializer', tail: 'd53a4da05f49' });
  assert.equal(init, 'autocoder/p/initializer/init/d53a4da05f49');
  assert.deepEqual(parseAgentRunId(init), { projectId: 'p', kind: 'initializer', featureId: null, attempt: 0 });
  assert.equal(attemptOf(init), 0);
  assert.equal(attemptOf(coding), 3);
});

test('parseAgentRunId refuses what is not an agent run ID', () => {
  for (const id of [
    'autocoder/p',
    'autocoder/p/coding/12',
    'autocoder/p/coding/init/1',
    'autocoder/p/initializer/7/1',
    'autocoder/p/merge2/1/1',
    'autocoder/P/coding/1/1',
    'other/p/coding/1/1',
    'autocoder/p/coding/1/x',
  ]) {
    assert.equal(parseAgentRunId(id), null, id);
  }
});
