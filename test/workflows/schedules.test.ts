/**
 * Time windows on real Temporal Schedules: bad input exits 2 and creates nothing; a schedule
 * added while its window is open starts at once (the catch-up window) and `schedule trigger`
 * starts one at once; and a window about a minute long, starting within the next minute or so:
 * the run starts at its start and is drained at its end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWindowActivities } from '../../src/activities/windows.ts';
import { projectRunHandle } from '../../src/client.ts';
import { stopSignal } from '../../src/workflows/messages.ts';
import { scheduleId } from '../../src/workflows/run-ids.ts';
import type { WindowRunResult } from '../../src/workflows/window-run.ts';
import { cliEnv, runCli } from '../chaos/support.ts';
import { repoRoot, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';

const t = withTemporal();
const home = mkdtempSync(join(tmpdir(), 'ac-schedule-'));
const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
const slowPass = join(repoRoot, 'test/fixtures/agents/slow-pass');

async function windowRunsOf(project: string) {
  const runs = [];
  for await (const w of t.client.workflow.list({ query: `WorkflowId STARTS_WITH 'autocoder-window/${project}'` }))
    runs.push(w);
  return runs;
}

async function cleanUp(project: string) {
  await runCli(['schedule', 'delete', project], cliEnv(t, home));
  for (const w of await windowRunsOf(project))
    await t.client.workflow
      .getHandle(w.workflowId, w.runId)
      .terminate('test cleanup')
      .catch(() => undefined);
  await projectRunHandle(t.client, project)
    .terminate('test cleanup')
    .catch(() => undefined);
}

test('bad input: exit 2, one line naming the value and the fix, no schedule', async () => {
  const project = await t.seedProject([{ id: 1, name: 'a' }], { base: 'sched-bad' });
  const env = cliEnv(t, home);
  const cases: Array<[string[], RegExp]> = [
    [['--window', '25:00-01:00'], /--window must be HH:MM-HH:MM .*got "25:00-01:00"/],
    [['--window', '22:00-06:00', '--tz', 'Mars/Olympus'], /--tz must be an IANA time zone, got "Mars\/Olympus"/],
    [['--window', '22:00-06:00', '--days', 'funday'], /--days must be day names .*got "funday"/],
    [['--window', '22:00-06:00', '--notify-url', 'ftp://x'], /--notify-url must be an http\(s\) URL/],
    [['--window', '22:00-06:00', '--remind-after', '5x'], /--remind-after must be a duration like 30s/],
    [['--window', '22:00-06:00', '--batch-size', '4'], /--batch-size must be an integer in 1\.\.3, got "4"/],
  ];
  for (const [flags, expected] of cases) {
    const r = await runCli(['schedule', 'add', project, ...flags], env);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.ok(r.stderr.trim().split('\n').length <= 2, 'a line and its hint');
  }
  const unknown = await runCli(['schedule', 'add', 'no-such-project', '--window', '22:00-06:00'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown project "no-such-project"/);
  const none = await runCli(['schedule', 'trigger', project], env);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /project .* has no schedule/);
  await assert.rejects(t.client.schedule.getHandle(scheduleId(project)).describe(), /not found/i);
});

test('catch-up: added while its window is open, it starts at once; trigger starts one at once', async () => {
  const open = await t.seedProject([{ id: 1, name: 'a' }], { base: 'sched-open' });
  const later = await t.seedProject([{ id: 1, name: 'a' }], { base: 'sched-trigger' });
  const env = cliEnv(t, home);
  try {
    const now = Date.now();
    const window = `${hhmm(new Date(now - 60_000))}-${hhmm(new Date(now + 3_600_000))}`;
    const added = await runCli(
      ['schedule', 'add', open, '--window', window, '--tz', 'UTC', '--agent', 'command', '--agent-cmd', slowPass],
      env,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /the window is open now: started it/);
    await waitUntil('the run started by the open window', async () => {
      const d = await projectRunHandle(t.client, open).describe();
      return d.status.name === 'RUNNING';
    });

    const far = `${hhmm(new Date(now + 6 * 3_600_000))}-${hhmm(new Date(now + 7 * 3_600_000))}`;
    const r = await runCli(
      ['schedule', 'add', later, '--window', far, '--tz', 'UTC', '--agent', 'command', '--agent-cmd', slowPass],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /next window: /);
    const triggered = await runCli(['schedule', 'trigger', later], env);
    assert.equal(triggered.code, 0, triggered.stderr);
    await waitUntil('the run started by trigger', async () => {
      const d = await projectRunHandle(t.client, later).describe();
      return d.status.name === 'RUNNING';
    });

    const listed = await runCli(['schedule', 'list', '--json'], env);
    const mine = (JSON.parse(listed.stdout) as Array<Record<string, unknown>>).find((s) => s.project === later);
    assert.deepEqual([mine?.window, mine?.days, mine?.tz, mine?.paused], [far, 'daily', 'UTC', false]);
    const described = await t.client.schedule.getHandle(scheduleId(later)).describe();
    assert.deepEqual(described.memo, { project: later, window: far, days: 'daily', tz: 'UTC' });
    assert.equal(described.policies.overlap, 'SKIP');
    assert.equal(described.policies.catchupWindow, 3_600_000, "the catch-up window is the window's length");
    for (const [cmd, paused] of [
      ['pause', true],
      ['unpause', false],
    ] as const) {
      assert.equal((await runCli(['schedule', cmd, later], env)).code, 0);
      assert.equal((await t.client.schedule.getHandle(scheduleId(later)).describe()).state.paused, paused);
    }
  } finally {
    await cleanUp(open);
    await cleanUp(later);
  }
});

test('a real window of about a minute: the run starts at its start and drains at its end', async () => {
  const project = await t.seedProject(
    [1, 2, 3, 4].map((id) => ({ id, name: `step ${id}`, dependencies: id > 1 ? [id - 1] : [] })),
    { base: 'sched-window' },
  );
  const env = cliEnv(t, home);
  try {
    // The next minute at least 15 s away: the schedule's calendar has minutes, so does the window.
    const start = new Date(Math.ceil((Date.now() + 15_000) / 60_000) * 60_000);
    const end = new Date(start.getTime() + 60_000);
    const added = await runCli(
      [
        'schedule',
        'add',
        project,
        '--window',
        `${hhmm(start)}-${hhmm(end)}`,
        '--tz',
        'UTC',
        '--concurrency',
        '1',
      ].concat(['--agent', 'command', '--agent-cmd', slowPass]),
      env,
    );
    assert.equal(added.code, 0, added.stderr);
    const show = await runCli(['schedule', 'show', project], env);
    assert.match(show.stdout, new RegExp(`next starts: ${start.toISOString().replace(/[.]/g, '\\.')}`));

    const handle = projectRunHandle(t.client, project);
    await waitUntil('the window starts the run', async () => (await handle.describe()).status.name === 'RUNNING', {
      timeoutMs: end.getTime() - Date.now(),
      intervalMs: 500,
    });
    assert.ok(Date.now() >= start.getTime() - 1000, 'not before the window');
    const result = await waitForResult(handle, 120_000);
    assert.equal(result.outcome, 'drained', result.message);
    assert.ok(
      result.counts.passing >= 1 && result.counts.passing < 4,
      `drained mid-way: ${result.counts.passing} pass`,
    );
    const [windowRun] = await windowRunsOf(project);
    const ended = (await t.client.workflow.getHandle(windowRun!.workflowId).result()) as WindowRunResult;
    assert.deepEqual(
      [ended.windowStart, ended.windowEnd, ended.inWindow, ended.joined, ended.atEnd],
      [start.toISOString(), end.toISOString(), true, false, 'drained'],
    );
  } finally {
    await cleanUp(project);
  }
});

test("a manual run or stop inside a window holds: the window's end drains only the run it joined", async () => {
  const project = await t.seedProject([{ id: 1, name: 'long' }], { base: 'sched-hold' });
  const drain = createWindowActivities({ db: t.db, temporal: t.client }).drainWindowRun;
  const simulate = { default: { action: 'pass', delayMs: 60_000 } };
  const joined = await t.startRun(project, { simulate });
  // Stopped by hand inside the window, then started again by hand: another chain.
  await joined.signal(stopSignal);
  await waitForResult(joined, 30_000);
  assert.equal(await drain({ projectId: project, firstRunId: joined.firstExecutionRunId }), 'ended');
  const manual = await t.startRun(project, { simulate });
  assert.equal(await drain({ projectId: project, firstRunId: joined.firstExecutionRunId }), 'not-ours');
  assert.equal((await manual.describe()).status.name, 'RUNNING', 'the manual run goes on');
  assert.equal(await drain({ projectId: project, firstRunId: manual.firstExecutionRunId }), 'drained');
  await manual.signal(stopSignal);
  await waitForResult(manual, 30_000);
});
