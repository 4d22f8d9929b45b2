/**
 * The project run's side of the merge queue (worktree isolation, issue 18): when a coding agent
 * passed, or a run of the chain starts with features possibly left merging, the run wakes its
 * project's mergeQueue by signal-with-start (one local activity), handing it the run's agent
 * settings for resolver agents.
 */
import type { RunActivities } from '../activities/types.ts';
import type { MergeQueueInput } from './merge-messages.ts';
import type { RunState } from './run-state.ts';

/** Resolver agents' time limit when the run sets none. */
const MERGE_TIMEOUT_MS = 60 * 60_000;

/** What the queue needs from the run's input; null in shared mode (no queue). */
export function mergeQueueInputOf(input: RunState['input']): MergeQueueInput | null {
  const { projectId, projectDir, maxRetries, isolation, agent, agentCmd, model, yolo, simulate, agentSafety } = input;
  if (isolation?.mode !== 'worktree') return null;
  return {
    projectId,
    projectDir,
    ...(input.homeHost ? { homeHost: input.homeHost } : {}),
    maxRetries,
    isolation,
    agent: {
      adapter: agent,
      yolo,
      timeoutMs: input.agentTimeoutMs ?? MERGE_TIMEOUT_MS,
      safety: agentSafety,
      ...(agentCmd ? { agentCmd } : {}),
      ...(model ? { model } : {}),
      ...(simulate ? { simulate } : {}),
    },
  };
}

/** Wakes the queue once for everything that passed since the last wake. */
export async function wakeMergeQueue(s: RunState, activities: Pick<RunActivities, 'wakeMergeQueue'>): Promise<void> {
  s.mergeWanted = false;
  const input = mergeQueueInputOf(s.input);
  if (input) await activities.wakeMergeQueue(input);
}
