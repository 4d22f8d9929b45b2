/**
 * The activities of windowRun (src/workflows/window-run.ts): the window's bounds (a pure
 * function of the spec and the time), signal-with-start of the project's run, and the drain at
 * the window's end.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { getProject } from '../db/projects.ts';
import type { Database } from '../db/tables.ts';
import { windowFor, type WindowSpec } from '../schedules/window.ts';
import { drainSignal, projectRunId, resumeSignal, type ProjectRunInput } from '../workflows/messages.ts';
import { searchAttributes } from '../workflows/search-attributes.ts';
import { failureTypes } from '../workflows/vocabulary.ts';

export function createWindowActivities({ db, temporal }: { db: Kysely<Database>; temporal: Client }) {
  const firstRunIdOf = async (workflowId: string) => {
    const d = await temporal.workflow.getHandle(workflowId).describe();
    return { running: d.status.name === 'RUNNING', firstRunId: d.raw.workflowExecutionInfo?.firstRunId ?? d.runId };
  };
  return {
    async windowBounds({ window, nowMs }: { window: WindowSpec; nowMs: number }) {
      const w = windowFor(window, new Date(nowMs));
      return { startMs: w.start.getTime(), endMs: w.end.getTime(), open: w.open };
    },

    /** Starts the project's run, or joins (and resumes) the one in progress: signal-with-start on its ID. */
    async joinWindowRun({ input }: { input: ProjectRunInput }) {
      if (!(await getProject(db, input.projectId))) {
        throw ApplicationFailure.create({
          type: failureTypes.invalidInput,
          nonRetryable: true,
          message: `unknown project ${JSON.stringify(input.projectId)}: run it once with \`autocoder run DIR --project ${input.projectId}\``,
        });
      }
      const workflowId = projectRunId(input.projectId);
      const before = await firstRunIdOf(workflowId).catch(() => null);
      const handle = await temporal.workflow.signalWithStart('projectRun', {
        workflowId,
        taskQueue: Context.current().info.taskQueue,
        args: [input],
        signal: resumeSignal,
        signalArgs: [],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        staticSummary: `project ${input.projectId} (scheduled window)`,
        typedSearchAttributes: [{ key: searchAttributes.project, value: input.projectId }],
      });
      const { firstRunId } = await firstRunIdOf(handle.workflowId);
      return { firstRunId, joined: before?.running === true };
    },

    /** Drains the run this window joined; leaves one started by hand meanwhile, or one already over. */
    async drainWindowRun({ projectId, firstRunId }: { projectId: string; firstRunId: string }) {
      const now = await firstRunIdOf(projectRunId(projectId)).catch(() => null);
      if (!now?.running) return 'ended' as const;
      if (now.firstRunId !== firstRunId) return 'not-ours' as const;
      await temporal.workflow.getHandle(projectRunId(projectId)).signal(drainSignal);
      return 'drained' as const;
    },
  };
}
