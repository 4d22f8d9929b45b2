/**
 * quotaGovernor: one per quota key (one account's usage limit), ID `autocoder/quota/<key>`. A
 * project run whose agent ended rate-limited reports it here by signal-with-start (the
 * `reportQuota` activity). The governor pauses dispatch in every project on the key until the
 * reset, on a durable timer (a pending timer in the UI, surviving worker and server restarts),
 * then resumes them by itself. Without a reset time it backs off: 1 min doubling to 30 min, with
 * jitter, as AutoCoder does per agent (rate_limit_utils.py). `autocoder quota resume KEY` ends a
 * pause early. After an hour with no report it ends; the next report starts it again.
 */
import * as wf from '@temporalio/workflow';
import type { QuotaActivities } from '../activities/types.ts';
import type { QuotaState } from './vocabulary.ts';
import { zod } from './sandbox-shared-modules.ts';

export type QuotaGovernorInput = { key: string };
export type QuotaReport = { projectId: string; resetsAt: string | null; message: string };
export type QuotaStatus = {
  key: string;
  state: QuotaState;
  /** The reset the pause waits for (ISO), null when clear. */
  until: string | null;
  /** Whether `until` came from the agents' output or from the backoff. */
  source: 'reset' | 'backoff' | null;
  /** Consecutive pauses without a reset time (the backoff's step). */
  backoffStep: number;
  reports: number;
  lastReport: (QuotaReport & { at: string }) | null;
  /** Projects the last broadcast reached. */
  projects: string[];
};

export const quotaReportSignal = wf.defineSignal<[QuotaReport]>('quotaReport');
export const quotaResumeSignal = wf.defineSignal('quotaResume');
export const quotaStatusQuery = wf.defineQuery<QuotaStatus>('quotaStatus');

export const BACKOFF_MIN_MS = 60_000;
export const BACKOFF_MAX_MS = 30 * 60_000;
/** How long a governor with nothing to do waits for another report before it ends. */
const IDLE_MS = 60 * 60_000;
/** A reset already past (clock skew) still pauses this long, so a burst of reports settles. */
const MIN_PAUSE_MS = 5_000;

/** The pause without a reset time: min(30 min, 1 min × 2^step), plus up to as much again of jitter, capped. */
export function backoffMs(step: number, random: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** step);
  return Math.min(BACKOFF_MAX_MS, Math.round(base * (1 + random)));
}

const { broadcastQuota } = wf.proxyActivities<QuotaActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

export async function quotaGovernor({ key }: QuotaGovernorInput): Promise<void> {
  const report = zod.object({ projectId: zod.string(), resetsAt: zod.string().nullable(), message: zod.string() });
  const s: QuotaStatus = {
    key,
    state: 'clear',
    until: null,
    source: null,
    backoffStep: 0,
    reports: 0,
    lastReport: null,
    projects: [],
  };
  const inbox: QuotaReport[] = [];
  let resumeRequested = false;
  wf.setHandler(quotaReportSignal, (r) => {
    const parsed = report.safeParse(r);
    if (!parsed.success) {
      wf.log.warn('quotaReport ignored: malformed', { key });
      return;
    }
    inbox.push(parsed.data);
  });
  wf.setHandler(quotaResumeSignal, () => {
    resumeRequested = true;
  });
  wf.setHandler(quotaStatusQuery, () => s);

  for (;;) {
    if (inbox.length === 0 && !(await wf.condition(() => inbox.length > 0, IDLE_MS))) return;
    resumeRequested = false;
    let untilMs = 0;
    // Every report that arrives during the pause may push the reset later, never earlier.
    const take = (): boolean => {
      let later = false;
      for (const r of inbox.splice(0)) {
        s.reports++;
        s.lastReport = { ...r, at: new Date().toISOString() };
        const reset = r.resetsAt === null ? NaN : Date.parse(r.resetsAt);
        const candidate = Number.isFinite(reset)
          ? Math.max(reset, Date.now() + MIN_PAUSE_MS)
          : s.state === 'paused'
            ? 0 // agents that were running when the pause began report the same limit: no new step
            : Date.now() + backoffMs(s.backoffStep, Math.random());
        if (candidate > untilMs) {
          untilMs = candidate;
          s.source = Number.isFinite(reset) ? 'reset' : 'backoff';
          later = true;
        }
      }
      return later;
    };
    take();
    if (s.source === 'backoff') s.backoffStep++;
    else s.backoffStep = 0;
    s.state = 'paused';
    for (;;) {
      s.until = new Date(untilMs).toISOString();
      s.projects = (await broadcastQuota({ key, until: s.until })).projects;
      // The durable timer: condition with a timeout is a server-side timer, replayed after restarts.
      let extended = false;
      await wf.condition(
        () => {
          if (resumeRequested) return true;
          if (inbox.length > 0) extended = take() || extended;
          return extended;
        },
        Math.max(1, untilMs - Date.now()),
      );
      if (!extended) break;
    }
    s.state = 'clear';
    s.until = null;
    s.projects = (await broadcastQuota({ key, until: null })).projects;
    s.source = null;
  }
}
