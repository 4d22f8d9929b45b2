/**
 * Live hosts and their caps, for `status`. A worker names its host and its agent cap in its
 * Temporal identity (`<pid>@<host> max-agents=<n>`), and Temporal lists the identities of the
 * workers that polled a task queue lately (DescribeTaskQueue's pollers). That needs no table and
 * no heartbeat of our own, and a worker that stopped polling drops out by itself.
 */
import type { Client } from '@temporalio/client';

export type LiveWorker = { identity: string; host: string; maxAgents: number; lastPollMs: number };
export type HostCapacity = {
  /** Workers that polled within `LIVE_WITHIN_MS`, by host (a host's workers' caps add up). */
  hosts: Array<{ host: string; maxAgents: number; workers: number }>;
  maxAgents: number;
  concurrency: number;
  /** The hosts' caps add up to less than the concurrency: the run goes at the hosts' pace. */
  short: boolean;
  /** The run's home host (null: any host), and whether a worker of it is live. */
  homeHost: string | null;
  homeLive: boolean;
};

/** A worker polls continuously (each poll waits up to a minute); older pollers are gone. */
export const LIVE_WITHIN_MS = 90_000;
const IDENTITY = /^(\d+)@(\S+) max-agents=(\d+)$/;

export function workerIdentity(input: { pid: number; hostId: string; maxAgents: number }): string {
  return `${input.pid}@${input.hostId} max-agents=${input.maxAgents}`;
}

export function parseWorkerIdentity(identity: string): { host: string; maxAgents: number } | null {
  const match = IDENTITY.exec(identity);
  return match ? { host: match[2]!, maxAgents: Number(match[3]) } : null;
}

/** Workers of ours that polled the queue (workflow or activity tasks) within LIVE_WITHIN_MS of `now`. */
export async function liveWorkers(client: Client, taskQueue: string, now = Date.now()): Promise<LiveWorker[]> {
  const seen = new Map<string, LiveWorker>();
  // 1: workflow tasks, 2: activity tasks (temporal.api.enums.v1.TaskQueueType).
  for (const taskQueueType of [1, 2] as const) {
    const response = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    for (const poller of response.pollers ?? []) {
      const parsed = parseWorkerIdentity(poller.identity ?? '');
      const at = poller.lastAccessTime;
      const lastPollMs = at ? Number(at.seconds ?? 0) * 1000 + Math.floor((at.nanos ?? 0) / 1e6) : 0;
      if (!parsed || now - lastPollMs > LIVE_WITHIN_MS) continue;
      const known = seen.get(poller.identity!);
      if (!known || known.lastPollMs < lastPollMs)
        seen.set(poller.identity!, { identity: poller.identity!, ...parsed, lastPollMs });
    }
  }
  return [...seen.values()];
}

export function capacityOf(
  workers: readonly LiveWorker[],
  concurrency: number,
  homeHost: string | null = null,
): HostCapacity {
  const byHost = new Map<string, { host: string; maxAgents: number; workers: number }>();
  for (const w of workers) {
    const host = byHost.get(w.host) ?? { host: w.host, maxAgents: 0, workers: 0 };
    host.maxAgents += w.maxAgents;
    host.workers += 1;
    byHost.set(w.host, host);
  }
  const hosts = [...byHost.values()].sort((a, b) => a.host.localeCompare(b.host));
  const maxAgents = hosts.reduce((sum, h) => sum + h.maxAgents, 0);
  const homeLive = homeHost === null || byHost.has(homeHost);
  return { hosts, maxAgents, concurrency, short: maxAgents < concurrency, homeHost, homeLive };
}

/** A status line when the run's home host has no live worker: what waits for it. */
export function describeHome(capacity: HostCapacity): string | null {
  if (capacity.homeLive || capacity.hosts.length === 0) return null;
  return `home host ${capacity.homeHost} (the project dir's) has no live worker: the merge queue, the initializer and shared-isolation agents wait for it (start \`autocoder worker\` there)`;
}

/** The status line for a short capacity, or null when the hosts can run the concurrency. */
export function describeCapacity(capacity: HostCapacity): string | null {
  if (!capacity.short) return null;
  const hosts = capacity.hosts.map((h) => `${h.host} (${h.maxAgents})`).join(', ');
  return capacity.hosts.length === 0
    ? `capacity: no autocoder worker polled lately, so no agent runs (concurrency ${capacity.concurrency}); start one with \`autocoder worker\``
    : `capacity: live hosts ${hosts} run at most ${capacity.maxAgents} agents, below concurrency ${capacity.concurrency}: the run goes at the hosts' pace (add hosts or raise \`worker --max-agents\`)`;
}
