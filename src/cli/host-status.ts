/** What `status` shows of hosts: where each running agent runs, and whether live hosts can carry the concurrency. */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db/tables.ts';
import { capacityOf, liveWorkers, type HostCapacity } from '../metrics/capacity.ts';

/** agent_runs.host of each run that has started a process (an unstarted claim has none). */
export async function hostsOfRuns(db: Kysely<Database>, runIds: readonly string[]): Promise<Map<string, string>> {
  if (runIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('agent_runs')
    .select(['id', 'host'])
    .where('id', 'in', [...runIds])
    .execute();
  return new Map(rows.filter((r) => r.host).map((r) => [r.id, r.host!]));
}

/** null when Temporal cannot list the queue's pollers (status shows the rest). */
export async function readCapacity(
  client: Client,
  taskQueue: string,
  concurrency: number,
): Promise<HostCapacity | null> {
  try {
    return capacityOf(await liveWorkers(client, taskQueue), concurrency);
  } catch {
    return null;
  }
}
