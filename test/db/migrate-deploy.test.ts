/**
 * `autocoder db migrate` as a deploy runs it: real subprocesses against a fresh, empty database on
 * the test server. Two deploys at once apply each migration once; a deploy that finds the lock
 * held waits for it (and gives up after --lock-timeout); TLS settings the server cannot meet fail
 * with a message and a fix, not a stack trace.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createDb, type DbHandle } from '../../src/db/create-db.ts';
import { DEPLOY_LOCK_KEY, knownMigrations } from '../../src/db/migrate.ts';
import { createTestDb, type TestDb } from '../support/db.ts';
import { hasStackTrace, repoRoot, runCli, type CliResult } from '../stack/support.ts';

let t: TestDb;
let admin: DbHandle;
const fresh: string[] = [];

before(async () => {
  t = await createTestDb();
  admin = createDb(t.url, { poolSize: 2 });
});
after(async () => {
  for (const name of fresh) await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(admin.db);
  await admin.close();
  await t.close();
});

/** An empty database (no tables, no migrations) on the test server; its URL. */
async function emptyDatabase(): Promise<string> {
  const name = `deploy_${randomBytes(5).toString('hex')}`;
  await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin.db);
  fresh.push(name);
  const url = new URL(t.url);
  url.pathname = `/${name}`;
  return url.toString();
}

const cliEnv = (url: string): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: url,
  NODE_TEST_CONTEXT: undefined,
});
const migrate = (url: string, args: string[] = []): Promise<CliResult> =>
  runCli(['db', 'migrate', ...args], cliEnv(url), 60_000);

type Report = { applied: string[]; alreadyApplied: string[]; waitedMs: number };

