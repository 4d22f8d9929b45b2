/**
 * Time windows (`schedule add --window 22:00-06:00 --days mon-fri --tz Europe/Berlin`), as pure
 * functions of a wall-clock spec and an instant. A window belongs to the day it starts on (the
 * `days` filter applies there) and ends at the end time's next occurrence, so 22:00-06:00 on a
 * Friday ends on Saturday at 06:00. Wall times are turned into instants in the window's zone:
 * across a change of daylight-saving time a night window is an hour shorter or longer, as the
 * clock on the wall says; a start in the hour that does not exist (spring forward) begins when the
 * clocks resume (02:30 → 03:30), and one that exists twice (fall back) begins at the first.
 */

export type WallTime = { hour: number; minute: number };
export type WindowSpec = { start: WallTime; end: WallTime; days: number[]; tz: string };
export type Interval = { start: Date; end: Date };

export const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6];

/** `HH:MM-HH:MM` → its two wall times; an error line otherwise. */
export function parseWindow(text: string): { start: WallTime; end: WallTime } | { error: string } {
  const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(text.trim());
  const bad = { error: `--window must be HH:MM-HH:MM with hours 0-23 and minutes 0-59, got ${JSON.stringify(text)}` };
  if (!m) return bad;
  const [sh, sm, eh, em] = m.slice(1).map(Number) as [number, number, number, number];
  if (sh > 23 || eh > 23 || sm > 59 || em > 59) return bad;
  if (sh === eh && sm === em)
    return {
      error: `--window starts and ends at the same time (${text}): give a window with a length, e.g. 22:00-06:00`,
    };
  return { start: { hour: sh, minute: sm }, end: { hour: eh, minute: em } };
}

/** `mon-fri`, `sat,sun`, `mon,wed-fri`, `daily` → days of the week (0 = Sunday); an error line otherwise. */
export function parseDays(text: string): number[] | { error: string } {
  const spec = text.trim().toLowerCase();
  if (spec === 'daily' || spec === 'all') return [...ALL_DAYS];
  const days = new Set<number>();
  const index = (name: string) => DAY_NAMES.indexOf(name as (typeof DAY_NAMES)[number]);
  for (const part of spec.split(',')) {
    const [from, to] = part.split('-') as [string, string | undefined];
    const a = index(from);
    const b = to === undefined ? a : index(to);
    if (a < 0 || b < 0 || part.split('-').length > 2)
      return { error: `--days must be day names like mon-fri or sat,sun (or daily), got ${JSON.stringify(text)}` };
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}

export const formatWindow = (w: Pick<WindowSpec, 'start' | 'end'>): string =>
  `${pad(w.start.hour)}:${pad(w.start.minute)}-${pad(w.end.hour)}:${pad(w.end.minute)}`;

export const formatDays = (days: readonly number[]): string =>
  days.length === 7 ? 'daily' : days.map((d) => DAY_NAMES[d]).join(',');

const pad = (n: number) => String(n).padStart(2, '0');

type LocalParts = { year: number; month: number; day: number; hour: number; minute: number; weekday: number };

const formatters = new Map<string, Intl.DateTimeFormat>();
function localParts(instant: number, tz: string): LocalParts {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: DAY_NAMES.indexOf((parts.weekday ?? '').toLowerCase().slice(0, 3) as (typeof DAY_NAMES)[number]),
  };
}

/** The zone's offset from UTC at an instant, in ms (whole minutes). */
function offsetAt(instant: number, tz: string): number {
  const p = localParts(instant, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  return asUtc - Math.floor(instant / 60_000) * 60_000;
}

/** The instant a wall time on a local date happens in `tz` (see the module comment for DST). */
export function zonedInstant(date: { year: number; month: number; day: number }, time: WallTime, tz: string): number {
  const guess = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute);
  const candidates = [offsetAt(guess - 12 * 3_600_000, tz), offsetAt(guess + 12 * 3_600_000, tz)].map((o) => guess - o);
  const valid = candidates.filter((c) => {
    const p = localParts(c, tz);
    return p.hour === time.hour && p.minute === time.minute && p.day === date.day;
  });
  // In the gap no candidate shows that wall time: the one with the offset before the change lands after it.
  return valid.length > 0 ? Math.min(...valid) : candidates[0]!;
}

function addDays(date: { year: number; month: number; day: number }, n: number) {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + n));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}

const crossesMidnight = (w: Pick<WindowSpec, 'start' | 'end'>) =>
  w.end.hour * 60 + w.end.minute <= w.start.hour * 60 + w.start.minute;

/** The window that starts on this local date (whatever its day filter says). */
function windowOn(spec: WindowSpec, date: { year: number; month: number; day: number }): Interval {
  const start = zonedInstant(date, spec.start, spec.tz);
  const end = zonedInstant(addDays(date, crossesMidnight(spec) ? 1 : 0), spec.end, spec.tz);
  return { start: new Date(start), end: new Date(end) };
}

/** The window `now` is in (one that began yesterday and crosses midnight included), or null. */
export function windowContaining(spec: WindowSpec, now: Date): Interval | null {
  const today = localParts(now.getTime(), spec.tz);
  for (const back of [0, 1]) {
    const date = addDays(today, -back);
    if (!spec.days.includes(date.weekday)) continue;
    const w = windowOn(spec, date);
    if (w.start.getTime() <= now.getTime() && now.getTime() < w.end.getTime()) return w;
  }
  return null;
}

/** The next window to start after `now`. */
export function nextWindow(spec: WindowSpec, now: Date): Interval {
  const today = localParts(now.getTime(), spec.tz);
  for (let ahead = 0; ahead <= 8; ahead++) {
    const date = addDays(today, ahead);
    if (!spec.days.includes(date.weekday)) continue;
    const w = windowOn(spec, date);
    if (w.start.getTime() > now.getTime()) return w;
  }
  throw new RangeError('a window spec with no days has no next window');
}

/**
 * The window a windowRun started at `now` serves: the one open now, or, for a run started by hand
 * (`schedule trigger`) outside every window, one as long as the next window, from now.
 */
export function windowFor(spec: WindowSpec, now: Date): Interval & { open: boolean } {
  const open = windowContaining(spec, now);
  if (open) return { ...open, open: true };
  const next = nextWindow(spec, now);
  return { start: now, end: new Date(now.getTime() + next.end.getTime() - next.start.getTime()), open: false };
}
