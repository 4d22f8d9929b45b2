import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.ts';

export type DbOptions = {
  /** Connections in the pool. Claims are short statements; a handful serves a busy worker. */
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator can tell our sessions apart. */
  applicationName?: string;
  /** A statement running longer than this is cancelled by the server. */
  statementTimeoutMs?: number;
  /** Give up connecting after this long (the CLI turns that into an InfraError). */
  connectTimeoutMs?: number;
};

export type DbHandle = { db: Kysely<Database>; pool: pg.Pool; close: () => Promise<void> };

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Parsers for this pool only (not pg's global registry): bigint and numeric come back as numbers.
 * Our bigints are counts and process start times, far below 2^53; numerics are costs in USD.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** A Kysely instance over a pg Pool. `close()` ends the pool; call it once. */
export function createDb(databaseUrl: string, options: DbOptions = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'autocoder',
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    // A transaction left open by a crashed caller must not hold feature row locks for long.
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types,
  });
  // An idle client losing its connection (server restart) must not crash the process; the next
  // query gets a fresh connection or a clear error.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed: Promise<void> | undefined;
  return { db, pool, close: () => (closed ??= db.destroy()) };
}
