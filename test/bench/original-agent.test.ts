/**
 * The original's side of bench/batches.ts (bench/original.ts): its zero-work agent, run as the
 * original's orchestrator runs its agent script, marks each feature of its batch passing with the
 * original's guarded UPDATE and logs its run; and bad --original / --original-python values get a
 * message naming the value and the fix. Needs a python3 (skipped, saying so, without one).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { checkOriginal } from '../../bench/original.ts';

const python = process.env.PYTHON ?? 'python3';
const probe = spawnSync(python, ['--version'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `no ${python} here`;
const agentScript = fileURLToPath(new URL('../../bench/original/agent/autonomous_agent_demo.py', import.meta.url));

describe("the original's zero-work agent", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ac-original-agent-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'features.db');
  const logPath = join(dir, 'agents.jsonl');
  // The columns of the original's features table that its MCP tool touches.
  const db = new DatabaseSync(dbPath);
  db.exec('CREATE TABLE features (id INTEGER PRIMARY KEY, passes BOOLEAN NOT NULL, in_progress BOOLEAN NOT NULL)');
  for (const id of [1, 2, 3, 4]) db.prepare('INSERT INTO features VALUES (?, 0, ?)').run(id, id === 1 ? 0 : 1);
  db.close();
  const run = (args: string[]) =>
    spawnSync(python, ['-u', agentScript, '--project-dir', dir, '--max-iterations', '1', ...args], {
      env: { PATH: process.env.PATH ?? '', AUTOCODER_BENCH_ORIGINAL_DB: dbPath, AUTOCODER_BENCH_ORIGINAL_LOG: logPath },
      encoding: 'utf8',
    });
  const rows = () => {
    const read = new DatabaseSync(dbPath, { readOnly: true });
    const all = read.prepare('SELECT id, passes, in_progress FROM features ORDER BY id').all();
    read.close();
    return all.map((r) => [r.id, r.passes, r.in_progress]);
  };

  test('a batch agent marks its features passing and clears in_progress, in order, and logs its run', () => {
    const done = run(['--agent-type', 'coding', '--feature-ids', '3,2', '--yolo']);
    assert.equal(done.status, 0, done.stderr);
    assert.deepEqual(rows(), [
      [1, 0, 0],
      [2, 1, 0],
      [3, 1, 0],
      [4, 0, 1],
    ]);
    const line = JSON.parse(readFileSync(logPath, 'utf8').trim().split('\n').at(-1)!) as {
      ids: number[];
      started: number;
      passed: [number, number][];
    };
    assert.deepEqual(line.ids, [3, 2]);
    assert.deepEqual(
      line.passed.map(([id]) => id),
      [3, 2],
    );
    assert.ok(line.started <= line.passed[0]![1] && line.passed[0]![1] <= line.passed[1]![1]);
  });

  test('a single-feature agent (--feature-id) marks that feature only', () => {
    const done = run(['--agent-type', 'coding', '--feature-id', '4']);
    assert.equal(done.status, 0, done.stderr);
    assert.deepEqual(rows()[3], [4, 1, 0]);
    assert.deepEqual(rows()[0], [1, 0, 0]);
  });

  test('a testing agent changes nothing', () => {
    const before = rows();
    const done = run(['--agent-type', 'testing', '--testing-feature-ids', '2,3']);
    assert.equal(done.status, 0, done.stderr);
    assert.deepEqual(rows(), before);
  });
});

describe('--original and --original-python', () => {
  test('a directory without parallel_orchestrator.py is named, with the fix', () => {
    const problem = checkOriginal({ dir: tmpdir(), python });
    assert.match(problem ?? '', /^--original: .* has no parallel_orchestrator\.py; give a checkout of AutoCoder/);
  });

  test('a Python that cannot import the original’s dependencies is named, with the fix', () => {
    const fakeOriginal = mkdtempSync(join(tmpdir(), 'ac-original-'));
    try {
      writeFileSync(join(fakeOriginal, 'parallel_orchestrator.py'), '');
      const missing = checkOriginal({ dir: fakeOriginal, python: join(fakeOriginal, 'no-such-python') });
      assert.match(missing ?? '', /^--original-python: .*no-such-python cannot import .*pip install/);
    } finally {
      rmSync(fakeOriginal, { recursive: true, force: true });
    }
  });
});
