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
  ]
    .filter((f) => f.endsWith('.ts') || f.endsWith('.json'))
    .sort();
  for (const file of files) if (existsSync(file)) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** Preloaded into each workflow thread's sandbox before the SDK freezes it; see each module. */
const sharedModules = [join(srcDir, 'workflows', 'sandbox-shared-modules.ts')];
const noStackTraces = join(srcDir, 'workflows', 'sandbox-no-stack-traces.ts');

export async function loadWorkflowBundle(
  options: { rebuild?: boolean; stackTraces?: boolean } = {},
): Promise<{ code: string; cached: boolean }> {
  const path = join(bundleDir, `workflow-bundle-${sourceHash()}${options.stackTraces ? '-stack-traces' : ''}.js`);
  if (!options.rebuild && existsSync(path)) return { code: readFileSync(path, 'utf8'), cached: true };
  const preloadModules = options.stackTraces ? sharedModules : [...sharedModules, noStackTraces];
  const bundled = await bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger, preloadModules });
  const code = options.stackTraces ? bundled.code : withoutSourceMap(bundled.code);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, code);
    renameSync(`${path}.tmp`, path);
  } catch {
    // A read-only checkout still works; it just bundles at each start.
  }
  return { code, cached: false };
}

/**
 * The bundle with an empty inline source map. Without stack traces there are no frames to map,
 * and the full map (1.8 MB of the 2.9 MB bundle) costs each worker start ~20-40 ms: the SDK
 * decodes it, re-encodes it and hands it to every workflow thread. The SDK requires a map, so an
 * empty one stays.
 */
function withoutSourceMap(code: string): string {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  if (at < 0) return code;
  const empty = Buffer.from(
    JSON.stringify({ version: 3, file: 'workflow-bundle.js', sources: [], names: [], mappings: '' }),
  ).toString('base64');
  return `${code.slice(0, at)}//# sourceMappingURL=data:application/json;base64,${empty}\n`;
}

const noop = () => undefined;
const quietBundlerLogger = {
  log: noop,
  trace: noop,
  debug: noop,
  info: noop,
  warn: (m: string) => process.stderr.write(`${m}\n`),
  error: (m: string) => process.stderr.write(`${m}\n`),
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const { cached } = await loadWorkflowBundle({ rebuild: process.argv.includes('--rebuild') });
  console.log(`workflow bundle ${cached ? 'up to date' : `built in ${Date.now() - started} ms`}`);
}
