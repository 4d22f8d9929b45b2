/**
 * A feature's work moving between hosts (issue 23, item 3), step by step against real git
 * repositories and Postgres: three state dirs stand for three hosts (home H holds the project dir,
 * X and Y work in their own clones), and agent_runs rows say where each attempt ran, as
 * superviseAgent records them. Each attempt starts from the newest work wherever it was done; the
 * repository only ever gets the hosts' own branches; the merge queue adopts the last one, waits for
 * an agent still running, and sends back (uncounted) work a host never published.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createMergeActivities } from '../../src/activities/merge-steps.ts';
import { publishAttempt } from '../../src/activities/host-work.ts';
import type { AgentSpec } from '../../src/activities/types.ts';
import { prepareWorkspace } from '../../src/activities/workspace.ts';
import { recordAgentEnd, recordAgentStart } from '../../src/db/agent-runs.ts';
import { importFeatures } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import { cloneDir, ensureClone, fetchBranches, fetchedRef } from '../../src/git/host-clone.ts';
import { agentRunId } from '../../src/workflows/run-ids.ts';
import { withTestDb } from '../support/db.ts';
import { commitAll, makeRepo, run, worktreeIsolation, write } from '../git/repo.ts';

const t = withTestDb();
const HOME = 'host-h';
const projectId = 'moving';
const repo = makeRepo({ 'README.md': 'hello\n' });
const stateOf = {
  [HOME]: mkdtempSync(join(tmpdir(), 'ac-h-')),
  'host-x': mkdtempSync(join(tmpdir(), 'ac-x-')),
  'host-y': mkdtempSync(join(tmpdir(), 'ac-y-')),
};
type Host = keyof typeof stateOf;

const spec = (featureId: number, attempt: number): AgentSpec => ({
  projectId,
  projectDir: repo,
  kind: 'coding',
  featureId,
  featureName: `feature ${featureId}`,
  attempt,
  adapter: 'simulate',
  yolo: true,
  timeoutMs: 60_000,
  homeHost: HOME,
  isolation: worktreeIsolation(),
});

// Landing wakes the project's run; there is none here.
const noRun = { workflow: { getHandle: () => ({ signal: async () => undefined }) } } as unknown as Client;

const branches = (): string[] =>
  run(repo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').trim().split('\n').sort();
const ls = (dir: string, file: string): string | null =>
  existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : null;

/** One attempt of feature `featureId` on `host`: the workspace it gets, recorded as superviseAgent does. */
async function attemptOn(
  host: Host,
  featureId: number,
  attempt: number,
): Promise<{ dir: string; done: (publish?: boolean) => Promise<void> }> {
  const s = spec(featureId, attempt);
  const runId = agentRunId({ projectId, kind: 'coding', featureId, attempt });
  const dir = await prepareWorkspace(s, stateOf[host], { db: t.db, hostId: host, runId });
  await recordAgentStart(t.db, {
    id: runId,
    projectId,
    featureId,
    kind: 'coding',
    attempt,
    host,
    pid: 1,
    pgid: 1,
    procStartTime: 1,
  });
  return {
    dir,
    done: async (publish = true) => {
      if (publish) await publishAttempt(s, { stateDir: stateOf[host], hostId: host }, () => undefined);
      await recordAgentEnd(t.db, { id: runId, projectId, featureId, kind: 'coding', outcome: 'failed' });
    },
  };
}

test('setup: the project and its features', async () => {
  await upsertProject(t.db, { id: projectId, dir: repo });
  await importFeatures(
    t.db,
    projectId,
    [1, 2, 3].map((id) => ({ id, name: `feature ${id}` })),
    { reset: false },
  );
});

test('an attempt on another host works in its clone and publishes under its own branch name', async () => {
  const x = await attemptOn('host-x', 1, 1);
  assert.ok(x.dir.startsWith(stateOf['host-x']), x.dir);
  assert.ok(existsSync(cloneDir(stateOf['host-x'], projectId)));
  assert.equal(ls(x.dir, 'README.md'), 'hello\n', 'made from the integration branch it fetched');
  write(x.dir, 'a.txt', 'from x\n'); // left uncommitted: the host commits it
  await x.done();
  assert.deepEqual(branches(), ['autocoder/moving/1@host-x', 'main']);
  assert.equal(run(repo, 'show', 'autocoder/moving/1@host-x:a.txt'), 'from x\n');
  assert.equal(existsSync(x.dir), false, 'the worktree goes once the repository has the work');
  assert.equal(run(repo, 'status', '--porcelain'), '', "the project dir's checkout is untouched");
});

