/**
 * Worktree isolation meets a person in the loop, against real git, processes, Postgres and
 * Temporal: the agent of feature #2 leaves a draft in its worktree and asks a question. The
 * feature is parked (needs_human_input, its agent `waiting`, nothing merging, nothing landed for
 * it) while #1 lands; the run waits for the person only once the queue is done. The answer makes
 * #2 ready: its next agent works in the same worktree, passes, and the merge queue lands it
 * before its dependent #3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFeatures } from '../../src/db/features.ts';
import { featureWorktreePath } from '../../src/git/names.ts';
import { answerFeatureUpdate } from '../../src/workflows/messages.ts';
import { agentRunsOf, queryStatus, repoRoot, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';
import { commitAll, run, worktreeIsolation } from '../git/repo.ts';

const t = withTemporal({ name: 'merge-queue-human' });
const agentScript = join(repoRoot, 'test/fixtures/agents/git-agent.ts');

test('a worktree feature whose agent asks parks, and lands through the merge queue after the answer', async () => {
  const projectId = await t.seedProject(
    [
      { id: 1, name: 'header' },
      { id: 2, name: 'button colour' },
      { id: 3, name: 'footer', dependencies: [2] },
    ],
    { base: 'wth' },
  );
  const dir = t.projectDir(projectId);
  run(dir, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(dir, 'README.md'), 'app\n');
  commitAll(dir, 'initial');
  const planPath = join(t.stateDir, `${projectId}-plan.json`);
  const question = 'Which colour should the button be?';
  writeFileSync(planPath, JSON.stringify({ '2': { file: 'button.txt', text: 'colour: {answer}\n', ask: question } }));

  const handle = await t.startRun(projectId, {
    agent: 'command',
    agentCmd: [process.execPath, agentScript, planPath],
    concurrency: 2,
    isolation: worktreeIsolation(),
  });
  const waiting = await waitUntil(
    'the run waits for a person, with #1 landed',
    async () => {
      const s = await queryStatus(handle);
      return s.phase === 'waiting_for_human' && s;
    },
    { timeoutMs: 90_000 },
  );
  assert.deepEqual(
    [waiting.counts.passing, waiting.counts.needs_human_input, waiting.counts.merging, waiting.counts.blocked],
    [1, 1, 0, 1],
  );
  assert.deepEqual(
    waiting.humanRequests?.map((r) => [r.featureId, r.question]),
    [[2, question]],
  );
  const states = Object.fromEntries((await listFeatures(t.db, projectId)).map((f) => [f.id, f.state]));
  assert.deepEqual(states, { 1: 'passing', 2: 'needs_human_input', 3: 'blocked' });
  const log = () => run(dir, 'log', '--reverse', '--format=%s', 'main').trim().split('\n');
  assert.deepEqual(
    log().filter((s) => s.startsWith('feature #')),
    ['feature #1: by the agent'],
    'only #1 landed: a parked feature is not merging',
  );
  const worktree = featureWorktreePath(t.stateDir, projectId, 2);
  assert.equal(readFileSync(join(worktree, 'button.txt'), 'utf8'), 'draft\n', "the draft waits in #2's worktree");
  const [asked] = (await agentRunsOf(t.db, projectId, 'coding')).filter((r) => r.feature_id === 2);
  assert.equal(asked?.outcome, 'waiting');

  await handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 2, option: 2 }] });
  const result = await waitForResult(handle, 90_000);
  assert.equal(result.outcome, 'complete', result.message);
  assert.deepEqual([result.counts.passing, result.counts.merging, result.counts.needs_human_input], [3, 0, 0]);

  const runs2 = (await agentRunsOf(t.db, projectId, 'coding')).filter((r) => r.feature_id === 2);
  assert.deepEqual(
    runs2.map((r) => r.outcome),
    ['waiting', 'passed'],
  );
  assert.equal(readFileSync(join(dir, 'button.txt'), 'utf8'), 'colour: blue\n', 'the answer landed on main');
  const subjects = log();
  const at = (id: number) => subjects.findIndex((s) => s.startsWith(`feature #${id}:`));
  assert.ok(at(2) > 0 && at(2) < at(3), `#2 lands before its dependent #3: ${subjects.join(' | ')}`);
  assert.equal(run(dir, 'rev-list', '--merges', '--count', 'main').trim(), '0', 'linear history');
  assert.ok(!existsSync(worktree), "#2's worktree is removed once it landed");
  assert.equal(run(dir, 'branch', '--list', 'autocoder/*').trim(), '', 'no autocoder/* branch left');
  assert.equal(run(dir, 'status', '--porcelain').trim(), '');
});
