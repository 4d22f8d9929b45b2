/**
 * A fresh database on a bench stack's Postgres, migrated: every scenario starts from nothing and
 * none sees another's rows. Dropped and made again under the same name on the next run.
 */
import { sql } from 'kysely';
import { createDb } from '../src/db/create-db.ts';
import { migrateToLatest } from '../src/db/migrate.ts';

export async function freshBenchDatabase(
  serverUrl: string,
  name: string,
): Promise<{ dbName: string; databaseUrl: string; database: ReturnType<typeof createDb> }> {
  const dbName = `bench_${name.replace(/[^a-z0-9]/g, '_')}_${process.pid}`;
  const admin = createDb(serverUrl, { poolSize: 1 });
  try {
    await sql`DROP DATABASE IF EXISTS ${sql.id(dbName)}`.execute(admin.db);
    await sql`CREATE DATABASE ${sql.id(dbName)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const database = createDb(databaseUrl, { poolSize: 2 });
  await migrateToLatest(database.db);
  return { dbName, databaseUrl, database };
}
