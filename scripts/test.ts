/**
 * `npm test`: starts ONE private stack for the whole run (a Temporal dev server and an embedded
 * Postgres under .autocoder-test/, on free ports), runs every test file with node's test runner
 * against it, and stops the stack. Test files isolate themselves inside it: a database cloned
 * from a template per file (test/support/db.ts) and a task queue per file (test/support/temporal.ts).
 *
 *   bin/node scripts/test.ts              all tests
 *   bin/node scripts/test.ts --unit       only tests that need no stack (graph, lint, ...)
 *   bin/node scripts/test.ts test/db      some folders or files
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateStackConfig, stackDown, stackUp } from '../src/stack/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const targets = args.filter((a) => !a.startsWith('--'));
const UNIT = ['test/graph', 'test/git', 'test/lint', 'test/features', 'test/smoke.test.ts'];

const testRoot = join(root, '.autocoder-test');
const toolsDir = join(testRoot, 'tools');
const home = join(testRoot, `run-${process.pid}`);
mkdirSync(toolsDir, { recursive: true });

// The whole suite also type-checks, lints and checks the format: a type error, a broken fence or
// an unformatted file fails `npm test` (`npm run format` fixes the last).
const staticChecks = [
  ['typecheck', 'node_modules/typescript/bin/tsc', '-p', '.'],
  ['lint', 'node_modules/eslint/bin/eslint.js', '.'],
  ['format', 'node_modules/prettier/bin/prettier.cjs', '--check', '--log-level=warn', '.'],
] as const;
if (targets.length === 0) {
  for (const [name, script, ...scriptArgs] of staticChecks) {
    const t = Date.now();
    const result = spawnSync(process.execPath, [script, ...scriptArgs], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) {
      console.error(`${name} failed`);
      process.exit(1);
    }
    console.log(`${name}: ok (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
}

const env: NodeJS.ProcessEnv = { ...process.env, AUTOCODER_TOOLS_DIR: process.env.AUTOCODER_TOOLS_DIR ?? toolsDir };
let stackConfig: Awaited<ReturnType<typeof privateStackConfig>> | undefined;
const started = Date.now();
if (!unitOnly) {
  process.env.AUTOCODER_TOOLS_DIR = env.AUTOCODER_TOOLS_DIR;
  stackConfig = await privateStackConfig(home);
  const stack = await stackUp(stackConfig, { log: (line) => console.log(`[test stack] ${line}`) });
  Object.assign(env, {
    TEMPORAL_ADDRESS: stack.temporal.address,
    TEMPORAL_NAMESPACE: stack.temporal.namespace,
    DATABASE_URL: stack.databaseUrl,
    AUTOCODER_TEST_UI_URL: stack.temporal.uiUrl ?? '',
    AUTOCODER_TEST_HOME: home,
  });
  console.log(`[test stack] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const files = targets.length > 0 ? targets : unitOnly ? UNIT : ['test/'];
const patterns = files.map((f) => (f.endsWith('.ts') ? f : `${f.replace(/\/$/, '')}/**/*.test.ts`));
// Two cores: two test files at a time; each file is its own process.
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...patterns], {
  cwd: root,
  env,
  stdio: 'inherit',
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    child.kill(signal);
  });
}
const code: number = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));

if (stackConfig) {
  await stackDown(stackConfig, { log: (line) => console.log(`[test stack] ${line}`) });
  rmSync(home, { recursive: true, force: true });
}
process.exitCode = interrupted ? 130 : code;
