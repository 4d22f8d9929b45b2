/**
 * The workflow bundle, prepared once instead of at every worker start: webpack + swc take about
 * 1.7 s, so `scripts/setup.sh` (and the first worker) write it to dist/, keyed by a hash of the
 * workflow sources, and later workers load it directly.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const srcDir = fileURLToPath(new URL('.', import.meta.url));
export const workflowsPath = join(srcDir, 'workflows', 'index.ts');
const bundleDir = join(srcDir, '..', 'dist');

/** Every source the bundle is made of that can change with a checkout: our workflow-side files. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(join(srcDir, 'workflows')).map((f) => join(srcDir, 'workflows', f)),
    join(srcDir, 'activities', 'types.ts'),
    join(srcDir, 'workflow-bundle.ts'),
    join(srcDir, '..', 'package-lock.json'),
  ].filter((f) => f.endsWith('.ts') || f.endsWith('.json')).sort();
  for (const file of files) if (existsSync(file)) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** Preloaded into each workflow thread's sandbox before the SDK freezes it; see each module. */
const sharedModules = [join(srcDir, 'workflows', 'sandbox-shared-modules.ts')];
const noStackTraces = join(srcDir, 'workflows', 'sandbox-no-stack-traces.ts');

export async function loadWorkflowBundle(options: { rebuild?: boolean; stackTraces?: boolean } = {}): Promise<{ code: string; cached: boolean }> {
  const path = join(bundleDir, `workflow-bundle-${sourceHash()}${options.stackTraces ? '-stack-traces' : ''}.js`);
  if (!options.rebuild && existsSync(path)) return { code: readFileSync(path, 'utf8'), cached: true };
  const preloadModules = options.stackTraces ? sharedModules : [...sharedModules, noStackTraces];
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger, preloadModules });
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, code);
    renameSync(`${path}.tmp`, path);
  } catch {
    // A read-only checkout still works; it just bundles at each start.
  }
  return { code, cached: false };
}

const noop = () => undefined;
const quietBundlerLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: (m: string) => process.stderr.write(`${m}\n`), error: (m: string) => process.stderr.write(`${m}\n`) };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const { cached } = await loadWorkflowBundle({ rebuild: process.argv.includes('--rebuild') });
  console.log(`workflow bundle ${cached ? 'up to date' : `built in ${Date.now() - started} ms`}`);
}
