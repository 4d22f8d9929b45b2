/**
 * An upgrade under a running run (issue 23, item 6), by docs/upgrades.md's procedure: release A
 * (this checkout) and release B (a copy whose agentRun sets a memo and whose projectRun says so in
 * its result) run as real `autocoder worker --deployment --build-id` processes on one host id.
 * - The procedure: a run starts on A; B starts, becomes current, A drains (its pinned agent runs
 *   finish on A), A gets SIGTERM. The run completes with B's result; agent runs ran on A and on B;
 *   projectRun ran tasks on both with no failed task; nothing ran twice; no failure counted.
 * - In a hurry: A gets SIGTERM while its agents run. They end host_drained and run again on B; A
 *   exits only once their runs have closed, and leaves no run pinned to it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import type { ProjectRunHandle } from '../../src/client.ts';
import { pinnedRunsQuery } from '../../src/cli/worker-version.ts';
import {
  agentRunsOf,
  featureRows,
  installPassAudit,
  passCounts,
  waitForResult,
  waitUntil,
  withTemporal,
} from '../support/temporal.ts';
import { cliEnv, report, temporalCliPath } from '../chaos/support.ts';
import { copyRelease, runDocBlock, thisRelease, type CliWorker, type Release } from './support.ts';

const UNHANDLED_COMMAND =
  proto.temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND;
const { VERSIONING_BEHAVIOR_PINNED: PINNED, VERSIONING_BEHAVIOR_AUTO_UPGRADE: AUTO_UPGRADE } =
  proto.temporal.api.enums.v1.VersioningBehavior;
const B_RESULT = ' (finished by release B)';
const suite = { timeout: 300_000 };

// Release B is built once: its agentRun marks its runs, its projectRun its result (replay-safe:
// only the end changes). These are the "changed workflow" of the new release.
let releaseB: Release | undefined;
const b = () =>
  (releaseB ??= copyRelease([
    {
      file: 'src/workflows/agent-run.ts',
      from: '  const workflowId = wf.workflowInfo().workflowId;\n',
      to: "  const workflowId = wf.workflowInfo().workflowId;\n  wf.upsertMemo({ upgradeProbe: 'B' });\n",
    },
    {
      file: 'src/workflows/project-run.ts',
      from: '      outcome,\n      message,\n      counts: s.counts,',
      to: `      outcome,\n      message: \`\${message}${B_RESULT}\`,\n      counts: s.counts,`,
    },
  ]));
after(() => {
  if (releaseB) rmSync(releaseB.root, { recursive: true, force: true });
});

/**
 * A scenario's stack (its own task queue, in the enclosing describe), its own deployment, and the
 * doc's blocks run with its variables; its workers are stopped (Ctrl-C) when the describe ends.
 */
function upgradeScenario(name: string) {
  const t = withTemporal({ name, startWorker: false });
  const home = mkdtempSync(join(tmpdir(), 'ac-upgrade-'));
  const workers: CliWorker[] = [];
  after(async () => {
    for (const w of workers) {
      if (w.process.exitCode !== null || w.process.signalCode !== null) continue;
      w.process.kill('SIGINT');
      const timer = setTimeout(() => w.process.kill('SIGKILL'), 15_000);
      await w.exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  });
  const vars = { DEPLOYMENT: `autocoder-${randomBytes(3).toString('hex')}`, OLD: 'v1', NEW: 'v2' };
  const block = async (blockName: string, release: Release, extra: Record<string, string> = {}) => {
    const ran = await runDocBlock(blockName, {
      release,
      temporalCli: temporalCliPath(t.stack.toolsDir),
      env: cliEnv(t, home, { AUTOCODER_HOST_ID: 'host-up' }),
      vars: { ...vars, ...extra },
      started: workers,
    });
    return ran;
  };
  const agentsRunning = (project: string, n: number) =>
    waitUntil(`${n} agents running`, async () => {
      const runs = (await agentRunsOf(t.db, project, 'coding')).filter((r) => r.pid && !r.outcome);
      return runs.length >= n && runs;
    });
  /** Build id, behavior and memo of each agent run of the project (workflow ID = agent_runs.id). */
  const versionsOf = async (project: string) => {
    const runs = await agentRunsOf(t.db, project, 'coding');
    return Promise.all(
      runs.map(async (r) => {
        const d = await t.client.workflow.getHandle(r.id).describe();
        const info = d.raw.workflowExecutionInfo?.versioningInfo;
        return {
          ...r,
          buildId: info?.deploymentVersion?.buildId ?? null,
          behavior: info?.behavior,
          memo: d.memo ?? {},
        };
      }),
    );
  };
  return { t, vars, block, agentsRunning, versionsOf };
}

const features = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `f${i + 1}` }));

