import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/graph is imported by Temporal workflow code: it must stay deterministic and free of Node.
const graphDir = fileURLToPath(new URL('../../src/graph/', import.meta.url));
const forbidden: [RegExp, string][] = [
  [/\bDate\b/, 'the clock (Date)'],
  [/\bMath\.random\b/, 'randomness (Math.random)'],
  [/\bperformance\b/, 'the clock (performance)'],
  [/\bprocess\b/, 'process state'],
  [/\b(setTimeout|setInterval|setImmediate)\b/, 'timers'],
  [/\brequire\s*\(/, 'require()'],
  [/\bimport\s*\(/, 'dynamic import()'],
];

test('src/graph imports only its own files and uses no clock, randomness, timers or process state', () => {
  const files = readdirSync(graphDir).filter((name) => name.endsWith('.ts'));
  assert.ok(files.length > 3);
  for (const name of files) {
    const source = readFileSync(graphDir + name, 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    for (const match of code.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g)) {
      assert.match(match[1] as string, /^\.\/[\w-]+\.ts$/, `${name} imports ${match[1]}`);
    }
    for (const [pattern, what] of forbidden) assert.doesNotMatch(code, pattern, `${name} uses ${what}`);
  }
});
