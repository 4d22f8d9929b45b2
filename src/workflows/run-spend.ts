/**
 * What spend and usage limits do to a run's state (issue 19): a rate-limited agent's report pauses
 * the run for its quota key and puts its feature first in line; each scheduling pass's spend
 * check sets or lifts the budget pause. Pure over RunState, apart from the timer a day's budget
 * sets to wake the loop at the next day boundary.
 */
import * as wf from '@temporalio/workflow';
import type { RunActivities } from '../activities/types.ts';
import type { AgentReport, RunningAgent } from './messages.ts';
import { quotaKeyOf, wake, type RunState } from './run-state.ts';

/**
 * An agent hit the account's usage limit: pause at once (the key's governor then pauses every
 * project on the key and resumes them at the reset), and retry its feature first.
 */
export function noteRateLimited(s: RunState, report: AgentReport): void {
  const resetsAt = report.rateLimit?.resetsAt ?? null;
  s.quotaReports.push({ resetsAt, message: report.rateLimit?.message ?? report.error ?? 'rate limited' });
  if (s.pause?.reason !== 'operator') s.pause = { reason: 'quota', until: resetsAt, key: quotaKeyOf(s.input) };
  if (report.kind === 'coding' && report.featureId !== null && !report.featurePasses)
    if (!s.retryFirst.includes(report.featureId)) s.retryFirst.push(report.featureId);
}

/** Tells the key's quotaGovernor of the rate-limited ends settled since the last pass. */
export async function reportQuota(s: RunState, activities: Pick<RunActivities, 'reportQuota'>): Promise<void> {
  const key = quotaKeyOf(s.input);
  for (const r of s.quotaReports.splice(0)) await activities.reportQuota({ key, projectId: s.input.projectId, ...r });
}

/** A run that starts during a pause of its key waits too (the governor's broadcast reached only running runs). */
export async function joinQuotaPause(s: RunState, activities: Pick<RunActivities, 'quotaState'>): Promise<void> {
  const key = quotaKeyOf(s.input);
  const quota = await activities.quotaState({ key });
  if (quota && !s.pause) s.pause = { reason: 'quota', until: quota.until, key };
}

/** What the pass found about spend: the status's spend, a budget pause or its end, held features. */
export function applyBudget(
  s: RunState,
  result: Awaited<ReturnType<RunActivities['schedule']>>,
  cancelAgent: (agent: RunningAgent) => void,
): void {
  if (result.spend) s.spend = result.spend;
  s.budgetHeld = result.overBudget ?? [];
  const claimed = new Set(result.claims.map((c) => c.featureId));
  s.retryFirst = s.retryFirst.filter((id) => !claimed.has(id));
  // An operator's or the quota's pause stays; the budget is looked at again when it ends.
  if (s.pause && s.pause.reason !== 'budget') return;
  if (result.budget) {
    const newly = s.pause?.reason !== 'budget';
    s.pause = result.budget;
    if (newly && s.input.onBudget === 'stop') for (const agent of s.running.values()) cancelAgent(agent);
    const resumesAt = result.budget.resumesAt;
    if (resumesAt && s.budgetTimerFor !== resumesAt) {
      // A day's budget frees itself at the next day boundary: a durable timer wakes the loop then.
      s.budgetTimerFor = resumesAt;
      void wf
        .sleep(Math.max(1, Date.parse(resumesAt) - Date.now()))
        .then(() => wake(s, 'settings'))
        .catch(() => undefined);
    }
  } else if (s.pause?.reason === 'budget') s.pause = null;
}
