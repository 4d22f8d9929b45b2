/**
 * Progress of a run while it goes: polls the status query (queries add nothing to history) and
 * prints what changed as plain timestamped lines: agents started and finished, the count passing.
 */
import type { ProjectRunStatus } from '../workflows/messages.ts';
import { escapeForTerminal } from '../features/terminal.ts';

const POLL_MS = 400;

export function watchProgress(read: () => Promise<ProjectRunStatus>, out: (line: string) => void): () => void {
  let stopped = false;
  let previous: ProjectRunStatus | null = null;
  const stamp = () => new Date().toISOString().slice(11, 19);
  const tick = async () => {
    while (!stopped) {
      try {
        const status = await read();
        for (const line of describeChanges(previous, status)) out(`${stamp()} ${line}`);
        previous = status;
      } catch {
        // The run may be between continue-as-new runs or just ended; the next poll will tell.
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  void tick();
  return () => { stopped = true; };
}

export function describeChanges(before: ProjectRunStatus | null, now: ProjectRunStatus): string[] {
  const lines: string[] = [];
  const label = (a: ProjectRunStatus['running'][number]) =>
    `${a.kind}${a.featureId === null ? '' : ` #${a.featureId}`} ${escapeForTerminal(a.featureName)}`;
  const was = new Map((before?.running ?? []).map((a) => [a.workflowId, a]));
  const is = new Map(now.running.map((a) => [a.workflowId, a]));
  if (before?.phase !== now.phase) lines.push(`phase: ${now.phase}${now.paused ? ' (paused)' : ''}`);
  for (const [id, agent] of was) if (!is.has(id)) lines.push(`finished ${label(agent)}`);
  for (const [id, agent] of is) if (!was.has(id)) lines.push(`started  ${label(agent)}`);
  const c = now.counts;
  if (lines.length > 0 && c.total > 0) {
    lines.push(`progress: ${c.passing}/${c.total} passing, ${now.running.length} agent(s) running${c.failed ? `, ${c.failed} failed` : ''}`);
  }
  return lines;
}
