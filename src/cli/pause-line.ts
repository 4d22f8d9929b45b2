/**
 * A run's pause and spend in words, for the live view and `status`: "paused: usage limit until
 * 14:05 (in 37 min)", "paused: run budget reached ($1.20 of $1.00)".
 */
import type { Pause, ProjectRunStatus } from '../workflows/messages.ts';

const clock = (iso: string, timeZone?: string): string =>
  new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', ...(timeZone ? { timeZone } : {}) });

function inMinutes(iso: string, now: number): string {
  const minutes = Math.max(0, Math.round((Date.parse(iso) - now) / 60_000));
  return minutes >= 120 ? `in ${Math.round(minutes / 60)} h` : `in ${minutes} min`;
}

export function describePause(pause: Pause | null, now = Date.now(), timeZone?: string): string | null {
  if (!pause) return null;
  switch (pause.reason) {
    case 'quota':
      return pause.until
        ? `paused: usage limit until ${clock(pause.until, timeZone)} (${inMinutes(pause.until, now)})`
        : 'paused: usage limit (reset time not known yet)';
    case 'budget': {
      const which = pause.budget === 'installation' ? "installation's daily" : (pause.budget ?? '');
      const resumes = pause.resumesAt ? `; resumes at ${clock(pause.resumesAt, timeZone)}` : '';
      return `paused: ${which} budget reached ($${(pause.spentUsd ?? 0).toFixed(2)} of $${(pause.limitUsd ?? 0).toFixed(2)})${resumes}`;
    }
    default:
      return 'paused by operator';
  }
}

export function describeSpend(status: Pick<ProjectRunStatus, 'spend' | 'budgets'>): string {
  const { spend, budgets } = status;
  const of = (limit: number | null | undefined) => (limit == null ? '' : ` of $${limit.toFixed(2)}`);
  const t = spend.tokens;
  return `spend: $${spend.runUsd.toFixed(2)}${of(budgets?.runUsd)} this run, $${spend.todayUsd.toFixed(2)}${of(budgets?.dailyUsd)} today · tokens ${t.input} in, ${t.output} out, ${t.cacheRead} cache read, ${t.cacheCreation} cache write`;
}
