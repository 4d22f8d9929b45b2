/**
 * windowRun: what a project's Schedule starts at each window's start (`autocoder schedule add`).
 * It starts the project's run, or joins or resumes the one that exists, by signal-with-start on
 * `autocoder/<project>` (that ID stays the lock), sleeps on a durable timer until the window's
 * end, and drains the run as `stop --drain` does. A run someone started by hand inside the window
 * (another chain than the one joined) is left running, and a run stopped by hand is not started
 * again: a manual `run` or `stop` holds until the window ends.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { WindowActivities } from '../activities/types.ts';
import type { ProjectRunInput } from './messages.ts';
import { describeIssues, PROJECT_ID_PATTERN } from './messages.ts';
import { zod } from './sandbox-shared-modules.ts';
import { failureTypes } from './vocabulary.ts';

export type WindowRunInput = {
  projectId: string;
  window: {
    start: { hour: number; minute: number };
    end: { hour: number; minute: number };
    days: number[];
    tz: string;
  };
  /** The project run's input (projectRun validates it). */
  run: ProjectRunInput;
};

export type WindowRunResult = {
  windowStart: string;
  windowEnd: string;
  /** False when started by hand (`schedule trigger`) outside every window: it lasts as long as one. */
  inWindow: boolean;
  joined: boolean;
  atEnd: 'drained' | 'ended' | 'not-ours';
};

const wallTime = () =>
  zod.object({ hour: zod.number().int().min(0).max(23), minute: zod.number().int().min(0).max(59) });

function parseInput(raw: unknown): WindowRunInput {
  const schema = zod.object({
    projectId: zod.string().regex(PROJECT_ID_PATTERN),
    window: zod.object({
      start: wallTime(),
      end: wallTime(),
      days: zod.array(zod.number().int().min(0).max(6)).min(1),
      tz: zod.string().min(1),
    }),
    run: zod.looseObject({ projectId: zod.string(), projectDir: zod.string().min(1) }),
  });
  const parsed = schema.safeParse(raw);
  if (!parsed.success || parsed.data.run.projectId !== parsed.data.projectId) {
    throw ApplicationFailure.create({
      type: failureTypes.invalidInput,
      nonRetryable: true,
      message: `invalid windowRun input: ${parsed.success ? 'run.projectId must be projectId' : describeIssues(parsed.error)}`,
    });
  }
  return parsed.data as WindowRunInput;
}

const local = wf.proxyLocalActivities<WindowActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: [failureTypes.invalidInput] },
});

export async function windowRun(raw: WindowRunInput): Promise<WindowRunResult> {
  const input = parseInput(raw);
  const bounds = await local.windowBounds({ window: input.window, nowMs: Date.now() });
  const run = await local.joinWindowRun({ input: input.run });
  const wait = bounds.endMs - Date.now();
  if (wait > 0) await wf.sleep(wait);
  const atEnd = await local.drainWindowRun({ projectId: input.projectId, firstRunId: run.firstRunId });
  return {
    windowStart: new Date(bounds.startMs).toISOString(),
    windowEnd: new Date(bounds.endMs).toISOString(),
    inWindow: bounds.open,
    joined: run.joined,
    atEnd,
  };
}
