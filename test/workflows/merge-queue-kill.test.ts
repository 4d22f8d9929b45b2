/**
 * A worker SIGKILLed at a random moment of a merge (rebasing, resolving, verifying, landing), then
 * a new worker: the queue finishes on it and the final state is the same every time (every
 * feature passing, linear history, dependency order, every change present, no worktree or
 * feature branch left, git fsck clean). MERGE_KILL_N runs (default 2 here; 10 for the full
 * check: MERGE_KILL_N=10 bin/node scripts/test.ts test/workflows/merge-queue-kill.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFeatures } from '../../src/db/features.ts';
import { mergeStatusQuery } from '../../src/workflows/merge-messages.ts';
import { mergeQueueId } from '../../src/workflows/run-ids.ts';
import { repeatCount } from '../chaos/support.ts';
import { commitAll, run } from '../git/repo.ts';
import { repoRoot, waitForResult, waitUntil, withTemporal, type ChildWorker } from '../support/temporal.ts';

const N = repeatCount('MERGE_KILL_N', 2);
const t = withTemporal({ name: 'merge-kill', startWorker: false });
const TARGETS = ['verifying', 'resolving', 'rebasing', 'landing'] as const;
const agentScript = join(repoRoot, 'test/fixtures/agents/git-agent.ts');

test(
  `worker SIGKILLed during a merge, ${N} runs at random steps: the same final state each time`,
  { timeout: 60_000 + N * 90_000 },
  async () => {
    let worker: ChildWorker = await t.startWorkerProcess();
    const steps: string[] = [];
    const finals: string[] = [];
    for (let round = 1; round <= N; round++) {
      const projectId = await t.seedProject(
        [
          { id: 1, name: 'left' },
          { id: 2, name: 'right' },
          { id: 3, name: 'after left', dependencies: [1] },
        ],
        { base: `kill${round}` },
      );
      const dir = t.projectDir(projectId);
      run(dir, 'init', '--quiet', '--initial-branch=main');
      writeFileSync(join(dir, 'shared.txt'), 'top\nMIDDLE\nbottom\n');
      writeFileSync(join(dir, 'verify.mjs'), 'setTimeout(() => process.exit(0), 400);\n');
      commitAll(dir, 'initial');
      const planPath = join(t.stateDir, `${projectId}-plan.json`);
      writeFileSync(
        planPath,
        JSON.stringify({
          '1': { file: 'shared.txt', text: 'top\nleft\nbottom\n' },
          '2': { file: 'shared.txt', text: 'top\nright\nbottom\n', sleepMs: 200 },
        }),
      );
      const handle = await t.startRun(projectId, {
        agent: 'command',
        agentCmd: [process.execPath, agentScript, planPath],
        concurrency: 2,
        pollIntervalMs: 500,
        isolation: {
          mode: 'worktree',
          branch: 'main',
          worktreeCopy: [],
          verifyCmd: [process.execPath, 'verify.mjs'],
          verifyTimeoutMs: 30_000,
          keepBranches: false,
          review: false,
        },
      });
      // Kill at a chosen step (rounds go through them in turn; a jitter moves the moment within
      // it), or at the first moment after the queue has passed it twice.
      const target = TARGETS[(round - 1) % TARGETS.length];
      const queue = t.client.workflow.getHandle(mergeQueueId(projectId));
      const at = await waitUntil(
        `the queue ${target}`,
        async () => {
          const s = await queue.query(mergeStatusQuery).catch(() => null);
          if (!s?.current) return null;
          return s.current.step === target || s.landed >= 2 ? s.current.step : null;
        },
        { timeoutMs: 60_000, intervalMs: 10 },
      );
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 100)));
      worker.process.kill('SIGKILL');
      await worker.exited;
      steps.push(`${at}`);
      worker = await t.startWorkerProcess();
      const result = await waitForResult(handle, 90_000);
      assert.equal(result.outcome, 'complete', `round ${round} (killed while ${at}): ${result.message}`);
      const states = (await listFeatures(t.db, projectId)).map((f) => f.state);
      assert.deepEqual(states, ['passing', 'passing', 'passing']);
      assert.equal(run(dir, 'rev-list', '--merges', '--count', 'main').trim(), '0');
      const log = run(dir, 'log', '--reverse', '--format=%s', 'main').trim().split('\n');
      const pos = (id: number) => log.findIndex((s) => s.startsWith(`feature #${id}:`));
      assert.ok(pos(1) > 0 && pos(2) > 0 && pos(1) < pos(3), log.join(' | '));
      const shared = readFileSync(join(dir, 'shared.txt'), 'utf8');
      assert.match(shared, /left/);
      assert.match(shared, /right/);
      assert.equal(run(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length, 1);
      assert.equal(run(dir, 'branch', '--list', 'autocoder/*').trim(), '');
      run(dir, 'fsck', '--strict', '--no-progress');
      assert.equal(run(dir, 'status', '--porcelain').trim(), '');
      finals.push(
        JSON.stringify({ states, files: run(dir, 'ls-tree', '-r', '--name-only', 'main').trim(), commits: log.length }),
      );
    }
    process.stdout.write(`# killed while: ${steps.join(', ')}\n`);
    assert.equal(new Set(finals.map((f) => JSON.parse(f).files)).size, 1, 'the same tree every time');
  },
);
