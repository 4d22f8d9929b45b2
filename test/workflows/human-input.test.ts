/**
 * People in the loop, against the real stack: a `command` agent asks with `autocoder feature
 * ask` and ends; the feature is parked (needs_human_input, its agent `waiting`, no failure), the
 * run finishes the other features and then waits in waiting_for_human with no timer running; the
 * worker is SIGKILLed and replaced while it waits; `autocoder answer` (the answerFeature update)
 * makes the feature ready, its next agent sees AUTOCODER_HUMAN_ANSWER and passes, and the run
 * completes. Also: the update's validator, the inbox JSON, bad answers (exit 2, nothing stored)
 * and an answer stored while no run is in progress, picked up by the next run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { listHumanRequests } from '../../src/db/human-requests.ts';
import { answerFeatureUpdate } from '../../src/workflows/messages.ts';
import { cliEnv, runCli } from '../chaos/support.ts';
import {
  agentRunsOf,
  featureRows,
  queryStatus,
  repoRoot,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';

const t = withTemporal({ startWorker: false });
const agentCmd = [join(repoRoot, 'test/fixtures/agents/asks-once')];
const home = mkdtempSync(join(tmpdir(), 'ac-human-'));

test('ask, park, wait durably across a worker restart and continue-as-new, answer, complete', async () => {
  const project = await t.seedProject(
    [
      { id: 1, name: 'header' },
      { id: 2, name: 'button colour' },
      { id: 3, name: 'footer', dependencies: [1] },
    ],
    { base: 'ask' },
  );
  const first = await t.startWorkerProcess();
  const handle = await t.startRun(project, { agent: 'command', agentCmd, concurrency: 2, continueAsNewAfterPasses: 4 });

  const waiting = await waitUntil(
    'the run waits for a person',
    async () => {
      const s = await queryStatus(handle);
      return s.phase === 'waiting_for_human' && s;
    },
    { timeoutMs: 60_000 },
  );
  assert.deepEqual([waiting.counts.passing, waiting.counts.needs_human_input, waiting.running.length], [2, 1, 0]);
  assert.deepEqual(
    waiting.humanRequests?.map((r) => [r.featureId, r.question, r.options]),
    [[2, 'Which colour should the button be?', ['red', 'blue']]],
  );
  const [asked] = (await agentRunsOf(t.db, project, 'coding')).filter((r) => r.feature_id === 2);
  assert.equal(asked?.outcome, 'waiting', 'the agent that asked ended waiting, not failed');
  const row2 = (await featureRows(t.db, project)).find((f) => f.id === 2);
  assert.deepEqual([row2?.failure_count, row2?.in_progress, row2?.claimed_by], [0, false, null]);
  // The agent run that asked completed (it is not a failed attempt in Temporal's list).
  assert.equal((await t.client.workflow.getHandle(asked!.id).describe()).status.name, 'COMPLETED');

  // Waiting costs no history: once settled (a continue-as-new may fall due first), no poll timer
  // fires while nobody answers, although the poll interval is 1 s.
  const snapshot = async () => `${(await handle.describe()).runId}:${(await handle.fetchHistory()).events?.length}`;
  await waitUntil(
    'a quiet wait',
    async () => {
      const before = await snapshot();
      await new Promise((resolve) => setTimeout(resolve, 3500));
      return before === (await snapshot());
    },
    { timeoutMs: 20_000 },
  );
  assert.equal((await queryStatus(handle)).phase, 'waiting_for_human');

  first.process.kill('SIGKILL');
  await first.exited;
  await t.startWorker();

  const env = cliEnv(t, home);
  const inbox = await runCli(['inbox', '--json'], env);
  assert.equal(inbox.code, 0, inbox.stderr);
  const mine = (JSON.parse(inbox.stdout) as Array<Record<string, unknown>>).filter((r) => r.project === project);
  assert.equal(mine.length, 1);
  assert.deepEqual(Object.keys(mine[0]!), [
    'project',
    'featureId',
    'requestId',
    'question',
    'options',
    'fields',
    'askedAt',
    'answerCommand',
  ]);
  assert.deepEqual([mine[0]!.featureId, mine[0]!.options, mine[0]!.fields], [2, ['red', 'blue'], []]);
  assert.equal(mine[0]!.answerCommand, `autocoder answer ${project} 2 --option 1`);

  // The validator refuses before anything reaches the history.
  await assert.rejects(
    handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 2, option: 3 }] }),
    (err: unknown) =>
      err instanceof WorkflowUpdateFailedError && /--option must be in 1..2, got 3/.test(String(err.cause?.message)),
  );
  await assert.rejects(
    handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 1, text: 'yes' }] }),
    (err: unknown) =>
      err instanceof WorkflowUpdateFailedError && /feature #1 has no open request/.test(String(err.cause?.message)),
  );
  // The CLI: exit 2, one line, nothing stored.
  for (const [args, expected] of [
    [['answer', project, '2', '--option', '5'], /--option must be in 1\.\.2, got 5/],
    [['answer', project, '3', 'blue'], /feature #3 has no open request/],
    [['answer', project, '2', 'x'.repeat(10_001)], /1\.\.10000 characters/],
  ] as const) {
    const bad = await runCli([...args], env);
    assert.equal(bad.code, 2, `${args.join(' ').slice(0, 60)}: ${bad.stderr}`);
    assert.match(bad.stderr, expected);
  }
  assert.equal((await listHumanRequests(t.db, { projectId: project, open: true })).length, 1, 'still open');

  // `feature ask` refuses bad input with exit 2 and records nothing.
  const agentEnv = { ...env, AUTOCODER_PROJECT_ID: project };
  for (const [args, expected] of [
    [['feature', 'ask', '3', ''], /the question must be 1\.\.10000 characters, got 0/],
    [['feature', 'ask', '99', 'why?'], /no feature #99/],
    [['feature', 'ask', '3', 'why?', '--option', ''], /--option must be 1\.\.500 characters/],
  ] as const) {
    const bad = await runCli([...args], agentEnv);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, expected);
  }
  assert.equal((await listHumanRequests(t.db, { projectId: project })).length, 1, 'nothing recorded');

  const answered = await runCli(['answer', project, '2', '--option', '2'], env);
  assert.equal(answered.code, 0, answered.stderr);
  assert.match(answered.stdout, /answered request #\d+ of .* #2: blue/);
  assert.match(answered.stdout, /goes on with feature #2/, 'through the answerFeature update');

  const result = await waitForResult(handle, 60_000);
  assert.equal(result.outcome, 'complete', result.message);
  assert.equal(result.counts.passing, 3);
  const runs2 = (await agentRunsOf(t.db, project, 'coding')).filter((r) => r.feature_id === 2);
  assert.deepEqual(
    runs2.map((r) => r.outcome),
    ['waiting', 'passed'],
  );
  assert.match(readFileSync(runs2[1]!.log_path!, 'utf8'), /asked: Which colour should the button be\? answered: blue/);
  const described = await handle.describe();
  assert.notEqual(described.runId, handle.firstExecutionRunId, 'the run continued as new on the way');
});

test('an answer given while no run is in progress is stored; the next run picks it up', async () => {
  const project = await t.seedProject([{ id: 2, name: 'button colour' }], { base: 'ask-later' });
  const worker = await t.startWorker();
  const handle = await t.startRun(project, { agent: 'command', agentCmd });
  await waitUntil('waiting', async () => (await queryStatus(handle)).phase === 'waiting_for_human', {
    timeoutMs: 60_000,
  });
  await handle.terminate('the operator ends the run');
  await worker.stop();

  const env = cliEnv(t, home);
  const answered = await runCli(['answer', project, '2', 'blue'], env);
  assert.equal(answered.code, 0, answered.stderr);
  assert.match(answered.stdout, /no run in progress: its next run .* picks it up/);
  const again = await runCli(['answer', project, '2', 'blue'], env);
  assert.equal(again.code, 2, 'answered already: nothing open');

  await t.startWorker();
  const result = await waitForResult(await t.startRun(project, { agent: 'command', agentCmd }), 60_000);
  assert.equal(result.outcome, 'complete', result.message);
});
