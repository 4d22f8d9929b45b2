/**
 * The rate- and usage-limit shapes Claude Code 2.x prints (test/fixtures/fake-claude/limits/, each
 * with its source), read by src/agents/claude-limits.ts; and the governor's backoff.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { epochToDate, findClaudeLimits, nextWallClock } from '../../src/agents/claude-limits.ts';
import { backoffMs, BACKOFF_MAX_MS } from '../../src/workflows/quota-governor.ts';

const sample = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/fake-claude/limits/${name}`, import.meta.url)), 'utf8').split('\n');
const NOW = new Date('2026-12-05T10:00:00Z');

describe('claude limits from the stream-json log', () => {
  test('rate_limit_event rejected: a limit, reset from resetsAt in epoch seconds', () => {
    const { limit } = findClaudeLimits(sample('event-rejected.jsonl'), NOW);
    assert.equal(limit?.resetsAt?.toISOString(), new Date(1774447200 * 1000).toISOString());
  });

  test('rate_limit_event allowed: no limit, no warning; allowed_warning: a warning only', () => {
    assert.deepEqual(findClaudeLimits(sample('event-allowed.jsonl'), NOW), { limit: null, warning: null });
    const warned = findClaudeLimits(sample('event-warning.jsonl'), NOW);
    assert.equal(warned.limit, null);
    assert.match(warned.warning ?? '', /seven_day usage limit/);
  });

  test('a result with subtype success but is_error and "API Error: Rate limit reached" is a limit with no reset', () => {
    const { limit } = findClaudeLimits(sample('result-rate-limit.jsonl'), NOW);
    assert.ok(limit);
    assert.equal(limit.resetsAt, null);
    assert.match(limit.message, /Rate limit reached/);
  });

  test('an ordinary error result, or a success mentioning rate limits, is not a limit', () => {
    const ordinary = JSON.stringify({
      type: 'result',
      subtype: 'error_during_execution',
      is_error: true,
      result: 'boom',
    });
    const talk = JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: 'added a rate limit to /api',
    });
    assert.equal(findClaudeLimits([ordinary, talk], NOW).limit, null);
  });

  test('api_error_status 529 on an error result is a limit whatever the text', () => {
    const line = JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: true,
      api_error_status: 529,
      result: 'Overloaded',
    });
    assert.ok(findClaudeLimits([line], NOW).limit);
  });

  test('"Claude AI usage limit reached|<epoch>" gives the reset; values over 1e12 are ms', () => {
    const { limit } = findClaudeLimits(sample('usage-limit-epoch.txt'), NOW);
    assert.equal(limit?.resetsAt?.toISOString(), new Date(1753077600 * 1000).toISOString());
    assert.equal(epochToDate(1753077600123)?.getTime(), 1753077600123);
  });

  test('"You\'ve hit your limit · resets 1pm (Europe/Lisbon)" is the next 13:00 in Lisbon', () => {
    const { limit } = findClaudeLimits(sample('hit-your-limit.txt'), NOW);
    // 5 December: Lisbon is on UTC (WET), so 13:00 there is 13:00Z, later the same day.
    assert.equal(limit?.resetsAt?.toISOString(), '2026-12-05T13:00:00.000Z');
    const summer = nextWallClock(new Date('2026-07-01T14:00:00Z'), 'Europe/Lisbon', 1, 0, 'pm');
    assert.equal(summer?.toISOString(), '2026-07-02T12:00:00.000Z', 'past 13:00 WEST: the next day');
    const dated = findClaudeLimits(["You've hit your limit · resets Apr 23 at 4pm (America/Recife)"], NOW).limit;
    assert.equal(dated?.resetsAt?.toISOString(), '2027-04-23T19:00:00.000Z');
  });
});

describe('quota governor backoff', () => {
  test('1 min doubling to 30 min, jitter up to as much again, capped', () => {
    assert.equal(backoffMs(0, 0), 60_000);
    assert.equal(backoffMs(0, 0.999), 119_940);
    assert.equal(backoffMs(1, 0.5), 180_000);
    assert.equal(backoffMs(10, 0.9), BACKOFF_MAX_MS);
    for (let i = 0; i < 100; i++) {
      const first = backoffMs(0, Math.random());
      assert.ok(first >= 60_000 && first < 120_000, `first retry in 1..2 min, got ${first}`);
    }
  });
});