/** Build ids of projectRun's completed workflow tasks, and its failed tasks. */
async function projectTasks(handle: ProjectRunHandle) {
  const events = (await handle.fetchHistory()).events ?? [];
  const buildIds = new Set(
    events.flatMap((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? []),
  );
  const failed = events.flatMap((e) => {
    const f = e.workflowTaskFailedEventAttributes;
    // UnhandledCommand: an event arrived while the task completed; the SDK retries, as always.
    return f && f.cause !== UNHANDLED_COMMAND ? [`${String(f.cause)}: ${f.failure?.message ?? ''}`] : [];
  });
  return { buildIds, failedTasks: failed };
}

describe('the documented upgrade procedure', suite, () => {
  const { t, vars, block, agentsRunning, versionsOf } = upgradeScenario('upgrade');

  test('B becomes current, A drains and stops, the run completes on B', async () => {
    await installPassAudit(t.db);
    const release = b(); // installed before the run starts, as a release would be
    const started = Date.now();
    const first = await block('first', thisRelease, { NEW: vars.OLD });
    const a = first.workers[0]!;
    assert.match(a.output(), new RegExp(`version ${vars.DEPLOYMENT}:v1 is registered`), a.output());
    const project = await t.seedProject(features(6), { base: 'upgrade' });
    const handle = await t.startRun(project, {
      concurrency: 2,
      maxConcurrency: 2,
      pollIntervalMs: 500,
      simulate: { default: { action: 'pass', delayMs: 4000 } },
    });
    await agentsRunning(project, 2);

    const start = await block('start', release);
    assert.match(
      start.workers[0]!.output(),
      new RegExp(`version ${vars.DEPLOYMENT}:v2 is registered but not current \\(${vars.DEPLOYMENT}:v1 is\\)`),
    );
    const queues = start.outputs.join('\n');
    for (const queue of [t.taskQueue, `${t.taskQueue}@host-up`]) assert.ok(queues.includes(queue), queues);
    await block('current', release);
    const switchedAt = Date.now();
    await block('drained', thisRelease);
    const drainMs = Date.now() - switchedAt;
    a.process.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    assert.doesNotMatch(a.output(), /still pinned/);

    const result = await waitForResult(handle, 120_000);
    assert.equal(result.outcome, 'complete', result.message);
    assert.ok(result.message.endsWith(B_RESULT), `B's projectRun ended the run: ${result.message}`);
    const tasks = await projectTasks(handle);
    assert.deepEqual([...tasks.buildIds].sort(), ['v1', 'v2'], 'projectRun ran tasks on A, then on B');
    assert.deepEqual(tasks.failedTasks, [], 'no workflow task failed (B replayed what A recorded)');

    const runs = await versionsOf(project);
    const onA = runs.filter((r) => r.buildId === 'v1');
    const onB = runs.filter((r) => r.buildId === 'v2');
    assert.ok(onA.length >= 2 && onB.length >= 1, JSON.stringify(runs.map((r) => [r.id, r.buildId])));
    assert.equal(onA.length + onB.length, runs.length, 'every agent run ran on A or B');
    assert.ok(
      runs.every((r) => r.behavior === PINNED),
      'every agent run is pinned',
    );
    const projectVersioning = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
    assert.equal(projectVersioning?.behavior, AUTO_UPGRADE, 'projectRun auto-upgrades');
    for (const r of onB) assert.equal(r.memo.upgradeProbe, 'B', `${r.id} ran B's agentRun`);
    for (const r of onA) assert.equal(r.memo.upgradeProbe, undefined, `${r.id} ran A's agentRun`);
    // Nothing ran twice and nothing failed: one agent run per feature, each passed, each pass once.
    assert.deepEqual(
      runs.map((r) => [r.feature_id, r.outcome]).sort(),
      features(6).map((f) => [f.id, 'passed']),
    );
    assert.deepEqual(
      (await passCounts(t.db, project)).map(([, n]) => n),
      [1, 1, 1, 1, 1, 1],
    );
    assert.ok((await featureRows(t.db, project)).every((f) => f.passes && f.failure_count === 0));
    report('upgrade-procedure', {
      agentRunsOnA: onA.length,
      agentRunsOnB: onB.length,
      switchToDrainedMs: drainMs,
      wallMs: Date.now() - started,
    });
  });
});

describe('an upgrade in a hurry', suite, () => {
  const { t, vars, block, agentsRunning, versionsOf } = upgradeScenario('upgrade-hurry');

  test('SIGTERM to A while its agents run: they run again on B, A leaves nothing pinned', async () => {
    const first = await block('first', thisRelease, { NEW: vars.OLD });
    const a = first.workers[0]!;
    const project = await t.seedProject(features(4), { base: 'hurry' });
    const handle = await t.startRun(project, {
      concurrency: 2,
      maxConcurrency: 2,
      pollIntervalMs: 500,
      simulate: { default: { action: 'pass', delayMs: 8000 } },
    });
    const drained = await agentsRunning(project, 2);
    await block('start', b());
    await block('current', b());
    const termAt = Date.now();
    a.process.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    const exitMs = Date.now() - termAt;
    // A waited for the agent runs it stopped: pinned to A, they could not have closed without it.
    for (const r of drained) {
      const status = (await t.client.workflow.getHandle(r.id).describe()).status.name;
      const events = (await t.client.workflow.getHandle(r.id).fetchHistory()).events ?? [];
      assert.notEqual(
        status,
        'RUNNING',
        `${r.id} closed before A exited (${exitMs} ms after SIGTERM): ${events.map((e) => e.eventType).join(' ')}\n${a.output()}`,
      );
    }
    assert.equal(
      (await t.client.workflow.count(pinnedRunsQuery({ deploymentName: vars.DEPLOYMENT, buildId: vars.OLD }))).count,
      0,
    );
    assert.doesNotMatch(a.output(), /still pinned/);

    const result = await waitForResult(handle, 120_000);
    assert.equal(result.outcome, 'complete', result.message);
    assert.ok(result.message.endsWith(B_RESULT), result.message);
    const runs = await versionsOf(project);
    for (const r of drained) {
      assert.equal(runs.find((x) => x.id === r.id)?.outcome, 'host_drained', r.id);
      assert.ok(
        runs.some((x) => x.feature_id === r.feature_id && x.buildId === 'v2' && x.outcome === 'passed'),
        `#${r.feature_id} ran again on B: ${JSON.stringify(runs.map((x) => [x.id, x.buildId, x.outcome]))}`,
      );
    }
    assert.ok(
      (await featureRows(t.db, project)).every((f) => f.passes && f.failure_count === 0),
      'no failure counted',
    );
    report('upgrade-hurry', { sigtermToExitMs: exitMs, drained: drained.length });
  });
});
