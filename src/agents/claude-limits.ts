/**
 * Recognises a Claude Code run that ended on a rate or usage limit, from its stream-json log (and
 * the plain lines Claude prints beside it). The shapes, as Claude Code 2.x prints them (samples:
 * test/fixtures/fake-claude/limits/, each with its source):
 *
 * - `{"type":"rate_limit_event","rate_limit_info":{"status":"allowed"|"allowed_warning"|"rejected",
 *   "resetsAt":<epoch s>,"rateLimitType":"five_hour"|"seven_day",…}}` (anthropics/claude-code#38673,
 *   2.1.83; desplega-ai/agent-swarm#508 measured resetsAt in seconds; we take values over 1e12 as ms).
 *   `rejected` is a stop; `allowed_warning` is not, but the status shows it.
 * - a `result` with `is_error: true` and `subtype: "success"`, text "API Error: Rate limit reached"
 *   and exit 0 (anthropics/claude-code#79500, 2.1.49), with `api_error_status` beside
 *   `terminal_reason: "api_error"` in later versions (same issue, 2.1.233). So never `subtype` alone:
 *   an error result whose status is 429 or 529, or whose text names a rate limit.
 * - the text "Claude AI usage limit reached|<epoch s>" (anthropics/claude-code#4048, 1.0.51) and
 *   "You've hit your limit · resets 1pm (Europe/Lisbon)" with exit 1 (slopus/happy#465;
 *   "resets Apr 23 at 4pm (America/Recife)" in anthropics/claude-code#51981).
 */

export type ClaudeLimit = {
  /** When the limit resets, when the output said; null: unknown (the governor backs off). */
  resetsAt: Date | null;
  message: string;
};

export type ClaudeLimits = {
  limit: ClaudeLimit | null;
  /** The last allowed_warning seen, as a line for the status. */
  warning: string | null;
};

const RATE_LIMIT_STATUS = new Set([429, 529]);
const RATE_LIMIT_TEXT = /\brate[_\s]?limit|\busage limit reached\b|\bhit your limit\b|\btoo many requests\b/i;
const USAGE_LIMIT_EPOCH = /Claude AI usage limit reached\|(\d{9,13})/;
const HIT_YOUR_LIMIT =
  /hit your limit\s*[·•∙-]\s*resets\s+(?:([A-Z][a-z]{2,8})\s+(\d{1,2})\s+at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*\(([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)\)/i;

/** An epoch in seconds or milliseconds (values over 1e12 are ms). */
export function epochToDate(value: number): Date | null {
  if (!Number.isFinite(value) || value <= 0) return null;
  return new Date(value > 1e12 ? value : value * 1000);
}

export function findClaudeLimits(lines: readonly string[], now: Date = new Date()): ClaudeLimits {
  let limit: ClaudeLimit | null = null;
  let warning: string | null = null;
  let eventReset: Date | null = null;
  for (const line of lines) {
    const text = line.trim();
    if (text === '') continue;
    const message = parseObject(text);
    if (message?.type === 'rate_limit_event') {
      const info = (message.rate_limit_info ?? {}) as Record<string, unknown>;
      const resetsAt = typeof info.resetsAt === 'number' ? epochToDate(info.resetsAt) : null;
      const window = typeof info.rateLimitType === 'string' ? info.rateLimitType : 'unknown';
      if (info.status === 'rejected') {
        eventReset = resetsAt;
        limit = { resetsAt, message: `rate_limit_event rejected (${window})` };
      } else if (info.status === 'allowed_warning') {
        warning = `approaching the ${window} usage limit${resetsAt ? `, resets ${resetsAt.toISOString()}` : ''}`;
      }
      continue;
    }
    if (message?.type === 'result') {
      const resultText = typeof message.result === 'string' ? message.result : '';
      const status = typeof message.api_error_status === 'number' ? message.api_error_status : null;
      const textLimit = textLimitOf(resultText, now);
      if (
        message.is_error === true &&
        (RATE_LIMIT_STATUS.has(status ?? 0) || textLimit || RATE_LIMIT_TEXT.test(resultText))
      ) {
        limit = {
          resetsAt: textLimit?.resetsAt ?? eventReset,
          message: resultText.slice(0, 300) || `API error ${status}`,
        };
      }
      continue;
    }
    if (message === null) {
      // Plain lines: what Claude prints outside stream-json (and stderr, in the same log).
      const textLimit = textLimitOf(text, now);
      if (textLimit) limit = { resetsAt: textLimit.resetsAt ?? eventReset, message: text.slice(0, 300) };
    }
  }
  return { limit, warning };
}

/** The two text forms of a usage limit, with the reset they name. */
function textLimitOf(text: string, now: Date): { resetsAt: Date | null } | null {
  const epoch = USAGE_LIMIT_EPOCH.exec(text);
  if (epoch) return { resetsAt: epochToDate(Number(epoch[1])) };
  const hit = HIT_YOUR_LIMIT.exec(text);
  if (hit) {
    const [, month, day, hour, minute, meridiem, zone] = hit;
    return { resetsAt: nextWallClock(now, zone!, Number(hour), Number(minute ?? 0), meridiem, month, day) };
  }
  return null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The next instant after `now` at which the wall clock in `zone` shows hour:minute (on the given
 * month and day, if named). Null for a zone the runtime does not know.
 */
export function nextWallClock(
  now: Date,
  zone: string,
  hour: number,
  minute: number,
  meridiem?: string,
  month?: string,
  day?: string,
): Date | null {
  let h = hour % 12;
  if (meridiem?.toLowerCase() === 'pm') h += 12;
  else if (!meridiem) h = hour;
  if (h > 23 || minute > 59) return null;
  let parts: Record<string, number>;
  try {
    parts = wallParts(now, zone);
  } catch {
    return null;
  }
  const monthIndex = month ? MONTHS.indexOf(month.slice(0, 3).toLowerCase()) : -1;
  for (let offsetDays = 0; offsetDays < 370; offsetDays++) {
    const base = new Date(Date.UTC(parts.year!, parts.month! - 1, parts.day! + offsetDays, h, minute));
    if (monthIndex >= 0 && (base.getUTCMonth() !== monthIndex || base.getUTCDate() !== Number(day))) continue;
    const instant = zonedToInstant(base, zone);
    if (instant.getTime() > now.getTime()) return instant;
  }
  return null;
}

/** The wall clock of `date` in `zone`, as numbers. */
function wallParts(date: Date, zone: string): Record<string, number> {
  const parts: Record<string, number> = {};
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  for (const p of format.formatToParts(date)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return parts;
}

/** A wall-clock time (given as if UTC) in `zone`, as the instant it names. */
function zonedToInstant(wall: Date, zone: string): Date {
  let guess = wall.getTime();
  for (let i = 0; i < 2; i++) {
    const p = wallParts(new Date(guess), zone);
    const shown = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
    guess += wall.getTime() - shown;
  }
  return new Date(guess);
}

/** One stream-json line as an object; null for any other line (text, a cut line, an array). */
export function parseObject(text: string): Record<string, unknown> | null {
  if (!text.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
