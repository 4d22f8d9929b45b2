/**
 * The quota governor with real runs of the fake `claude`: a usage limit with a reset in 20 s on
 * project A pauses A and project B (same quota key) from the report to the reset, no agent starts
 * in either meanwhile, and after the reset A's feature is retried first and passes with its
 * failure_count unchanged. A rate limit with no reset time backs off 1-2 minutes (the timer's
 * length is checked; `quota resume` ends it early).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { statusQuery, type ProjectRunStatus } from '../../src/workflows/messages.ts';
import { quotaResumeSignal, quotaStatusQuery, type QuotaStatus } from '../../src/workflows/quota-governor.ts';
import { quotaGovernorId } from '../../src/workflows/run-ids.ts';
import { agentRunsOf, featureRows, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';

const fakeClaudeDir = fileURLToPath(new URL('../fixtures/fake-claude/', import.meta.url));
process.env.PATH = `${fakeClaudeDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const home = mkdtempSync(join(tmpdir(), 'ac-quota-'));
process.env.AUTOCODER_HOME = home;
process.env.FAKE_CLAUDE_LIMIT_FILE = join(home, 'limit-{project}.json');
process.env.FAKE_CLAUDE_DELAY_MS = '6000';
const limitFile = (projectId: string, limit: { form: string; resetInSeconds: number | null }) =>
  writeFileSync(join(home, `limit-${projectId}.json`), JSON.stringify(limit));

const safety = {
  policy: 'strict' as const,
  allowHosts: [],
  maxTurns: {},
  env: ['FAKE_CLAUDE_LIMIT_FILE', 'FAKE_CLAUDE_DELAY_MS'],
  additions: { commands: [], pkillProcesses: [], blocked: [] },
};

const governor = (client: Client, key: string) => client.workflow.getHandle(quotaGovernorId(key));

describe('the quota governor pauses every project on the key', () => {
  const t = withTemporal({ name: 'quota' });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('usage limit, reset in 20 s, on A: A and B wait for the reset, then A retries first and passes', async () => {
    const key = `test-${Date.now().toString(36)}`;
    const a = await t.seedProject(
      [
        { id: 1, name: 'a1' },
        { id: 2, name: 'a2' },
      ],
      { base: 'qa' },
    );
    const b = await t.seedProject(
      [
        { id: 1, name: 'b1' },
        { id: 2, name: 'b2' },
      ],
      { base: 'qb' },
    );
    limitFile(a, { form: 'event', resetInSeconds: 20 });
    const settings = { agent: 'claude' as const, concurrency: 1, testingRatio: 0, quotaKey: key, agentSafety: safety };
    const runB = await t.startRun(b, settings);
    const runA = await t.startRun(a, settings);

    const limited = await waitUntil(
      "A's rate-limited run",
      async () => (await agentRunsOf(t.db, a)).find((r) => r.outcome === 'rate_limited'),
      { timeoutMs: 60_000 },
    );
    const reportedAt = limited.ended_at!.getTime();
    const paused = await waitUntil(
      'the governor paused',
      async () => {
        const s: QuotaStatus = await governor(t.client, key).query(quotaStatusQuery);
        return s.state === 'paused' && s.projects.includes(a) && s.projects.includes(b) && s;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(paused.source, 'reset');
    const until = Date.parse(paused.until!);
    const resetIn = until - reportedAt;
    assert.ok(resetIn > 15_000 && resetIn < 22_000, `the reset from the agent's output, got ${resetIn} ms`);
    for (const run of [runA, runB]) {
      const status: ProjectRunStatus = await run.query(statusQuery);
      assert.equal(status.paused, true);
      assert.deepEqual(status.pause, { reason: 'quota', until: paused.until, key });
    }
    assert.equal(limited.error?.startsWith('rate limited'), true, limited.error ?? '');
    // A project started during the pause asks the governor first, and waits too.
    const c = await t.seedProject([{ id: 1, name: 'c1' }], { base: 'qc' });
    const runC = await t.startRun(c, settings);
    const statusC = await waitUntil(
      'C started, paused',
      async () => {
        const status: ProjectRunStatus = await runC.query(statusQuery);
        return status.pause !== null && status;
      },
      { timeoutMs: 10_000 },
    );
    assert.deepEqual(statusC.pause, { reason: 'quota', until: paused.until, key });

    // The runs go on to the end; A's feature is retried after the reset and passes.
    const [resultA, resultB, resultC] = await Promise.all([runA, runB, runC].map((run) => waitForResult(run, 120_000)));
    assert.equal(resultA!.outcome, 'complete', resultA!.message);
    assert.equal(resultB!.outcome, 'complete', resultB!.message);
    assert.equal(resultC!.outcome, 'complete', resultC!.message);
    for (const project of [a, b, c]) {
      const startedInPause = (await agentRunsOf(t.db, project)).filter(
        (r) => r.started_at.getTime() > reportedAt && r.started_at.getTime() < until,
      );
      assert.deepEqual(
        startedInPause.map((r) => r.id),
        [],
        `no agent started in ${project} between the report and the reset`,
      );
    }
    const runsA = await agentRunsOf(t.db, a, 'coding');
    const afterReset = runsA.filter((r) => r.started_at.getTime() >= until);
    assert.equal(afterReset[0]?.feature_id, limited.feature_id, 'the rate-limited feature is retried first');
    assert.equal(afterReset[0]?.outcome, 'passed');
    assert.ok(afterReset[0]!.started_at.getTime() - until < 10_000, 'dispatch resumed at the reset');
    assert.deepEqual(
      (await featureRows(t.db, a)).map((f) => f.failure_count),
      [0, 0],
      'a rate limit is no failure',
    );
    const history = await governor(t.client, key).fetchHistory();
    assert.ok(
      history.events?.some((e) => e.timerStartedEventAttributes),
      'the pause is a durable timer in the history',
    );
  });

  test('rate limit with no reset time: backoff of 1-2 minutes; quota resume ends it early', async () => {
    const key = `test-${Date.now().toString(36)}-b`;
    const a = await t.seedProject([{ id: 1, name: 'only' }], { base: 'qn' });
    limitFile(a, { form: 'result', resetInSeconds: null });
    const run = await t.startRun(a, {
      agent: 'claude',
      concurrency: 1,
      testingRatio: 0,
      quotaKey: key,
      agentSafety: safety,
    });
    const limited = await waitUntil(
      'the rate-limited run',
      async () => (await agentRunsOf(t.db, a)).find((r) => r.outcome === 'rate_limited'),
      { timeoutMs: 60_000 },
    );
    const paused = await waitUntil(
      'the governor paused',
      async () => {
        const s: QuotaStatus = await governor(t.client, key).query(quotaStatusQuery);
        return s.state === 'paused' && s.projects.includes(a) && s;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(paused.source, 'backoff');
    const waitMs = Date.parse(paused.until!) - limited.ended_at!.getTime();
    assert.ok(waitMs >= 59_000 && waitMs <= 122_000, `the first retry 1-2 min later, got ${waitMs} ms`);
    const history = await governor(t.client, key).fetchHistory();
    const timer = history.events?.find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes;
    const seconds = Number(timer?.startToFireTimeout?.seconds ?? 0);
    assert.ok(seconds >= 58 && seconds <= 120, `the durable timer runs 1-2 min, got ${seconds} s`);

    await governor(t.client, key).signal(quotaResumeSignal);
    const result = await waitForResult(run, 60_000);
    assert.equal(result.outcome, 'complete', result.message);
    const runs = await agentRunsOf(t.db, a, 'coding');
    assert.deepEqual(
      runs.map((r) => r.outcome),
      ['rate_limited', 'passed'],
    );
    assert.equal((await featureRows(t.db, a))[0]!.failure_count, 0);
  });
});
