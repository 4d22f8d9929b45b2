import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { migrations } from './migrations/index.ts';
import { syncVocabularyChecks } from './vocabulary-checks.ts';

export type MigrationReport = {
  applied: string[];
  vocabularyChecks: string[];
  /** Migrations in the database that this version does not know: a newer version migrated it. */
  newerThanCode: string[];
};

/**
 * Brings the schema to the newest migration, then the vocabulary CHECK constraints to the lists
 * of src/workflows/vocabulary.ts (vocabulary-checks.ts). The one entry point for the CLI, the
 * worker and the tests; Kysely serialises concurrent callers with its migration lock (and the
 * sync with its own), so two workers starting at once are safe. Throws the migration's own error
 * (with the migration name) when one fails.
 *
 * A database a newer version already migrated (every migration this version knows is applied,
 * and more) is left as it is, CHECK constraints included: an older worker still running during a
 * rolling deploy, or after a rollback, must start rather than fail on migrations it cannot know
 * (Kysely refuses them), and must not narrow the newer vocabularies back to its own.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const executed = await appliedMigrations(db);
  const known = knownMigrations();
  const newerThanCode = executed.filter((name) => !known.includes(name));
  if (newerThanCode.length > 0) {
    const missing = known.filter((name) => !executed.includes(name));
    if (missing.length > 0) {
      throw new Error(
        `the database has migrations this version does not know (${newerThanCode.join(', ')}) and lacks some it knows (${missing.join(', ')}); migrate it with the version that made it`,
      );
    }
    return { applied: [], vocabularyChecks: [], newerThanCode };
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error !== undefined) {
    const where = failed ? `migration ${failed.migrationName} failed` : 'migration failed';
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const { replaced } = await syncVocabularyChecks(db);
  return {
    applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName),
    vocabularyChecks: replaced,
    newerThanCode: [],
  };
}

/** Names of the migrations this checkout knows, in order. */
export function knownMigrations(): string[] {
  return Object.keys(migrations).sort();
}

/**
 * The key of the deploy lock (`autocoder db migrate`): a fixed 64-bit number, the same in every
 * version, so two deploys of any versions queue on it. (Kysely's own migration lock is a separate
 * row lock inside its transaction; this one spans the whole command, vocabulary sync included.)
 */
export const DEPLOY_LOCK_KEY = 0x6175746f636f6465n; // "autocode" in ASCII

export type DeployMigration = MigrationReport & {
  /** Milliseconds spent waiting for another deploy's migration to let go of the lock. */
  waitedMs: number;
  /** Migrations that were already applied before this one ran. */
  alreadyApplied: string[];
};

export type DeployMigrateOptions = {
  /** Called once when the lock is held by someone else, with that session's pid (if visible). */
  onWait?: (holderPid: number | null) => void;
  /** Give up waiting for the lock after this long (Postgres lock_timeout); 0 waits forever. */
  lockTimeoutMs?: number;
};

/**
 * `migrateToLatest` under a session-level advisory lock on one dedicated connection, so that
 * concurrent deploys wait for each other instead of racing: the second one finds nothing left to
 * apply. The lock ends with the session, so a deploy that dies mid-way never leaves it held.
 */
export async function migrateUnderDeployLock(
  db: Kysely<any>,
  options: DeployMigrateOptions = {},
): Promise<DeployMigration> {
  return db.connection().execute(async (conn) => {
    const started = Date.now();
    const key = DEPLOY_LOCK_KEY.toString();
    const tried = await sql<{ got: boolean }>`SELECT pg_try_advisory_lock(${key}::bigint) AS got`.execute(conn);
    if (!tried.rows[0]?.got) {
      options.onWait?.(await lockHolder(conn));
      // The pool's statement_timeout would cut a long wait short; lock_timeout is the real bound.
      await sql`SELECT set_config('statement_timeout', '0', false), set_config('lock_timeout', ${String(options.lockTimeoutMs ?? 0)}, false)`.execute(
        conn,
      );
      try {
        await sql`SELECT pg_advisory_lock(${key}::bigint)`.execute(conn);
      } finally {
        await sql`RESET statement_timeout; RESET lock_timeout`.execute(conn).catch(() => undefined);
      }
    }
    const waitedMs = tried.rows[0]?.got ? 0 : Date.now() - started;
    try {
      const before = await appliedMigrations(conn);
      const report = await migrateToLatest(conn);
      return { ...report, waitedMs, alreadyApplied: before };
    } finally {
      await sql`SELECT pg_advisory_unlock(${key}::bigint)`.execute(conn);
    }
  });
}

/** The pid of the session holding the deploy lock, when this role may see it. */
async function lockHolder(conn: Kysely<any>): Promise<number | null> {
  const high = Number(DEPLOY_LOCK_KEY >> 32n);
  const low = Number(DEPLOY_LOCK_KEY & 0xffffffffn);
  const rows = await sql<{ pid: number }>`
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND classid::bigint = ${high} AND objid::bigint = ${low} AND objsubid = 1
    LIMIT 1`.execute(conn);
  return rows.rows[0]?.pid ?? null;
}

/** Names of the migrations recorded as applied (none on an empty database). */
async function appliedMigrations(conn: Kysely<any>): Promise<string[]> {
  const table = await sql<{ t: string | null }>`SELECT to_regclass('kysely_migration')::text AS t`.execute(conn);
  if (!table.rows[0]?.t) return [];
  const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(conn);
  return rows.rows.map((r) => r.name);
}