test("the next attempt on a third host starts from the last one's published work", async () => {
  const y = await attemptOn('host-y', 1, 2);
  assert.equal(ls(y.dir, 'a.txt'), 'from x\n');
  write(y.dir, 'b.txt', 'from y\n');
  await y.done();
  assert.deepEqual(branches(), ['autocoder/moving/1@host-x', 'autocoder/moving/1@host-y', 'main']);
});

test('the home host adopts it into the feature branch, on top of the integration head', async () => {
  write(repo, 'c.txt', 'on main meanwhile\n');
  commitAll(repo, 'main moves on');
  const h = await attemptOn(HOME, 1, 3);
  assert.ok(h.dir.startsWith(stateOf[HOME]), h.dir);
  assert.deepEqual(
    [ls(h.dir, 'a.txt'), ls(h.dir, 'b.txt'), ls(h.dir, 'c.txt')],
    ['from x\n', 'from y\n', 'on main meanwhile\n'],
  );
  assert.ok(!branches().includes('autocoder/moving/1@host-y'), 'adopted once: the published branch is gone');
  write(h.dir, 'd.txt', 'from home\n'); // uncommitted: committed as the attempt ends
  await h.done();
  const x = await attemptOn('host-x', 1, 4);
  assert.deepEqual([ls(x.dir, 'b.txt'), ls(x.dir, 'd.txt')], ['from y\n', 'from home\n'], "home's whole attempt");
  write(x.dir, 'e.txt', 'from x again\n');
  await x.done();
});

test('the merge queue adopts the last attempt, lands it, and removes every host branch of it', async () => {
  const git = createMergeActivities({ db: t.db, temporal: noRun, stateDir: stateOf[HOME] });
  const ref = { projectId, projectDir: repo, branch: 'main', featureId: 1, featureName: 'feature 1', homeHost: HOME };
  const rebased = await git.rebaseFeature(ref);
  assert.equal(rebased.state, 'rebased');
  if (rebased.state !== 'rebased') return;
  assert.equal(ls(rebased.path, 'e.txt'), 'from x again\n');
  // A retried step finds it adopted already and does not reset the worktree again.
  write(rebased.path, 'resolver.txt', 'kept\n');
  assert.equal((await git.rebaseFeature(ref)).state, 'rebased');
  assert.equal(ls(rebased.path, 'resolver.txt'), 'kept\n');
  const again = await git.rebaseFeature(ref);
  if (again.state !== 'rebased') assert.fail(again.state);
  await t.db.updateTable('features').set({ merging_since: new Date() }).where('id', '=', 1).execute();
  assert.deepEqual(await git.landFeature({ ...ref, head: again.head, keepBranches: false }), { state: 'landed' });
  assert.equal(run(repo, 'show', 'main:e.txt'), 'from x again\n');
  assert.deepEqual(branches(), ['main'], 'the feature branch and every published one are gone');
});

test('the queue waits while the last attempt still runs elsewhere, and sends back work never published', async () => {
  const git = createMergeActivities({ db: t.db, temporal: noRun, stateDir: stateOf[HOME] });
  const ref = { projectId, projectDir: repo, branch: 'main', featureId: 2, featureName: 'feature 2', homeHost: HOME };
  const y = await attemptOn('host-y', 2, 1);
  writeFileSync(join(y.dir, 'f.txt'), 'never published\n');
  await assert.rejects(git.rebaseFeature(ref), /still being coded on host host-y/);
  await y.done(false); // the host went away before it published
  assert.deepEqual(await git.rebaseFeature(ref), { state: 'lost', host: 'host-y' });
});

test('agents starting together on a host share one clone: made once, fetched in turn; a broken one is made again', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'ac-together-'));
  const fetched = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const clone = await ensureClone(stateDir, 'together');
      return fetchBranches(clone, repo, ['main', 'no-such-branch']);
    }),
  );
  for (const f of fetched) assert.deepEqual([...f], ['main']);
  const clone = cloneDir(stateDir, 'together');
  assert.equal(run(clone, 'rev-parse', fetchedRef('main')), run(repo, 'rev-parse', 'main'));
  assert.deepEqual(readdirSync(join(stateDir, 'clones')), ['together.git'], 'no temporary dir left');
  rmSync(join(clone, 'HEAD'));
  await ensureClone(stateDir, 'together');
  assert.ok(existsSync(join(clone, 'HEAD')));
});
