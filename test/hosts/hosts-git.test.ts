/**
 * Work on many hosts end to end (issue 23, item 3): two worker processes with distinct host ids
 * and state dirs on one task queue; host-g holds the project dir (the run's home host).
 * - Worktree isolation: coding agents run on both hosts, host-k's in worktrees of its own clone;
 *   what they publish is landed on main by the merge queue on host-g, conflicts resolved there;
 *   main is linear, has every feature, and no feature branch or published branch is left.
 * - Shared isolation: every agent runs on the home host, though host-k has free slots.
 * - `autocoder run --isolation shared` refuses to start while another host polls the queue:
 *   exit 2 naming the hosts, nothing written.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeatureEntry } from '../../src/db/import.ts';
import { cloneDir } from '../../src/git/host-clone.ts';
import { agentRunsOf, repoRoot, waitForResult, withTemporal, type ChildWorker } from '../support/temporal.ts';
import { cliEnv, runCli } from '../chaos/support.ts';
import { commitAll, run, worktreeIsolation } from '../git/repo.ts';

const HOME = 'host-g';
const OTHER = 'host-k';
const agentScript = join(repoRoot, 'test/fixtures/agents/git-agent.ts');
const suite = { timeout: 300_000 };

function hostsOf(runs: readonly { host: string | null }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of runs) counts[r.host ?? '?'] = (counts[r.host ?? '?'] ?? 0) + 1;
  return counts;
}

describe('work on many hosts', suite, () => {
  const t = withTemporal({ name: 'hosts-git', startWorker: false });
  const dirs: string[] = [];
  const workers: ChildWorker[] = [];
  const stateOf: Record<string, string> = {};
  const startHosts = async () => {
    for (const hostId of [HOME, OTHER]) {
      stateOf[hostId] = mkdtempSync(join(tmpdir(), `ac-${hostId}-`));
      dirs.push(stateOf[hostId]);
      workers.push(await t.startWorkerProcess({ hostId, stateDir: stateOf[hostId], maxAgents: 2 }));
    }
  };
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.process.kill('SIGKILL');
      await w.exited;
    }
  });

  test('worktree isolation: both hosts code, each in its own worktrees; the home host lands it all on main', async () => {
    await startHosts();
    const features: FeatureEntry[] = [
      { id: 1, name: 'pair left' },
      { id: 2, name: 'pair right' },
      { id: 3, name: 'three' },
      { id: 4, name: 'four' },
      { id: 5, name: 'five', dependencies: [1] },
      { id: 6, name: 'six', dependencies: [2, 3] },
      { id: 7, name: 'seven', dependencies: [4] },
      { id: 8, name: 'eight', dependencies: [5, 6] },
      { id: 9, name: 'nine', dependencies: [7] },
      { id: 10, name: 'ten', dependencies: [8, 9] },
    ];
    const project = await t.seedProject(features, { base: 'hosts-git' });
    const dir = t.projectDir(project);
    run(dir, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(dir, 'pair.txt'), 'top\nMIDDLE\nbottom\n');
    commitAll(dir, 'initial');
    // 1 and 2 edit the same line (a certain conflict); 2 leaves its change for the host to commit.
    const plan = {
      '1': { file: 'pair.txt', text: 'top\nfrom feature 1\nbottom\n', sleepMs: 400 },
      '2': { file: 'pair.txt', text: 'top\nfrom feature 2\nbottom\n', sleepMs: 400, commit: false },
      ...Object.fromEntries(
        features.slice(2).map((f) => [String(f.id), { file: `feature-${f.id}.txt`, text: `${f.id}\n`, sleepMs: 400 }]),
      ),
    };
    const planPath = join(t.stateDir, `${project}-plan.json`);
    writeFileSync(planPath, JSON.stringify(plan));
    const result = await waitForResult(
      await t.startRun(project, {
        agent: 'command',
        agentCmd: [process.execPath, agentScript, planPath],
        concurrency: 4,
        homeHost: HOME,
        isolation: worktreeIsolation(),
      }),
      240_000,
    );
    assert.equal(result.outcome, 'complete', result.message);
    assert.equal(result.counts.passing, features.length);

    const coding = hostsOf(await agentRunsOf(t.db, project, 'coding'));
    assert.ok(
      (coding[HOME] ?? 0) > 0 && (coding[OTHER] ?? 0) > 0,
      `coding agents on both hosts: ${JSON.stringify(coding)}`,
    );
    const resolvers = hostsOf(await agentRunsOf(t.db, project, 'merge'));
    assert.deepEqual(
      Object.keys(resolvers).filter((h) => h !== HOME),
      [],
      `resolvers only at home: ${JSON.stringify(resolvers)}`,
    );

    // Everything landed, linear, and nothing of the hosts' branches left behind.
    for (const f of features.slice(2)) assert.equal(run(dir, 'show', `main:feature-${f.id}.txt`), `${f.id}\n`);
    const pair = run(dir, 'show', 'main:pair.txt');
    assert.match(pair, /from feature 1/);
    assert.match(pair, /from feature 2/);
    assert.equal(run(dir, 'rev-list', '--merges', 'main').trim(), '', 'main stays linear');
    assert.equal(run(dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').trim(), 'main');
    assert.equal(run(dir, 'status', '--porcelain').trim(), '');
    // host-k worked in its own clone and kept no feature worktree after publishing.
    assert.ok(existsSync(cloneDir(stateOf[OTHER]!, project)), 'host-k has a clone');
    const otherWorktrees = join(stateOf[OTHER]!, 'worktrees', project);
    assert.deepEqual(existsSync(otherWorktrees) ? readdirSync(otherWorktrees) : [], []);
    const log = readFileSync(join(stateOf[OTHER]!, 'logs', readdirSync(join(stateOf[OTHER]!, 'logs'))[0]!), 'utf8');
    assert.match(log, new RegExp(`cwd ${stateOf[OTHER]}/worktrees/`), "host-k's agents ran in its worktrees");
  });

  test('shared isolation: every agent runs on the home host while the other has free slots', async () => {
    await startHosts();
    const project = await t.seedProject(
      Array.from({ length: 6 }, (_, i) => ({ id: i + 1, name: `f${i + 1}` })),
      { base: 'hosts-shared' },
    );
    const result = await waitForResult(
      await t.startRun(project, {
        concurrency: 4,
        homeHost: HOME,
        simulate: { default: { action: 'pass', delayMs: 300 } },
      }),
      120_000,
    );
    assert.equal(result.outcome, 'complete', result.message);
    assert.deepEqual(hostsOf(await agentRunsOf(t.db, project, 'coding')), { [HOME]: 6 });
  });

  test('`run --isolation shared` refuses while another host polls the queue: exit 2, nothing written', async () => {
    await startHosts();
    const home = mkdtempSync(join(tmpdir(), 'ac-hosts-cli-'));
    dirs.push(home);
    const projectDir = join(home, 'refused-app');
    const result = await runCli(
      ['run', projectDir, '--isolation', 'shared', '--detach', '--project', 'refused-app'],
      cliEnv(t, home, { AUTOCODER_HOST_ID: 'host-z' }),
      120_000,
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /shared isolation runs on one host, but workers of hosts host-g, host-k also poll/);
    assert.match(result.stderr, /--isolation worktree/);
    const rows = await t.db.selectFrom('projects').select('id').where('id', '=', 'refused-app').execute();
    assert.deepEqual(rows, [], 'no project registered');
  });

  test('cleanup', () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
});
