/** Time windows as pure functions: parsing, midnight crossing, day filters and daylight-saving changes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isTimeZone,
  nextWindow,
  parseDays,
  parseWindow,
  windowContaining,
  windowFor,
  zonedInstant,
  type WindowSpec,
} from '../../src/schedules/window.ts';

const spec = (window: string, days: number[], tz: string): WindowSpec => {
  const parsed = parseWindow(window);
  if ('error' in parsed) throw new Error(parsed.error);
  return { ...parsed, days, tz };
};
const daily = [0, 1, 2, 3, 4, 5, 6];
const iso = (w: { start: Date; end: Date } | null) => w && [w.start.toISOString(), w.end.toISOString()];

test('parsing: windows, days and zones; bad ones name the value', () => {
  assert.deepEqual(parseWindow('22:00-06:00'), { start: { hour: 22, minute: 0 }, end: { hour: 6, minute: 0 } });
  assert.deepEqual(parseWindow('9:30-17:00'), { start: { hour: 9, minute: 30 }, end: { hour: 17, minute: 0 } });
  assert.match((parseWindow('25:00-01:00') as { error: string }).error, /HH:MM-HH:MM .*got "25:00-01:00"/);
  assert.match((parseWindow('22:00') as { error: string }).error, /got "22:00"/);
  assert.match((parseWindow('22:00-22:00') as { error: string }).error, /same time/);
  assert.deepEqual(parseDays('mon-fri'), [1, 2, 3, 4, 5]);
  assert.deepEqual(parseDays('fri-mon'), [0, 1, 5, 6]);
  assert.deepEqual(parseDays('sat,sun'), [0, 6]);
  assert.deepEqual(parseDays('daily'), daily);
  assert.match((parseDays('funday') as { error: string }).error, /got "funday"/);
  assert.equal(isTimeZone('Europe/Berlin'), true);
  assert.equal(isTimeZone('Mars/Olympus'), false);
});

test('a window that crosses midnight: open after midnight too, belongs to the day it starts', () => {
  const night = spec('22:00-06:00', daily, 'UTC');
  const expected = ['2026-12-05T22:00:00.000Z', '2026-12-06T06:00:00.000Z'];
  assert.deepEqual(iso(windowContaining(night, new Date('2026-12-05T23:00:00Z'))), expected);
  assert.deepEqual(iso(windowContaining(night, new Date('2026-12-06T03:00:00Z'))), expected);
  assert.equal(windowContaining(night, new Date('2026-12-06T06:00:00Z')), null, 'the end is not in it');
  assert.equal(windowContaining(night, new Date('2026-12-05T12:00:00Z')), null);
  assert.deepEqual(iso(nextWindow(night, new Date('2026-12-05T12:00:00Z'))), expected);

  // mon-fri: Friday night runs into Saturday morning; Sunday night is not a window.
  const weekdays = spec('22:00-06:00', [1, 2, 3, 4, 5], 'UTC');
  assert.ok(windowContaining(weekdays, new Date('2026-12-05T03:00:00Z')), 'Saturday 03:00: Friday night');
  assert.equal(windowContaining(weekdays, new Date('2026-12-05T23:00:00Z')), null, 'Saturday night');
  assert.equal(windowContaining(weekdays, new Date('2026-12-07T03:00:00Z')), null, 'Monday 03:00: Sunday night');
  assert.deepEqual(iso(nextWindow(weekdays, new Date('2026-12-05T12:00:00Z'))), [
    '2026-12-07T22:00:00.000Z',
    '2026-12-08T06:00:00.000Z',
  ]);
});

test('daylight saving: a night window follows the wall clock (7 h in spring, 9 h in autumn)', () => {
  const night = spec('22:00-06:00', daily, 'Europe/Berlin');
  // 2026-03-29 02:00 CET → 03:00 CEST.
  const spring = windowContaining(night, new Date('2026-03-29T01:00:00Z'))!;
  assert.deepEqual(iso(spring), ['2026-03-28T21:00:00.000Z', '2026-03-29T04:00:00.000Z']);
  assert.equal(spring.end.getTime() - spring.start.getTime(), 7 * 3_600_000);
  // 2026-10-25 03:00 CEST → 02:00 CET.
  const autumn = windowContaining(night, new Date('2026-10-25T01:00:00Z'))!;
  assert.deepEqual(iso(autumn), ['2026-10-24T20:00:00.000Z', '2026-10-25T05:00:00.000Z']);
  assert.equal(autumn.end.getTime() - autumn.start.getTime(), 9 * 3_600_000);
  // A wall time that does not exist starts when the clocks resume; one that exists twice, at the first.
  assert.equal(
    new Date(zonedInstant({ year: 2026, month: 3, day: 29 }, { hour: 2, minute: 30 }, 'Europe/Berlin')).toISOString(),
    '2026-03-29T01:30:00.000Z',
  );
  assert.equal(
    new Date(zonedInstant({ year: 2026, month: 10, day: 25 }, { hour: 2, minute: 30 }, 'Europe/Berlin')).toISOString(),
    '2026-10-25T00:30:00.000Z',
  );
  // US zones change on other dates: New York's spring night (2026-03-08) is 7 h too.
  const ny = windowContaining(spec('22:00-06:00', daily, 'America/New_York'), new Date('2026-03-08T08:00:00Z'))!;
  assert.equal(ny.end.getTime() - ny.start.getTime(), 7 * 3_600_000);
});

test('windowFor: the open window, or one as long as the next from now (a manual trigger)', () => {
  const day = spec('09:00-17:00', daily, 'UTC');
  assert.deepEqual(windowFor(day, new Date('2026-12-05T10:00:00Z')), {
    start: new Date('2026-12-05T09:00:00Z'),
    end: new Date('2026-12-05T17:00:00Z'),
    open: true,
  });
  assert.deepEqual(windowFor(day, new Date('2026-12-05T20:00:00Z')), {
    start: new Date('2026-12-05T20:00:00Z'),
    end: new Date('2026-12-06T04:00:00Z'),
    open: false,
  });
});
