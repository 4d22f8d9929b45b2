/**
 * Progress of a run as plain lines (CI, pipes): what changed between two status queries.
 */
import type { ProjectRunStatus } from '../workflows/messages.ts';
import { escapeForTerminal } from '../features/terminal.ts';
import { describePause } from './pause-line.ts';

export function describeChanges(before: ProjectRunStatus | null, now: ProjectRunStatus): string[] {
  const lines: string[] = [];
  const label = (a: ProjectRunStatus['running'][number]) =>
    `${a.kind}${a.featureId === null ? '' : ` #${a.featureId}`} ${escapeForTerminal(a.featureName)}`;
  const was = new Map((before?.running ?? []).map((a) => [a.workflowId, a]));
  const is = new Map(now.running.map((a) => [a.workflowId, a]));
  if (before?.phase !== now.phase)
    lines.push(`phase: ${now.phase}${now.pause ? ` (paused: ${now.pause.reason})` : ''}`);
  const paused = describePause(now.pause);
  if (paused !== describePause(before?.pause ?? null)) lines.push(paused ?? 'resumed');
  for (const [id, agent] of was) if (!is.has(id)) lines.push(`finished ${label(agent)}`);
  for (const [id, agent] of is) if (!was.has(id)) lines.push(`started  ${label(agent)}`);
  const c = now.counts;
  if (lines.length > 0 && c.total > 0) {
    lines.push(
      `progress: ${c.passing}/${c.total} passing, ${now.running.length} agent(s) running${c.failed ? `, ${c.failed} failed` : ''}`,
    );
  }
  return lines;
}
