/**
 * Replay: the committed histories of representative runs (test/histories, recorded by
 * scripts/record-histories.ts: normal, operator controls, stop, continue-as-new, initializer,
 * worker crash) must replay against the workflow code as it is now. A non-deterministic change
 * fails here; if the change is intended and no old run can still be open, re-record them.
 * Needs no server: the replay worker runs in this process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { loadWorkflowBundle, workflowsPath } from '../../src/workflow-bundle.ts';
import { repoRoot } from '../support/temporal.ts';

type HistoryFile = { file: string; scenario: string; workflowId: string; workflowType: string; history: unknown };

const historiesDir = join(repoRoot, 'test', 'histories');

// Replay failures are reported by the assertions; the worker's own logs would only repeat them.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
});

function loadHistories(): HistoryFile[] {
  return readdirSync(historiesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      ...(JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as Omit<HistoryFile, 'file'>),
    }));
}

/** Replays every history; returns the failures as `file: error` lines. */
async function replayAll(code: string, histories: readonly HistoryFile[]): Promise<string[]> {
  const failures: string[] = [];
  const byWorkflowId = new Map(histories.map((h) => [h.workflowId, h]));
  const results = Worker.runReplayHistories(
    { workflowBundle: { code }, replayName: 'autocoder-replay' },
    histories.map((h) => ({
      workflowId: h.workflowId,
      history: proto.temporal.api.history.v1.History.fromObject(h.history as object),
    })),
  );
  let i = 0;
  for await (const result of results) {
    const source = histories[i++] ?? byWorkflowId.get(result.workflowId);
    if (result.error) failures.push(`${source?.file ?? result.workflowId}: ${result.error.message.split('\n')[0]}`);
  }
  assert.equal(i, histories.length, 'every history was replayed');
  return failures;
}

test('every recorded history replays against the current workflow code', async () => {
  const histories = loadHistories();
  const scenarios = new Set(histories.map((h) => h.scenario));
  for (const wanted of [
    'normal',
    'control',
    'stop',
    'continue-as-new',
    'initializer',
    'crash',
    'quota',
    'human',
    'batches',
  ]) {
    assert.ok(
      scenarios.has(wanted),
      `test/histories has the ${wanted} scenario (bin/node scripts/record-histories.ts ${wanted})`,
    );
  }
  assert.ok(
    histories.filter((h) => h.scenario === 'continue-as-new' && h.workflowType === 'projectRun').length >= 2,
    'a chain of several runs',
  );
  const { code } = await loadWorkflowBundle();
  const failures = await replayAll(code, histories);
  assert.deepEqual(
    failures,
    [],
    `non-deterministic against the recorded histories (re-record only for an intended incompatible change):\n${failures.join('\n')}`,
  );
});

test('negative control: a projectRun that does one extra thing first fails to replay', async () => {
  // A mutant of the workflow module: projectRun sleeps before doing what it did. Written inside
  // the checkout so its imports resolve to this node_modules.
  const dir = join(repoRoot, '.autocoder-test', `replay-mutant-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const mutant = join(dir, 'workflows.ts');
  writeFileSync(
    mutant,
    [
      "import { sleep } from '@temporalio/workflow';",
      `import { projectRun as original } from ${JSON.stringify(join(repoRoot, 'src/workflows/project-run.ts'))};`,
      `export { agentRun } from ${JSON.stringify(workflowsPath)};`,
      'export async function projectRun(...args: Parameters<typeof original>): ReturnType<typeof original> {',
      '  await sleep(1);',
      '  return original(...args);',
      '}',
      '',
    ].join('\n'),
  );
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath: mutant,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const histories = loadHistories()
      .filter((h) => h.workflowType === 'projectRun')
      .slice(0, 3);
    const failures = await replayAll(code, histories);
    assert.equal(
      failures.length,
      histories.length,
      `the mutant must fail every projectRun replay, failed: ${failures.join('\n')}`,
    );
    assert.match(failures[0] ?? '', /nondetermin|Nondetermin|DeterminismViolation/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
