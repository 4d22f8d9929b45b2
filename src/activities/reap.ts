/**
 * Killing agent trees a live supervision no longer watches, on the host that runs them:
 * reapOrphans (at worker start: trees whose run is over or unknown to Temporal, and agents of runs
 * settled host_lost that still live) and killRecordedAgent (a stop that found no attempt watching
 * the agent: src/workflows/agent-run.ts).
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { liveAgentRuns } from '../db/agent-runs.ts';
import type { Database } from '../db/tables.ts';
import { isProcessAlive, killTree } from '../supervisor/index.ts';

export type ReapDeps = {
  db: Kysely<Database>;
  temporal: Client;
  host: string;
  killGraceMs?: number | undefined;
  log?: (line: string) => void;
};

export function createReapActivities(deps: ReapDeps) {
  const { db, host } = deps;
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return {
    async killRecordedAgent({ runId }: { runId: string }): Promise<{ killed: boolean }> {
      const run = await db
        .selectFrom('agent_runs')
        .select(['pid', 'pgid', 'proc_start_time'])
        .where('id', '=', runId)
        .where('host', '=', host)
        .executeTakeFirst();
      if (!run?.pid || !run.proc_start_time || !isProcessAlive(run.pid, run.proc_start_time)) return { killed: false };
      await killTree(
        { pid: run.pid, pgid: run.pgid ?? run.pid, startTime: run.proc_start_time },
        { graceMs: deps.killGraceMs ?? 5000 },
      );
      log(`killed agent ${runId} (pid ${run.pid}): its run was stopped while no attempt watched it`);
      return { killed: true };
    },

    /** Kills agent trees on this host whose run is over or unknown to Temporal. */
    async reapOrphans(): Promise<{ reaped: string[] }> {
      const reaped: string[] = [];
      for (const run of await liveAgentRuns(db, { host })) {
        let running = false;
        try {
          running = (await deps.temporal.workflow.getHandle(run.id).describe()).status.name === 'RUNNING';
        } catch (err) {
          if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
        }
        if (running || !run.pid || !run.proc_start_time) continue;
        // A settled run's agent (host_lost) is killed only if it still lives: no note otherwise.
        if (run.ended_at && !isProcessAlive(run.pid, run.proc_start_time)) continue;
        await killTree(
          { pid: run.pid, pgid: run.pgid ?? run.pid, startTime: run.proc_start_time },
          { graceMs: deps.killGraceMs ?? 5000 },
        );
        await db
          .updateTable('agent_runs')
          .set({
            ended_at: new Date(),
            outcome: 'crashed',
            error: 'reaped: its run was over or unknown when a worker started',
          })
          .where('id', '=', run.id)
          .where('ended_at', 'is', null)
          .execute();
        reaped.push(run.id);
        log(`reaped orphaned agent ${run.id} (pid ${run.pid})`);
      }
      return { reaped };
    },
  };
}
