/**
 * `autocoder features import|list|show` as real subprocesses against this file's test database.
 * The bad-file corpus (test/fixtures/feature-files/bad) is shared with `features plan`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { register as registerImport } from '../../src/cli/commands/features-import.ts';
import { UserError } from '../../src/errors.ts';
import { withTestDb } from '../support/db.ts';

const t = withTestDb();
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const badDir = join(repoRoot, 'test/fixtures/feature-files/bad');
let scratch = '';

type CliResult = { exitCode: number; stdout: string; stderr: string };

function cli(
  args: readonly string[],
  env: Record<string, string | undefined> = { DATABASE_URL: t.url },
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      `${repoRoot}bin/autocoder`,
      args,
      { cwd: repoRoot, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ exitCode: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs `features import ARGS` in this process through the command's own registration. */
async function importInProcess(args: readonly string[]): Promise<unknown> {
  const program = new Command('autocoder').exitOverride();
  registerImport(program);
  try {
    await program.parseAsync(['features', 'import', ...args], { from: 'user' });
    return undefined;
  } catch (error) {
    return error;
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at] as T);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Every row of every table we own, so "unchanged" means unchanged. */
async function databaseState() {
  return {
    projects: await t.db.selectFrom('projects').selectAll().orderBy('id').execute(),
    features: await t.db.selectFrom('features').selectAll().orderBy('project_id').orderBy('id').execute(),
    runs: await t.db.selectFrom('agent_runs').selectAll().orderBy('id').execute(),
  };
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'autocoder-cli-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('features import', () => {
  test('imports a file, creates the project with --dir, and re-imports by id', async () => {
    const file = join(scratch, 'features.json');
    await writeFile(
      file,
      JSON.stringify({
        features: [
          { id: 1, name: 'Setup', priority: 1 },
          { id: 2, name: 'API', dependencies: [1] },
          { id: 3, name: 'UI', dependencies: [2, 9] },
        ],
      }),
    );
    const first = await cli(['features', 'import', file, '--project', 'cli-app', '--dir', scratch]);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stdout, /3 new, 0 updated, 0 unchanged/);
    const again = await cli(['features', 'import', file, '--project', 'cli-app', '--json']);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).inserted, 0);
    assert.equal(JSON.parse(again.stdout).unchanged, 3);
  });

  test('every bad file in the corpus is rejected as bad input and leaves the database unchanged', async () => {
    const files = (await readdir(badDir)).filter((f) => f.endsWith('.json')).map((f) => join(badDir, f));
    const notUtf8 = join(scratch, 'not-utf8.json');
    await writeFile(notUtf8, Buffer.from([0x7b, 0x22, 0x66, 0xff, 0xfe, 0x22, 0x7d]));
    files.push(notUtf8);
    assert.ok(files.length >= 15, `the corpus has ${files.length} bad files`);
    const before = await databaseState();
    // In process (the real command, the real database), because a subprocess per file costs a
    // second of CPU on a shared machine; the next test proves the exit code end to end.
    process.env.DATABASE_URL = t.url;
    for (const file of files) {
      // Both an existing project (with --reset) and a new one: neither may change.
      for (const args of [
        ['--project', 'cli-app', '--reset'],
        ['--project', 'cli-new', '--dir', scratch],
      ]) {
        const error = await importInProcess([file, ...args]);
        assert.ok(error instanceof UserError, `${file}: expected a UserError (exit 2), got ${String(error)}`);
        assert.match(error.message, /feature file .* (is|has)/, file);
      }
    }
    assert.deepEqual(await databaseState(), before);
  });

  test('a bad file exits 2 from the real CLI, with the problem and its path, no stack trace', async () => {
    const before = await databaseState();
    const samples = ['duplicate-ids.json', 'trailing-comma.json', 'several-problems.json'];
    const results = await mapLimited(samples, 2, (name) =>
      cli(['features', 'import', join(badDir, name), '--project', 'cli-app', '--reset']),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.exitCode, 2, `${samples[i]}: exit ${r.exitCode}\n${r.stderr}`);
      assert.match(r.stderr, /^autocoder: feature file /);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      assert.equal(r.stdout, '');
    }
    assert.match(results[0]!.stderr, /features\[\d\]\.id/);
    assert.match(results[1]!.stderr, /line \d+, column \d+/);
    assert.deepEqual(await databaseState(), before);
  });

  test('--from-autocoder reads an AutoCoder features.db; a bad row is rejected with its path', async () => {
    const path = join(scratch, 'features.db');
    const sqlite = new DatabaseSync(path);
    sqlite.exec(`CREATE TABLE features (id INTEGER PRIMARY KEY, priority INTEGER DEFAULT 999, category TEXT, name TEXT,
      description TEXT, steps JSON, passes BOOLEAN DEFAULT 0, in_progress BOOLEAN DEFAULT 0, dependencies JSON)`);
    const insert = sqlite.prepare('INSERT INTO features VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run(1, 1, 'setup', 'Init', 'scaffold', '["npm init"]', 1, 0, null);
    insert.run(2, 2, 'api', 'Todos API', 'CRUD', '["curl"]', 0, 1, '[1]');
    insert.run(3, 3, 'ui', 'Todo list', 'page', '[]', 0, 0, '[2]');
    sqlite.close();
    const ok = await cli(['features', 'import', '--from-autocoder', path, '--project', 'from-ac']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    const list = await cli(['features', 'list', '--project', 'from-ac', '--json']);
    const features = JSON.parse(list.stdout) as Array<{
      id: number;
      state: string;
      dependencies: number[];
      blockedBy: string | null;
    }>;
    assert.deepEqual(
      features.map((f) => [f.id, f.state]),
      [
        [1, 'passing'],
        [2, 'running'],
        [3, 'blocked'],
      ],
    );
    assert.equal(features[2]?.blockedBy, 'waiting on #2 (running)');
    const project = await t.db.selectFrom('projects').selectAll().where('id', '=', 'from-ac').executeTakeFirst();
    assert.equal(project?.dir, scratch, 'the project dir defaults to the directory of features.db');

    const badPath = join(scratch, 'bad.db');
    const bad = new DatabaseSync(badPath);
    bad.exec('CREATE TABLE features (id INTEGER PRIMARY KEY, name TEXT, steps JSON, dependencies JSON)');
    bad.prepare('INSERT INTO features VALUES (?, ?, ?, ?)').run(1, 'ok', '[]', null);
    bad.prepare('INSERT INTO features VALUES (?, ?, ?, ?)').run(2, 'broken', 'not json', '[1, "x"]');
    bad.close();
    const before = await databaseState();
    const rejected = await cli(['features', 'import', '--from-autocoder', badPath, '--project', 'from-ac']);
    assert.equal(rejected.exitCode, 2);
    assert.match(rejected.stderr, /features\[1\]\.steps: must be JSON text/);
    assert.deepEqual(await databaseState(), before);
  });
});

