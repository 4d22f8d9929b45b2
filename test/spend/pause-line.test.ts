/** The pause and spend lines of `status` and the live view (src/cli/pause-line.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePause, describeSpend } from '../../src/cli/pause-line.ts';
import { renderFrame } from '../../src/cli/live-view.ts';
import type { ProjectRunStatus } from '../../src/workflows/messages.ts';

const now = Date.parse('2026-12-05T13:28:00Z');

test('a quota pause: "paused: usage limit until 14:05 (in 37 min)"', () => {
  const pause = { reason: 'quota' as const, until: '2026-12-05T14:05:00Z', key: 'claude-1a2b3c4d' };
  assert.equal(describePause(pause, now, 'UTC'), 'paused: usage limit until 14:05 (in 37 min)');
  assert.equal(
    describePause({ reason: 'quota', until: null, key: 'k' }, now),
    'paused: usage limit (reset time not known yet)',
  );
});

test('budget, operator and none', () => {
  assert.equal(
    describePause({ reason: 'budget', budget: 'run', spentUsd: 1.2, limitUsd: 1 }, now),
    'paused: run budget reached ($1.20 of $1.00)',
  );
  assert.equal(
    describePause(
      { reason: 'budget', budget: 'daily', spentUsd: 5, limitUsd: 5, resumesAt: '2026-12-06T00:00:00Z' },
      now,
      'UTC',
    ),
    'paused: daily budget reached ($5.00 of $5.00); resumes at 00:00',
  );
  assert.equal(describePause({ reason: 'operator' }, now), 'paused by operator');
  assert.equal(describePause(null, now), null);
});

test('the live view shows the pause and the spend', () => {
  const status = {
    project: 'todo-app',
    phase: 'running',
    outcome: null,
    paused: true,
    pause: { reason: 'quota', until: new Date(Date.now() + 37 * 60_000 + 20_000).toISOString(), key: 'k' },
    settings: { concurrency: 3, testingRatio: 1, maxAgents: 10, yolo: false, agent: 'claude', maxRetries: 3 },
    counts: { total: 4, passing: 1, running: 0, pending: 3, blocked: 0, failed: 0 },
    running: [],
    failures: [],
    blocked: [],
    held: [],
    startedAt: new Date().toISOString(),
    agentsStarted: 2,
    continuedAsNew: 0,
    spend: { runUsd: 0.8, todayUsd: 1.25, tokens: { input: 800, output: 120, cacheRead: 500, cacheCreation: 0 } },
    budgets: { runUsd: 20, featureUsd: null, dailyUsd: null, onBudget: 'finish' },
    budgetHeld: [],
    quotaKey: 'k',
    quotaWarning: null,
  } as unknown as ProjectRunStatus;
  const frame = renderFrame(status, '/nonexistent', 120);
  assert.match(frame, /running \(paused: usage limit until \d\d:\d\d \(in 37 min\)\)/);
  assert.match(
    frame,
    /spend: \$0\.80 of \$20\.00 this run, \$1\.25 today · tokens 800 in, 120 out, 500 cache read, 0 cache write/,
  );
  assert.equal(describeSpend(status).startsWith('spend: $0.80 of $20.00'), true);
});
