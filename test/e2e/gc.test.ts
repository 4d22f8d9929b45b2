/**
 * `autocoder gc` as a subprocess against a real database, a real state dir and a real git
 * repository: with --dry-run it lists and removes nothing; then it removes exactly the old files of
 * ended agent runs, the old feature events (of the project asked for) and the kept branches of
 * landed features, and keeps everything else with its reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runDated } from '../git/repo.ts';
import { sql } from 'kysely';
import { importFeatures } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import { createTestDb, type TestDb } from '../support/db.ts';
import { makeRepo } from '../git/repo.ts';
import { hasStackTrace, runCli } from '../stack/support.ts';
import type { GcSummary } from '../../src/cli/commands/gc.ts';

const DAY = 86_400_000;
const P = 'gc-app';
const Q = 'gc-other';
let t: TestDb;
let home: string;
let repo: string;

const daysAgo = (n: number) => new Date(Date.now() - n * DAY);
const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: t.url,
  AUTOCODER_HOME: home,
  NODE_TEST_CONTEXT: undefined,
});

const git = (args: string[], date?: Date): string => runDated(repo, date, ...args);

function commitOn(branch: string, file: string, date?: Date): void {
  git(['checkout', '--quiet', '-b', branch]);
  writeFileSync(join(repo, file), `${branch}\n`);
  git(['add', file]);
  git(['commit', '--quiet', '-m', `work of ${branch}`], date);
  git(['checkout', '--quiet', 'main']);
}

/** A file under the state dir, last written `age` days ago. */
function stateFile(relative: string, bytes: number, age: number): string {
  const path = join(home, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, 'x'.repeat(bytes));
  utimesSync(path, daysAgo(age), daysAgo(age));
  return path;
}

const runFile = (kind: string, feature: number, attempt: number) => `autocoder__${P}__${kind}__${feature}__${attempt}`;
const files = {
  oldLog: () => join(home, 'logs', `${runFile('coding', 1, 1)}.log`),
  oldStatus: () => join(home, 'logs', `${runFile('coding', 1, 1)}.log.status.json`),
  oldMcp: () => join(home, 'mcp', `${runFile('coding', 1, 1)}.json`),
  liveLog: () => join(home, 'logs', `${runFile('coding', 4, 1)}.log`),
  recentLog: () => join(home, 'logs', `${runFile('coding', 3, 2)}.log`),
  notOurs: () => join(home, 'logs', 'notes.log'),
};

before(async () => {
  t = await createTestDb();
  home = mkdtempSync(join(tmpdir(), 'ac-gc-'));
  repo = makeRepo();
  await upsertProject(t.db, { id: P, dir: repo });
  await importFeatures(t.db, P, [
    { id: 1, name: 'landed long ago', passes: true },
    { id: 2, name: 'passes, branch never landed', passes: true },
    { id: 3, name: 'landed yesterday', passes: true },
    { id: 4, name: 'still pending', passes: false },
  ]);
  await upsertProject(t.db, { id: Q, dir: join(home, 'not-here') });
  await importFeatures(t.db, Q, [{ id: 1, name: 'other', passes: false }]);

  // Branches: 1 landed 60 days ago; 2 old but never landed; 3 landed yesterday; 4 landed but pending.
  commitOn(`autocoder/${P}/1`, 'one.txt', daysAgo(60));
  git(['merge', '--quiet', '--ff-only', `autocoder/${P}/1`]);
  git(['branch', `autocoder/${P}/4`, `autocoder/${P}/1`]);
  commitOn(`autocoder/${P}/2`, 'two.txt', daysAgo(60));
  commitOn(`autocoder/${P}/3`, 'three.txt', daysAgo(1));
  git(['merge', '--quiet', '--ff-only', `autocoder/${P}/3`]);

  stateFile(`logs/${runFile('coding', 1, 1)}.log`, 3000, 40);
  stateFile(`logs/${runFile('coding', 1, 1)}.log.status.json`, 100, 40);
  stateFile(`mcp/${runFile('coding', 1, 1)}.json`, 200, 40);
  stateFile(`logs/${runFile('coding', 4, 1)}.log`, 500, 40); // its agent still runs
  stateFile(`logs/${runFile('coding', 3, 2)}.log`, 500, 2);
  stateFile('logs/notes.log', 50, 90); // not an agent run's: never ours to remove
  await t.db
    .insertInto('agent_runs')
    .values({ id: `autocoder/${P}/coding/4/1`, project_id: P, feature_id: 4, kind: 'coding', attempt: 1 })
    .execute();

  const event = (projectId: string, age: number) => ({
    project_id: projectId,
    feature_id: 1,
    run_id: 'operator',
    action: 'edit',
    detail: JSON.stringify({ note: 'x'.repeat(40) }),
    created_at: daysAgo(age),
  });
  await t.db
    .insertInto('feature_events')
    .values([event(P, 45), event(P, 40), event(P, 31), event(P, 5), event(P, 0), event(Q, 45)])
    .execute();
});

