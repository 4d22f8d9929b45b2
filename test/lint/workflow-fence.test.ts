import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function lintWorkflowSource(source: string) {
  // The probe is not a file on disk, so the type-aware rules (which need the TS project) are off;
  // the fence itself is the repository's real eslint.config.js.
  const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });
  // Lint the text as if it were a workflow file, so the fence's `files` glob applies.
  const [result] = await eslint.lintText(source, { filePath: `${root}src/workflows/__fence_probe__.ts` });
  assert.ok(result);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'the probe must parse');
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('the lint fence rejects a workflow that imports node:fs', async () => {
  const messages = await lintWorkflowSource(
    "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
  );
  assert.ok(
    messages.some((m) => m.startsWith('no-restricted-imports') && m.includes('deterministic')),
    messages.join('\n'),
  );
});

test('the lint fence rejects every Node.js builtin, bare, node:-prefixed or a subpath', async () => {
  for (const spec of ['util', 'events', 'node:util', 'node:events', 'fs/promises', 'node:fs/promises', 'node:test']) {
    const messages = await lintWorkflowSource(`import * as m from '${spec}';\nexport const x = m;\n`);
    assert.ok(
      messages.some((m) => m.startsWith('no-restricted-imports') && m.includes('no Node.js builtins')),
      `${spec} passed the fence: ${messages.join('\n')}`,
    );
  }
});

test('the lint fence allows a type-only import of a builtin', async () => {
  for (const source of [
    "import type { EventEmitter } from 'events';\nexport type E = EventEmitter;\n",
    "import type { inspect } from 'node:util';\nexport type I = typeof inspect;\n",
    "import { type Stats } from 'fs';\nexport type S = Stats;\n",
  ]) {
    const messages = await lintWorkflowSource(source);
    assert.deepEqual(
      messages.filter((m) => m.startsWith('no-restricted')),
      [],
      source,
    );
  }
});

test('the lint fence rejects pg, execa and our activity implementations in workflows', async () => {
  for (const spec of [
    'pg',
    'execa',
    'kysely',
    'tree-kill',
    '../activities/index.ts',
    '../supervisor/index.ts',
    '../db/claims.ts',
    '../stack/index.ts',
  ]) {
    const messages = await lintWorkflowSource(`import * as m from '${spec}';\nexport const x = m;\n`);
    assert.ok(
      messages.some((m) => m.startsWith('no-restricted-imports')),
      `${spec} passed the fence: ${messages.join('\n')}`,
    );
  }
});

test('the lint fence allows type-only imports and the workflow SDK', async () => {
  const messages = await lintWorkflowSource(
    "import type { Pool } from 'pg';\nimport { sleep } from '@temporalio/workflow';\nexport async function wf(p?: Pool): Promise<void> { void p; await sleep(1); }\n",
  );
  assert.deepEqual(
    messages.filter((m) => m.startsWith('no-restricted')),
    [],
  );
});