describe('features list and show', () => {
  test('list filters by state and says what blocked features wait on', async () => {
    const blocked = await cli(['features', 'list', '--project', 'cli-app', '--state', 'blocked']);
    assert.equal(blocked.exitCode, 0, blocked.stderr);
    assert.match(blocked.stdout, /^ID\s+STATE/);
    assert.match(blocked.stdout, /2\s+blocked.*waiting on #1 \(pending\)/);
    assert.match(blocked.stdout, /3\s+blocked.*#3 depends on #9, which does not exist/);
    assert.doesNotMatch(blocked.stdout, /Setup/);
  });

  test('show prints one feature; --json includes its agent runs', async () => {
    const shown = await cli(['features', 'show', '2', '--project', 'cli-app']);
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.match(shown.stdout, /^#2 API/);
    assert.match(shown.stdout, /depends on\s+#1 \(pending\)/);
    const json = JSON.parse((await cli(['features', 'show', '2', '--project', 'cli-app', '--json'])).stdout);
    assert.equal(json.id, 2);
    assert.deepEqual(json.agentRuns, []);
  });

  test('bad input exits 2 naming it; an unreachable database exits 3 naming host:port', async () => {
    const unknown = await cli(['features', 'list', '--project', 'no-such-project']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown project "no-such-project"/);
    const missing = await cli(['features', 'show', '77', '--project', 'cli-app']);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /no feature #77/);
    const state = await cli(['features', 'list', '--project', 'cli-app', '--state', 'done']);
    assert.equal(state.exitCode, 2);
    assert.match(state.stderr, /--state must be one of/);
    // Without DATABASE_URL the embedded Postgres is started on demand; its port being taken (here
    // by the test's own Postgres) is named with the variable that changes it, and nothing starts.
    const takenPort = new URL(t.url).port;
    const home = mkdtempSync(join(tmpdir(), 'ac-cli-features-'));
    const unset = await cli(['features', 'list', '--project', 'cli-app'], {
      DATABASE_URL: '',
      AUTOCODER_HOME: home,
      AUTOCODER_PG_PORT: takenPort,
    });
    rmSync(home, { recursive: true, force: true });
    assert.equal(unset.exitCode, 2, unset.stderr);
    assert.match(unset.stderr, new RegExp(`port ${takenPort} .*AUTOCODER_PG_PORT`));
    const down = await cli(['features', 'list', '--project', 'cli-app'], {
      DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/db',
    });
    assert.equal(down.exitCode, 3);
    assert.match(down.stderr, /127\.0\.0\.1:1/);
    assert.doesNotMatch(down.stderr, /secret/);
  });
});
