/**
 * Real Postgres for tests, cheap isolation (graphile-worker's way): migrate once into a template
 * database, then clone it per test file with CREATE DATABASE … TEMPLATE (a few ms) and drop the
 * clone at the end.
 *
 * The server: DATABASE_URL when the test runner provides one for the whole run; otherwise this
 * file starts a scratch embedded Postgres for the test file (one process per file under
 * `node --test`) and stops it when the file is done.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { createDb, type DbOptions } from '../../src/db/create-db.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { startScratchPostgres, type ScratchPostgres } from '../../src/db/scratch-postgres.ts';
import type { Database } from '../../src/db/tables.ts';

export const TEMPLATE_DATABASE = 'autocoder_template';

export type TestDb = {
  db: Kysely<Database>;
  /** URL of this test file's database, for extra pools (concurrency tests) and subprocesses. */
  url: string;
  /** Opens another pool on the same database; closed with the TestDb. */
  connect: (options?: DbOptions) => Kysely<Database>;
  close: () => Promise<void>;
};

let scratch: Promise<ScratchPostgres> | undefined;
let openDatabases = 0;

/** Stops this file's scratch server once its last test database is closed. */
async function releaseScratch(): Promise<void> {
  openDatabases -= 1;
  if (openDatabases > 0 || !scratch) return;
  const server = scratch;
  scratch = undefined;
  await (await server).stop();
}

async function serverUrl(): Promise<string> {
  const given = process.env.DATABASE_URL;
  if (given) return given;
  scratch ??= startScratchPostgres({ fast: true });
  return (await scratch).url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a fresh, migrated database cloned from the template. */
export async function createTestDb(): Promise<TestDb> {
  const server = await serverUrl();
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = createDb(server, { poolSize: 1, applicationName: 'autocoder-test-admin' });
  try {
    // One connection holds the advisory lock while the template is migrated and cloned, so test
    // files running in parallel neither migrate it twice nor clone it while it is in use.
    await admin.db.connection().execute(async (conn) => {
      await sql`SELECT pg_advisory_lock(hashtext(${TEMPLATE_DATABASE}))`.execute(conn);
      try {
        const exists = await sql`SELECT 1 FROM pg_database WHERE datname = ${TEMPLATE_DATABASE}`.execute(conn);
        if (exists.rows.length === 0) await sql`CREATE DATABASE ${sql.id(TEMPLATE_DATABASE)}`.execute(conn);
        const template = createDb(withDatabase(server, TEMPLATE_DATABASE), { poolSize: 1 });
        try {
          await migrateToLatest(template.db);
        } finally {
          await template.close();
        }
        await sql`CREATE DATABASE ${sql.id(name)} TEMPLATE ${sql.id(TEMPLATE_DATABASE)}`.execute(conn);
      } finally {
        await sql`SELECT pg_advisory_unlock(hashtext(${TEMPLATE_DATABASE}))`.execute(conn);
      }
    });
  } finally {
    await admin.close();
  }

  openDatabases += 1;
  const url = withDatabase(server, name);
  const main = createDb(url, { applicationName: 'autocoder-test' });
  const extra: Array<{ close: () => Promise<void> }> = [];
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await Promise.all(extra.map((h) => h.close()));
    await main.close();
    const dropper = createDb(server, { poolSize: 1 });
    try {
      await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(dropper.db);
    } finally {
      await dropper.close();
    }
    await releaseScratch();
  };
  return {
    db: main.db,
    url,
    connect: (options) => {
      const handle = createDb(url, options);
      extra.push(handle);
      return handle.db;
    },
    close: () => (closing ??= close()),
  };
}

/**
 * Registers before/after hooks for the enclosing test file or suite and returns a handle whose
 * fields are filled in once `before` has run:
 *   const t = withTestDb();
 *   test('...', async () => { await t.db.selectFrom('features')... });
 */
export function withTestDb(): TestDb {
  let current: TestDb | undefined;
  const missing = (): never => {
    throw new Error('withTestDb(): the database is only available inside tests (after before())');
  };
  before(async () => {
    current = await createTestDb();
  });
  after(async () => {
    await current?.close();
  });
  return {
    get db() {
      return current?.db ?? missing();
    },
    get url() {
      return current?.url ?? missing();
    },
    connect: (options) => (current ?? missing()).connect(options),
    close: async () => current?.close(),
  };
}
