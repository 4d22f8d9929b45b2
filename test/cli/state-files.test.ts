/**
 * The state dir's size for `status` (a bounded walk, cached) and the per-run files `gc` may remove,
 * on real files in a temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  forgetStateSize,
  formatBytes,
  oldRunFiles,
  stateDirSize,
  stateSizeCachePath,
} from '../../src/cli/state-files.ts';

function tree(files: Record<string, number>): string {
  const home = mkdtempSync(join(tmpdir(), 'ac-state-'));
  for (const [relative, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(home, relative)), { recursive: true });
    writeFileSync(join(home, relative), Buffer.alloc(bytes));
  }
  return home;
}

test('stateDirSize sums every file once, follows no symlink, and caches the figure', () => {
  const home = tree({ 'logs/a.log': 1000, 'logs/b.log': 24, 'postgres/data/base/1': 4096 });
  const outside = tree({ 'big.bin': 1_000_000 });
  try {
    symlinkSync(outside, join(home, 'link-to-outside'));
    const first = stateDirSize(home, { now: new Date('2026-12-01T00:00:00Z') });
    assert.deepEqual(
      { bytes: first.bytes, files: first.files, complete: first.complete, cached: first.cached },
      { bytes: 5120, files: 3, complete: true, cached: false },
    );
    writeFileSync(join(home, 'logs/c.log'), Buffer.alloc(10));
    const soon = stateDirSize(home, { now: new Date('2026-12-01T00:05:00Z') });
    assert.equal(soon.cached, true);
    assert.equal(soon.bytes, 5120, 'within the cache period the cached figure is served');
    const later = stateDirSize(home, { now: new Date('2026-12-01T00:11:00Z') });
    assert.equal(later.cached, false);
    // the cache file itself now counts too
    assert.ok(later.bytes > 5130 && later.files === 5, JSON.stringify(later));
    forgetStateSize(home);
    assert.equal(existsSync(stateSizeCachePath(home)), false);
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('a walk past its limit says the figure is a lower bound', () => {
  const home = tree(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`logs/f${i}.log`, 10])));
  try {
    const size = stateDirSize(home, { limit: 5, maxAgeMs: 0 });
    assert.equal(size.complete, false);
    assert.ok(size.bytes < 200);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('oldRunFiles: only files named after agent runs, older than the cutoff, of runs not live', () => {
  const run = (feature: number) => `autocoder__todo__coding__${feature}__1`;
  const home = tree({
    [`logs/${run(1)}.log`]: 100,
    [`logs/${run(1)}.log.status.json`]: 10,
    [`mcp/${run(1)}.json`]: 20,
    [`guard/${run(1)}.json`]: 30,
    [`settings/${run(1)}.json`]: 40,
    [`logs/${run(2)}.log`]: 100,
    [`logs/${run(3)}.log`]: 100,
    'logs/temporal.log': 100,
    'mcp/settings.json': 100,
  });
  const old = new Date('2026-01-01T00:00:00Z');
  for (const name of [
    `logs/${run(1)}.log`,
    `logs/${run(1)}.log.status.json`,
    `mcp/${run(1)}.json`,
    `guard/${run(1)}.json`,
    `settings/${run(1)}.json`,
    `logs/${run(2)}.log`,
    'logs/temporal.log',
    'mcp/settings.json',
  ])
    utimesSync(join(home, name), old, old);
  try {
    const found = oldRunFiles(home, new Date('2026-06-01T00:00:00Z'), new Set(['autocoder/todo/coding/2/1']));
    assert.deepEqual(
      found.map((f) => [f.path.slice(home.length + 1), f.runId, f.bytes]),
      [
        [`logs/${run(1)}.log`, 'autocoder/todo/coding/1/1', 100],
        [`logs/${run(1)}.log.status.json`, 'autocoder/todo/coding/1/1', 10],
        [`mcp/${run(1)}.json`, 'autocoder/todo/coding/1/1', 20],
        [`guard/${run(1)}.json`, 'autocoder/todo/coding/1/1', 30],
        [`settings/${run(1)}.json`, 'autocoder/todo/coding/1/1', 40],
      ],
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('formatBytes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GB');
});
