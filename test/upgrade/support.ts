/**
 * What the upgrade test needs: a second release (a copy of this checkout with a changed workflow),
 * and docs/upgrades.md's marked command blocks, run as an operator runs them: `autocoder worker`
 * lines as long-running processes of the chosen release, the others through sh with the Temporal
 * CLI on PATH.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { repoRoot } from '../support/temporal.ts';
import { runProcess } from '../chaos/support.ts';

/** A release: the directory holding its bin/autocoder. */
export type Release = { root: string; bin: string };
export const thisRelease: Release = { root: repoRoot, bin: join(repoRoot, 'bin') };

/** A change to one source file: `from` must occur exactly once (a test that changes nothing fails). */
export type SourceEdit = { file: string; from: string; to: string };

/**
 * Release B: this checkout's src/ and bin/ copied to a temporary directory, the edits applied,
 * node_modules and the Node toolchain linked, its workflow bundle built (in the copy's dist/).
 */
export function copyRelease(edits: readonly SourceEdit[]): Release {
  const root = mkdtempSync(join(tmpdir(), 'ac-release-b-'));
  for (const dir of ['src', 'bin']) cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(repoRoot, file), join(root, file));
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  if (existsSync(join(repoRoot, '.tools'))) symlinkSync(join(repoRoot, '.tools'), join(root, '.tools'));
  for (const edit of edits) {
    const path = join(root, edit.file);
    const text = readFileSync(path, 'utf8');
    assert.equal(text.split(edit.from).length, 2, `${edit.file} holds ${JSON.stringify(edit.from)} exactly once`);
    writeFileSync(path, text.replace(edit.from, edit.to));
  }
  // Its workflow bundle, as scripts/setup.sh prepares it at install: the worker then starts in ~1 s.
  const bundled = spawnSync(join(root, 'bin', 'node'), [join(root, 'src', 'workflow-bundle.ts')], { encoding: 'utf8' });
  assert.equal(bundled.status, 0, bundled.stderr);
  return { root, bin: join(root, 'bin') };
}

/** The lines of docs/upgrades.md's block marked `<!-- upgrade-test: name -->`. */
export function docBlock(name: string): string[] {
  const doc = readFileSync(join(repoRoot, 'docs', 'upgrades.md'), 'utf8');
  const marker = doc.indexOf(`<!-- upgrade-test: ${name} -->`);
  assert.ok(marker >= 0, `docs/upgrades.md has the block ${name}`);
  const start = doc.indexOf('```sh\n', marker) + 6;
  return doc
    .slice(start, doc.indexOf('```', start))
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export type CliWorker = {
  process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
  exited: Promise<number | null>;
};

export type BlockRun = { workers: CliWorker[]; outputs: string[] };

/**
 * Runs a doc block: `autocoder worker …` lines start that release's worker (ready once it prints
 * its polling line), every other line runs in sh and must exit 0. `vars` are the shell variables
 * the doc uses (DEPLOYMENT, OLD, NEW); `env` is the CLI's environment (stack, queue, host).
 */
export async function runDocBlock(
  name: string,
  options: {
    release: Release;
    temporalCli: string;
    env: NodeJS.ProcessEnv;
    vars: Record<string, string>;
    /** Where each started worker goes at once, so that a failing block's workers are stopped too. */
    started: CliWorker[];
  },
): Promise<BlockRun> {
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    ...options.vars,
    PATH: [options.release.bin, dirname(options.temporalCli), options.env.PATH ?? ''].join(delimiter),
  };
  const run: BlockRun = { workers: [], outputs: [] };
  for (const line of docBlock(name)) {
    if (line.startsWith('autocoder worker')) {
      run.workers.push(await startWorker(line, env, options.started));
      continue;
    }
    const result = await runProcess('sh', ['-c', line], env, 120_000);
    assert.equal(result.code, 0, `${line}\n${result.stdout}\n${result.stderr}`);
    run.outputs.push(result.stdout);
  }
  return run;
}

/** Starts a versioned worker; ready when it says its version is registered, as the doc waits for. */
async function startWorker(line: string, env: NodeJS.ProcessEnv, started: CliWorker[]): Promise<CliWorker> {
  const child = spawn('sh', ['-c', `exec ${line}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker: CliWorker = { process: child, output: () => text, exited };
  started.push(worker);
  const deadline = Date.now() + 60_000;
  while (!/^version \S+ is registered/m.test(text)) {
    if (child.exitCode !== null || Date.now() > deadline) assert.fail(`${line} did not register its version:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return worker;
}
