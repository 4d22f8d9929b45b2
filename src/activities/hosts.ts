/**
 * Hosts and their queues (issue 23). Every worker polls the shared task queue (workflows, the
 * feature store) and its host's own queue, `<shared>@<host id>`, where the agents it runs are
 * supervised. A new agent run first calls pickAgentHost on the shared queue: whichever worker
 * takes that task answers with its own host's queue if the host has a free slot (Temporal spreads
 * the task over the pollers; a full or draining host refuses, and the retry lands on another). The
 * run's superviseAgent, its retries and its adoption then stay on that queue, so they always run
 * where the agent's processes are. This is Temporal's worker-specific task queue pattern, as in
 * temporalio/samples-typescript `worker-specific-task-queues` (a `getUniqueTaskQueue` activity on
 * the shared queue, then the work on the unique queue).
 */
import { ApplicationFailure } from '@temporalio/common';
import { failureTypes } from '../workflows/vocabulary.ts';
import type { AgentHost } from './types.ts';

/** A slot picked but not yet taken by its superviseAgent is held this long, then freed. */
const RESERVATION_MS = 30_000;

export { hostQueueOf } from '../workflows/run-ids.ts';

/**
 * This worker's host: its id, its queue, its cap on agents, and the agents it runs now. One per
 * worker process; the shared-queue and host-queue workers of the process share it.
 */
export class HostSlots {
  readonly running = new Set<string>();
  private readonly reserved = new Map<string, number>();
  private readonly stoppers = new Map<string, () => void>();
  private drainingNow = false;
  readonly hostId: string;
  readonly taskQueue: string;
  readonly maxAgents: number;

  constructor(hostId: string, taskQueue: string, maxAgents: number) {
    this.hostId = hostId;
    this.taskQueue = taskQueue;
    this.maxAgents = maxAgents;
  }

  get draining(): boolean {
    return this.drainingNow;
  }

  /** Reserves a slot for the run, or says why not (a reserved or running run keeps its slot). */
  reserve(runId: string, now = Date.now()): AgentHost | string {
    if (this.drainingNow) return `host ${this.hostId} is draining`;
    for (const [id, until] of this.reserved) if (until <= now) this.reserved.delete(id);
    if (!this.running.has(runId) && !this.reserved.has(runId)) {
      const used = this.running.size + this.reserved.size;
      if (used >= this.maxAgents) return `host ${this.hostId} runs ${used} of its ${this.maxAgents} agents`;
    }
    this.reserved.set(runId, now + RESERVATION_MS);
    return { hostId: this.hostId, taskQueue: this.taskQueue };
  }

  /** superviseAgent holds the slot while it runs; `stop` ends its agent when the host drains. */
  enter(runId: string, stop: () => void): void {
    this.reserved.delete(runId);
    this.running.add(runId);
    this.stoppers.set(runId, stop);
    if (this.drainingNow) stop();
  }

  leave(runId: string): void {
    this.running.delete(runId);
    this.stoppers.delete(runId);
  }

  /** Takes no new agents and stops those running (each reports `host_drained`). */
  drain(): void {
    this.drainingNow = true;
    for (const stop of this.stoppers.values()) stop();
  }

  activities() {
    return {
      /** On the shared queue: this worker's host, if it has a free slot; else retried elsewhere. */
      pickAgentHost: async (input: { runId: string }): Promise<AgentHost> => {
        const picked = this.reserve(input.runId);
        if (typeof picked === 'string') throw ApplicationFailure.retryable(picked, failureTypes.hostFull);
        return picked;
      },
    };
  }
}
