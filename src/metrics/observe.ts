/** Recording an agent run's end in autocoder_agent_run_seconds, from the times its row holds. */
import type { Kysely } from 'kysely';
import type { Database } from '../db/tables.ts';
import type { AgentKind } from '../workflows/vocabulary.ts';
import type { AutocoderMetrics } from './meter.ts';

/**
 * Called by whoever wrote the run's outcome (`fresh`), so each run is observed once. The row's
 * start and end are the database clock's, the same for a run adopted by a later worker. A failure
 * to read is not the caller's problem: the sample is skipped.
 */
export async function observeAgentEnd(
  db: Kysely<Database>,
  metrics: AutocoderMetrics,
  run: { id: string; kind: AgentKind; outcome: string },
): Promise<void> {
  if (!metrics.enabled) return;
  try {
    const row = await db
      .selectFrom('agent_runs')
      .select(['started_at', 'ended_at'])
      .where('id', '=', run.id)
      .executeTakeFirst();
    if (!row?.ended_at) return;
    const seconds = (new Date(row.ended_at).getTime() - new Date(row.started_at).getTime()) / 1000;
    metrics.agentRunEnded(run.kind, run.outcome, seconds);
  } catch {
    // The histogram misses one sample; the run itself is settled.
  }
}
