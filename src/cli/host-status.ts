/** What `status` shows of hosts: where each running agent runs, and whether live hosts can carry the concurrency. */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db/tables.ts';
import { UserError } from '../errors.ts';
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
  homeHost: string | null = null,
): Promise<HostCapacity | null> {
  try {
    return capacityOf(await liveWorkers(client, taskQueue), concurrency, homeHost);
  } catch {
    return null;
  }
}

/**
 * Shared isolation stays on one host: its agents work in the project dir, which only the home
 * host has. `run` refuses to start it while workers of another host poll the queue (those would
 * take none of its agents, which are pinned home, but the operator meant them to share the work).
 */
export async function refuseSharedOnManyHosts(client: Client, taskQueue: string, homeHost: string): Promise<void> {
  const others = [...new Set((await liveWorkers(client, taskQueue)).map((w) => w.host))]
    .filter((h) => h !== homeHost)
    .sort();
  if (others.length === 0) return;
  throw new UserError(
    `shared isolation runs on one host, but workers of ${others.length === 1 ? 'host' : 'hosts'} ${others.join(', ')} also poll task queue ${taskQueue} (this host is ${homeHost})`,
    {
      hint: "use --isolation worktree (each host works in its own clone), stop the other hosts' workers, or give this project a queue of its own (AUTOCODER_TASK_QUEUE)",
    },
  );
}