after(async () => {
  await t.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(dirname(repo), { recursive: true, force: true });
});

const branches = () =>
  git(['for-each-ref', '--format=%(refname:short)', 'refs/heads/autocoder/']).split('\n').filter(Boolean);
const eventsOf = async (projectId: string) =>
  Number(
    (
      await sql<{ n: number }>`SELECT count(*)::int AS n FROM feature_events WHERE project_id = ${projectId}`.execute(
        t.db,
      )
    ).rows[0]?.n,
  );

test('--dry-run lists what would go, with each kept branch and its reason, and removes nothing', async () => {
  const json = await runCli(['gc', '--dry-run', '--json'], env());
  assert.equal(json.code, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as GcSummary;
  assert.equal(summary.dryRun, true);
  assert.deepEqual(summary.logs, { files: 3, bytes: 3300 });
  assert.equal(summary.featureEvents.rows, 4);
  assert.ok(summary.featureEvents.bytes > 4 * 40, 'event sizes are counted');
  assert.deepEqual(summary.branches.deleted, [`autocoder/${P}/1`]);
  assert.deepEqual(Object.fromEntries(summary.branches.kept.map((k) => [k.branch, k.reason])), {
    [`autocoder/${P}/2`]: 'its tip is in no other branch (not landed)',
    [`autocoder/${P}/3`]: 'newer than the cutoff',
    [`autocoder/${P}/4`]: 'its feature does not pass',
  });
  assert.deepEqual(summary.branches.skipped, [`${Q}: ${join(home, 'not-here')} is not on this host`]);

  const text = await runCli(['gc', '--dry-run'], env());
  assert.equal(text.code, 0, text.stderr);
  for (const path of [files.oldLog(), files.oldStatus(), files.oldMcp()])
    assert.ok(text.stdout.includes(`would remove ${path}`), path);
  assert.match(text.stdout, new RegExp(`would delete branch autocoder/${P}/1 \\(feature #1, last commit `));
  assert.match(text.stdout, /would free 3\.\d KB: 3 log files, 4 feature events, 1 branches/);

  for (const path of Object.values(files)) assert.ok(existsSync(path()), path());
  assert.equal(branches().length, 4);
  assert.equal((await eventsOf(P)) + (await eventsOf(Q)), 6);
});

test('gc --project removes old files of ended runs, old events and landed branches of that project only', async () => {
  const result = await runCli(['gc', '--project', P, '--older-than', '30d'], env());
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
  assert.match(result.stdout, /logs: removed 3 files \(3\.2 KB\)/);
  assert.match(result.stdout, /feature events: removed 3 rows/);
  assert.match(result.stdout, new RegExp(`deleted branch autocoder/${P}/1 `));
  assert.match(result.stdout, /freed 3\.\d KB: 3 log files, 3 feature events, 1 branches/);

  for (const gone of [files.oldLog(), files.oldStatus(), files.oldMcp()]) assert.ok(!existsSync(gone), gone);
  for (const kept of [files.liveLog(), files.recentLog(), files.notOurs()]) assert.ok(existsSync(kept), kept);
  assert.deepEqual(branches().sort(), [`autocoder/${P}/2`, `autocoder/${P}/3`, `autocoder/${P}/4`]);
  assert.equal(await eventsOf(P), 2, 'the two recent events stay');
  assert.equal(await eventsOf(Q), 1, "the other project's old event stays");
  assert.match(git(['log', '--format=%s', 'main']), /work of autocoder\/gc-app\/1/, 'the landed work is in main');

  const again = await runCli(['gc', '--project', P], env());
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /freed 0 B: 0 log files, 0 feature events, 0 branches/);
});

test('bad input exits 2 naming it, and changes nothing', async () => {
  const duration = await runCli(['gc', '--older-than', '30 days'], env());
  assert.equal(duration.code, 2, duration.stderr);
  assert.match(duration.stderr, /--older-than must be a duration like 30s, 15m, 4h or 2d, got "30 days"/);
  const project = await runCli(['gc', '--project', 'no-such-project'], env());
  assert.equal(project.code, 2, project.stderr);
  assert.match(project.stderr, /unknown project "no-such-project"/);
  assert.equal(await eventsOf(Q), 1);
});
