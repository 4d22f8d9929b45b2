import type { Command } from 'commander';
import { InfraError } from '../../errors.ts';
import { durationFlag, out } from '../options.ts';

/**
 * `autocoder db migrate`: the deploy step that brings the schema up to date once, before new
 * workers start. It runs under a Postgres advisory lock, so two deploys at once queue rather than
 * race; the second finds nothing left to apply.
 */
export function register(program: Command): void {
  const db = program.command('db').description('The feature store database (Postgres)');
  db.command('migrate')
    .description('Apply the schema migrations once, under an advisory lock (run it once per deploy)')
    .option(
      '--lock-timeout <duration>',
      'give up when another deploy holds the lock this long (e.g. 5m)',
      durationFlag('--lock-timeout'),
    )
    .option('--json', 'print { applied, alreadyApplied, vocabularyChecks, newerThanCode, waitedMs } as JSON', false)
    .addHelpText(
      'after',
      `
The database is DATABASE_URL (the local stack's embedded Postgres when unset). TLS goes in the URL,
as node-postgres reads it: sslmode=verify-full (or require) plus sslrootcert=/path/ca.pem for a
private CA; PGSSLMODE applies when the URL names no TLS setting. Workers also migrate at start, so
the command is how a deploy applies a new schema before any worker of the new version runs.

Examples:
  $ DATABASE_URL='postgres://autocoder:PASSWORD@db.example.com:5432/autocoder?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem' autocoder db migrate
  $ autocoder db migrate --lock-timeout 10m --json`,
    )
    .action(async (opts: { lockTimeout?: number; json: boolean }) => {
      const [{ connectForCli, describeDatabaseUrl }, { migrateUnderDeployLock }] = await Promise.all([
        import('../../db/connect-cli.ts'),
        import('../../db/migrate.ts'),
      ]);
      const where = process.env.DATABASE_URL?.trim()
        ? describeDatabaseUrl(process.env.DATABASE_URL.trim())
        : { hostPort: 'the local stack', database: 'autocoder', shown: 'the local embedded Postgres' };
      const say = opts.json ? () => undefined : out;
      say(`database: ${where.shown}`);
      const { db: conn, close } = await connectForCli({ migrate: false });
      try {
        const report = await migrateUnderDeployLock(conn, {
          lockTimeoutMs: opts.lockTimeout ?? 0,
          onWait: (pid) =>
            say(
              `waiting for the deploy lock: another migration holds it${pid === null ? '' : ` (Postgres session ${pid})`}`,
            ),
        }).catch((error: unknown) => {
          throw migrateFailed(where.hostPort, where.database, opts.lockTimeout, error);
        });
        if (opts.json) {
          out(JSON.stringify(report));
          return;
        }
        if (report.waitedMs > 0) say(`lock acquired after ${(report.waitedMs / 1000).toFixed(1)} s`);
        for (const name of report.applied) say(`applied ${name}`);
        for (const name of report.vocabularyChecks) say(`replaced CHECK constraint ${name}`);
        if (report.newerThanCode.length > 0) {
          say(
            `the database is ahead of this version: a newer one applied ${report.newerThanCode.join(', ')}; nothing applied, constraints left as they are`,
          );
          return;
        }
        const total = report.alreadyApplied.length + report.applied.length;
        say(
          report.applied.length === 0
            ? `schema up to date: ${total} migrations, none to apply`
            : `schema migrated: ${report.applied.length} applied now, ${report.alreadyApplied.length} before (${total} in all)`,
        );
      } finally {
        await close();
      }
    });
}

function migrateFailed(hostPort: string, database: string, lockTimeoutMs: number | undefined, error: unknown): Error {
  const code = (error as { code?: string }).code;
  if (code === '55P03') {
    return new InfraError(
      `another deploy held the migration lock on ${hostPort}/${database} for over --lock-timeout (${Math.round((lockTimeoutMs ?? 0) / 1000)} s)`,
      { hint: 'wait for that deploy to finish, or raise --lock-timeout', cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new InfraError(`could not migrate the database at ${hostPort}/${database}: ${message}`, {
    hint: 'check that the DATABASE_URL user may create tables in that database (run it as the owner of the schema)',
    cause: error,
  });
}
