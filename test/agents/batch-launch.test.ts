/**
 * One agent for a batch, without processes: the environment (AUTOCODER_FEATURE_IDS beside
 * AUTOCODER_FEATURE_ID), the command adapter's `{featureIds}`, the claude prompts that list every
 * feature, the MCP server's scope, and the label status and the Temporal UI show.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentSpec } from '../../src/activities/types.ts';
import { agentEnvironment, buildLaunch } from '../../src/agents/adapters.ts';
import { UserError } from '../../src/errors.ts';
import { readAgentScope } from '../../src/mcp/env.ts';
import { agentLabel } from '../../src/workflows/agent-label.ts';

const work = mkdtempSync(join(tmpdir(), 'ac-batch-launch-'));
after(() => rmSync(work, { recursive: true, force: true }));

const spec = (over: Partial<AgentSpec> = {}): AgentSpec => ({
  projectId: 'todo',
  projectDir: join(work, 'todo'),
  kind: 'coding',
  featureId: 4,
  featureIds: [4, 5, 7],
  featureName: 'Login form',
  attempt: 1,
  adapter: 'claude',
  yolo: false,
  timeoutMs: 1000,
  ...over,
});
const ctx = { runId: 'autocoder/todo/coding/4/1', databaseUrl: 'postgres://u:p@db:5432/app', stateDir: work };

test('the environment names every feature of the batch, in order, and the first alone', () => {
  const env = agentEnvironment(spec(), ctx);
  assert.equal(env.AUTOCODER_FEATURE_ID, '4');
  assert.equal(env.AUTOCODER_FEATURE_IDS, '4,5,7');
  assert.equal(agentEnvironment(spec({ featureIds: undefined }), ctx).AUTOCODER_FEATURE_IDS, '4');
  assert.equal(
    agentEnvironment(spec({ kind: 'initializer', featureId: null, featureIds: undefined }), ctx).AUTOCODER_FEATURE_IDS,
    undefined,
  );
});

test('the command adapter substitutes {featureIds} per argument, never through a shell', () => {
  const launch = buildLaunch(
    spec({ adapter: 'command', agentCmd: ['/bin/agent', '--features={featureIds}', '{featureId}'] }),
    ctx,
  );
  assert.deepEqual(launch.argv, ['/bin/agent', '--features=4,5,7', '4']);
});

test('claude: the batch prompts list every feature; one feature keeps the single prompt', () => {
  const prompt = (s: AgentSpec) => buildLaunch(s, ctx).argv.at(-1) ?? '';
  const coding = prompt(spec());
  assert.match(coding, /a batch of features, in this order:\s+#4, #5, #7/);
  assert.match(coding, /The first is #4: Login form/);
  const testing = prompt(spec({ kind: 'testing', featureIds: [2, 3] }));
  assert.match(testing, /Features\s+#2, #3 were marked passing/);
  const single = prompt(spec({ featureIds: undefined }));
  assert.match(single, /Your assignment is feature #4: Login form/);
  assert.doesNotMatch(single, /a batch of features/);
});

test('the MCP scope reads AUTOCODER_FEATURE_IDS; a bad value names the variable and the value', () => {
  const base = { AUTOCODER_PROJECT_ID: 'todo', DATABASE_URL: 'postgres://x', AUTOCODER_FEATURE_ID: '4' };
  assert.deepEqual(readAgentScope({ ...base, AUTOCODER_FEATURE_IDS: '4,5,7' }).featureIds, [4, 5, 7]);
  assert.deepEqual(readAgentScope(base).featureIds, [4]);
  assert.throws(
    () => readAgentScope({ ...base, AUTOCODER_FEATURE_IDS: '4;rm -rf' }),
    (err: Error) =>
      err instanceof UserError && /AUTOCODER_FEATURE_IDS must be feature ids .*"4;rm -rf"/.test(err.message),
  );
});

test('a batch shows as one agent with its features', () => {
  assert.equal(agentLabel('coding', 4, [4, 5, 7]), 'coding #4 +#5 +#7');
  assert.equal(agentLabel('testing', 2, undefined), 'testing #2');
  assert.equal(agentLabel('initializer', null), 'initializer');
});