test('two deploys at once: every migration is applied exactly once, and both succeed', async () => {
  const url = await emptyDatabase();
  const [a, b] = await Promise.all([migrate(url, ['--json']), migrate(url, ['--json'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const reports = [JSON.parse(a.stdout) as Report, JSON.parse(b.stdout) as Report];
  const all = knownMigrations();
  assert.deepEqual([...reports[0]!.applied, ...reports[1]!.applied].sort(), all);
  const second = reports.find((r) => r.applied.length === 0);
  assert.ok(second, 'one deploy applied nothing');
  assert.deepEqual(second.alreadyApplied, all);
  const db = createDb(url, { poolSize: 1 });
  try {
    const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db.db);
    assert.deepEqual(
      rows.rows.map((r) => r.name),
      all,
    );
  } finally {
    await db.close();
  }
});

test('a deploy that finds the lock held waits for it, then applies', async () => {
  const url = await emptyDatabase();
  const holder = createDb(url, { poolSize: 1 });
  try {
    await holder.db.connection().execute(async (conn) => {
      await sql`SELECT pg_advisory_lock(${DEPLOY_LOCK_KEY.toString()}::bigint)`.execute(conn);
      const child = spawn(join(repoRoot, 'bin', 'autocoder'), ['db', 'migrate'], { env: cliEnv(url) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const deadline = Date.now() + 30_000;
      while (!stdout.includes('waiting for the deploy lock') && Date.now() < deadline) await sleep(50);
      assert.match(stdout, /waiting for the deploy lock: another migration holds it \(Postgres session \d+\)/, stderr);
      await sleep(500);
      const table = await sql<{ t: string | null }>`SELECT to_regclass('kysely_migration')::text AS t`.execute(conn);
      assert.equal(table.rows[0]?.t, null, 'nothing applied while the lock is held');
      await sql`SELECT pg_advisory_unlock(${DEPLOY_LOCK_KEY.toString()}::bigint)`.execute(conn);
      assert.equal(await exited, 0, stderr);
      assert.match(stdout, /lock acquired after \d+\.\d s/);
      for (const name of knownMigrations()) assert.ok(stdout.includes(`applied ${name}`), name);
      assert.match(stdout, new RegExp(`schema migrated: ${knownMigrations().length} applied now, 0 before`));
    });
  } finally {
    await holder.close();
  }
  const again = await migrate(url);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`schema up to date: ${knownMigrations().length} migrations, none to apply`));
});

test('--lock-timeout: a deploy gives up on a lock held too long, exit 3, nothing applied', async () => {
  const url = await emptyDatabase();
  const holder = createDb(url, { poolSize: 1 });
  try {
    await holder.db.connection().execute(async (conn) => {
      await sql`SELECT pg_advisory_lock(${DEPLOY_LOCK_KEY.toString()}::bigint)`.execute(conn);
      const result = await migrate(url, ['--lock-timeout', '1s']);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /another deploy held the migration lock .* for over --lock-timeout \(1 s\)/);
      assert.ok(!hasStackTrace(result.stderr), result.stderr);
      const table = await sql<{ t: string | null }>`SELECT to_regclass('kysely_migration')::text AS t`.execute(conn);
      assert.equal(table.rows[0]?.t, null);
    });
  } finally {
    await holder.close();
  }
});

test('TLS asked of a server without it: a clear message and the fix, exit 3, no stack trace', async () => {
  const url = new URL(await emptyDatabase());
  url.searchParams.set('sslmode', 'require');
  url.searchParams.set('application_name', 'deploy');
  url.searchParams.set('sslpassword', 'key-passphrase');
  const result = await migrate(url.toString());
  assert.ok(!`${result.stdout}${result.stderr}`.includes('key-passphrase'), 'secret-looking query values are hidden');
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /the server does not accept TLS, but DATABASE_URL asks for it \(sslmode\)/);
  assert.match(result.stderr, /fix: .*sslmode=disable/);
  assert.ok(!result.stderr.includes(new URL(t.url).password), 'the password is not printed');
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
});

test('a CA file named in DATABASE_URL that does not exist is named in the error', async () => {
  const url = new URL(await emptyDatabase());
  url.searchParams.set('sslmode', 'verify-full');
  url.searchParams.set('sslrootcert', '/nonexistent/db-ca.pem');
  const result = await migrate(url.toString());
  assert.equal(result.code, 3, result.stderr);
  assert.match(
    result.stderr,
    /certificate file named in DATABASE_URL cannot be read: "\/nonexistent\/db-ca.pem" \(ENOENT\)/,
  );
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
});

test('a database a newer version migrated: an older one applies nothing and leaves it as it is', async () => {
  const url = await emptyDatabase();
  assert.equal((await migrate(url)).code, 0);
  const db = createDb(url, { poolSize: 1 });
  try {
    // What a newer version leaves: a migration this one does not know, a wider vocabulary.
    await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('29991231T0000_from_the_future', now()::text)`.execute(
      db.db,
    );
    await sql`ALTER TABLE agent_runs DROP CONSTRAINT agent_runs_outcome_check`.execute(db.db);
    await sql`ALTER TABLE agent_runs ADD CONSTRAINT agent_runs_outcome_check CHECK (outcome IS NULL OR outcome <> '')`.execute(
      db.db,
    );
    const text = await migrate(url);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /the database is ahead of this version: a newer one applied 29991231T0000_from_the_future; nothing applied/,
    );
    const json = JSON.parse((await migrate(url, ['--json'])).stdout) as Report & { newerThanCode: string[] };
    assert.deepEqual(json.newerThanCode, ['29991231T0000_from_the_future']);
    assert.deepEqual(json.applied, []);
    const check = await sql<{ def: string }>`
      SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'agent_runs_outcome_check'`.execute(
      db.db,
    );
    assert.match(check.rows[0]?.def ?? '', /<> ''/, "the newer version's constraint is left alone");

    // A database that is ahead and also lacks one of ours is not ours to guess about.
    const first = knownMigrations()[0]!;
    await sql`DELETE FROM kysely_migration WHERE name = ${first}`.execute(db.db);
    const refused = await migrate(url);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, new RegExp(`lacks some it knows \\(${first}\\)`));
  } finally {
    await db.close();
  }
});

test('bad input: a DATABASE_URL that is not postgres://, and a bad --lock-timeout, exit 2', async () => {
  const notPg = await runCli(['db', 'migrate'], cliEnv('mysql://root:secret@localhost/db'), 30_000);
  assert.equal(notPg.code, 2, notPg.stderr);
  assert.match(notPg.stderr, /DATABASE_URL must start with postgres:\/\//);
  assert.ok(!notPg.stderr.includes('secret'));
  const badFlag = await migrate(t.url, ['--lock-timeout', 'soon']);
  assert.equal(badFlag.code, 2, badFlag.stderr);
  assert.match(badFlag.stderr, /--lock-timeout must be a duration like 30s, 15m, 4h or 2d, got "soon"/);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
