/**
 * The database for CLI commands: DATABASE_URL when set, else the embedded Postgres of the local
 * stack (started on demand), checked and migrated, with errors a user can act on.
 */
import { sql } from 'kysely';
import { redactUrl } from '../config/env.ts';
import { InfraError, UserError, showValue } from '../errors.ts';
import { createDb, type DbHandle } from './create-db.ts';
import { migrateToLatest } from './migrate.ts';

export type CliConnectOptions = {
  /** Bring the schema up to date first (default true: a fresh database just works). */
  migrate?: boolean;
  env?: NodeJS.ProcessEnv;
};

export async function connectForCli(options: CliConnectOptions = {}): Promise<DbHandle> {
  const env = options.env ?? process.env;
  let databaseUrl = env.DATABASE_URL?.trim();
  if (!databaseUrl) {
    const [{ loadEnvConfig }, { ensureDatabase }] = await Promise.all([
      import('../config/env.ts'),
      import('../stack/index.ts'),
    ]);
    databaseUrl = await ensureDatabase(loadEnvConfig(env));
  }
  const where = describeDatabaseUrl(databaseUrl);
  const handle = createDb(databaseUrl, { poolSize: 4, applicationName: 'autocoder-cli', connectTimeoutMs: 5_000 });
  try {
    await sql`SELECT 1`.execute(handle.db);
  } catch (error) {
    await handle.close();
    throw unreachable(where, error);
  }
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(handle.db);
    } catch (error) {
      await handle.close();
      throw new InfraError(
        `could not migrate the database at ${where.hostPort}/${where.database}: ${messageOf(error)}`,
        {
          hint: 'check that the DATABASE_URL user may create tables in that database, or run `autocoder db migrate` as its owner',
          cause: error,
        },
      );
    }
  }
  return handle;
}

type UrlParts = { hostPort: string; database: string; shown: string };

/** host:port and database of a connection URL, with the password (and secret-looking query values) hidden. Bad URLs are UserErrors. */
export function describeDatabaseUrl(databaseUrl: string): UrlParts {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new UserError(`DATABASE_URL is not a URL: ${showValue(databaseUrl.replace(/:[^:@/]*@/, ':***@'))}`, {
      hint: 'use the form postgres://USER:PASSWORD@HOST:5432/DATABASE',
    });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UserError(
      `DATABASE_URL must start with postgres:// or postgresql://, got ${showValue(`${url.protocol}//…`)}`,
      {
        hint: 'use the form postgres://USER:PASSWORD@HOST:5432/DATABASE',
      },
    );
  }
  if (url.password) url.password = '***';
  const hostPort = `${url.hostname || 'localhost'}:${url.port || '5432'}`;
  return {
    hostPort,
    database: decodeURIComponent(url.pathname.slice(1)) || '(default)',
    shown: redactUrl(databaseUrl),
  };
}

function unreachable(where: UrlParts, error: unknown): InfraError {
  const tls = tlsProblem(error);
  if (tls) return new InfraError(`cannot reach Postgres at ${where.hostPort} (${where.shown}): ${tls.reason}`, tls);
  const code = (error as { code?: string }).code;
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused (is Postgres running there?)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host not found'
        : code === '28P01' || code === '28000'
          ? 'authentication failed'
          : code === '3D000'
            ? `database ${showValue(where.database)} does not exist`
            : messageOf(error);
  const hint =
    code === '3D000'
      ? `create it (createdb ${where.database}) or point DATABASE_URL at an existing database`
      : code === '28P01' || code === '28000'
        ? 'check the user and password in DATABASE_URL'
        : 'start Postgres (`autocoder up` starts a local one), or fix DATABASE_URL';
  return new InfraError(`cannot reach Postgres at ${where.hostPort} (${where.shown}): ${reason}`, {
    hint,
    cause: error,
  });
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * TLS failures, told apart from an unreachable server: the URL asks for TLS that the server does
 * not offer (or for none where the server requires it), the server's certificate is not trusted,
 * or a certificate file named in the URL
 * (sslrootcert, sslcert, sslkey: node-postgres reads them from the URL, not from PGSSLROOTCERT)
 * cannot be read.
 */
export function tlsProblem(error: unknown): { reason: string; hint: string; cause: unknown } | null {
  const inner = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error;
  const message = messageOf(inner);
  const code = (inner as { code?: string }).code ?? '';
  if (/does not support SSL/i.test(message)) {
    return {
      reason: 'the server does not accept TLS, but DATABASE_URL asks for it (sslmode)',
      hint: 'enable TLS on that server, or for a local server without TLS drop sslmode from DATABASE_URL (or set sslmode=disable)',
      cause: error,
    };
  }
  if (code === '28000' && /no pg_hba\.conf entry.*no encryption/i.test(message)) {
    return {
      reason: 'the server accepts TLS connections only, and DATABASE_URL asks for none',
      hint: 'add sslmode=verify-full to DATABASE_URL (with sslrootcert=/path/to/ca.pem for a private CA)',
      cause: error,
    };
  }
  if (/certificate|self.signed|unable to verify|ERR_TLS_CERT/i.test(message) || code.startsWith('ERR_TLS')) {
    return {
      reason: `the server's TLS certificate is not trusted (${message})`,
      hint: "give the server's CA in DATABASE_URL: sslrootcert=/path/to/ca.pem (sslmode=verify-full checks the host name too)",
      cause: error,
    };
  }
  if (code === 'ENOENT' || code === 'EACCES') {
    const path = (inner as { path?: string }).path;
    return {
      reason: `a certificate file named in DATABASE_URL cannot be read: ${path === undefined ? message : showValue(path)} (${code})`,
      hint: 'check the sslrootcert, sslcert and sslkey paths in DATABASE_URL',
      cause: error,
    };
  }
  return null;
}
