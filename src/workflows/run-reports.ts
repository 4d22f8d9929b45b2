/**
 * Settling agent reports into a project run's state: the run forgets the agent, keeps its
 * handoffs, and notes what the end means for the run (a usage limit, a failure to show, work for
 * the merge queue). Pure over RunState; project-run.ts calls it at each pass and while it waits.
 */
import { noteRateLimited } from './run-spend.ts';
import type { RunState } from './run-state.ts';

export function settleReports(s: RunState): void {
  for (const report of s.inbox.reports.splice(0)) {
    s.handoffs.push(...(report.next ?? []));
    // A second report of one run (a pass settled it, then its own report came) or one of a run
    // this run never tracked: nothing left to settle.
    if (!s.running.delete(report.workflowId)) continue;
    if (report.limitWarning) s.quotaWarning = { at: new Date().toISOString(), message: report.limitWarning };
    if (report.outcome === 'rate_limited') noteRateLimited(s, report);
    if (report.kind !== 'coding' || report.featureId === null) continue;
    // A batch settles feature by feature: some may pass and others go back to pending.
    const members = report.features ?? [
      { featureId: report.featureId, passes: report.featurePasses, failureCount: report.failureCount },
    ];
    // Under worktree isolation a passing agent leaves its features merging: the queue has work.
    if (members.some((m) => m.passes) && s.input.isolation?.mode === 'worktree') s.mergeWanted = true;
    for (const member of members) {
      if (member.passes) s.failures.delete(member.featureId);
      // A stop, the usage limit and a question to a person are nobody's failure.
      else if (report.outcome !== 'stopped' && report.outcome !== 'rate_limited' && report.outcome !== 'waiting') {
        s.failures.set(member.featureId, {
          featureId: member.featureId,
          count: member.failureCount,
          lastError: report.error,
        });
      }
    }
  }
}
