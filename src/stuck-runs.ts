/**
 * Runs whose workflow tasks keep failing, above all runs this version's workflow code cannot
 * replay (started before an upgrade that changed the workflow incompatibly). Temporal keeps such
 * a run open and retries its task forever, so that an operator can drain it with the old code;
 * nothing in the run moves until then.
 *
 * Found two ways: the server flags a run after two consecutive failed workflow tasks with the
 * search attribute TemporalReportedProblems (server 1.28+), which `autocoder doctor` and the
 * worker's periodic scan list; and the worker's runtime logger recognises core's one warning
 * for the first failed attempt ("Failing workflow task", nondeterminism), printed as one line
 * instead. Core reports (and logs) only an attempt's first failure: later attempts time out
 * silently, so a worker started after the failure learns of the run from the scan alone.
 */
import type { Client } from '@temporalio/client';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type Logger,
  type LogLevel,
  type LogMetadata,
} from '@temporalio/common';

export const reportedProblems = defineSearchAttributeKey('TemporalReportedProblems', SearchAttributeType.KEYWORD_LIST);
const NONDETERMINISM = 'cause=WorkflowTaskFailedCauseNonDeterministicError';
const OUR_WORKFLOW_TYPES = ['projectRun', 'agentRun'] as const;

export type StuckRun = {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** nondeterminism: the workers' code cannot replay it; task-failure: its workflow tasks fail otherwise. */
  problem: 'nondeterminism' | 'task-failure';
  /** The last failed workflow task's message, shortened. */
  cause: string;
};

/** Visibility query of our running workflows that the server flagged, optionally on one task queue. */
export function stuckRunsQuery(taskQueue?: string): string {
  const types = OUR_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
  const queue = taskQueue === undefined ? '' : ` AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  return `ExecutionStatus = 'Running' AND WorkflowType IN (${types}) AND TemporalReportedProblems IS NOT NULL${queue}`;
}

/**
 * Our running workflows whose workflow tasks keep failing (nondeterminism first), each with the
 * last failure's message. One visibility query; one short history read per run found.
 */
export async function listStuckRuns(
  client: Client,
  options: { taskQueue?: string; onlyNondeterminism?: boolean; limit?: number } = {},
): Promise<StuckRun[]> {
  const found: StuckRun[] = [];
  for await (const w of client.workflow.list({ query: stuckRunsQuery(options.taskQueue) })) {
    const problems = w.typedSearchAttributes.get(reportedProblems) ?? [];
    found.push({
      workflowId: w.workflowId,
      runId: w.runId,
      workflowType: w.type,
      taskQueue: w.taskQueue,
      problem: problems.includes(NONDETERMINISM) ? 'nondeterminism' : 'task-failure',
      cause: problems.find((p) => p.startsWith('cause='))?.slice('cause=WorkflowTaskFailedCause'.length) ?? 'unknown',
    });
    if (found.length >= (options.limit ?? 50)) break;
  }
  const runs = await Promise.all(
    found.map(async (run): Promise<StuckRun> => {
      const failure = await lastTaskFailure(client, run).catch(() => undefined);
      if (!failure) return run;
      // A DeterminismViolationError thrown on the SDK's side is reported as an unhandled failure.
      const nondeterminism = run.problem === 'nondeterminism' || failure.type === 'DeterminismViolationError';
      return {
        ...run,
        problem: nondeterminism ? 'nondeterminism' : 'task-failure',
        cause: shortCause(failure.message),
      };
    }),
  );
  const wanted = options.onlyNondeterminism ? runs.filter((r) => r.problem === 'nondeterminism') : runs;
  return wanted.sort((a, b) => Number(b.problem === 'nondeterminism') - Number(a.problem === 'nondeterminism'));
}

/** The newest WorkflowTaskFailed event's failure, read from the end of the history (a page of 20). */
async function lastTaskFailure(
  client: Client,
  run: Pick<StuckRun, 'workflowId' | 'runId'>,
): Promise<{ message: string; type: string } | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId: run.workflowId, runId: run.runId },
    maximumPageSize: 20,
  });
  for (const event of history?.events ?? []) {
    const failure = event.workflowTaskFailedEventAttributes?.failure;
    if (failure) return { message: failure.message ?? '', type: failure.applicationFailureInfo?.type ?? '' };
  }
  return undefined;
}

/** "[TMPRL1100] Nondeterminism error: Activity machine …" → "Activity machine …", one line, at most 200 characters. */
export function shortCause(message: string): string {
  const line = (message.split('\n')[0] ?? '').replace(/^\[TMPRL\d+\]\s*/, '').replace(/^Nondeterminism error:\s*/i, '');
  return line.length > 200 ? `${line.slice(0, 197)}...` : line || 'no message';
}

/** `autocoder/<project>[/…]` → the project, else undefined. */
function projectOf(workflowId: string): string | undefined {
  const [prefix, project] = workflowId.split('/');
  return prefix === 'autocoder' && project ? project : undefined;
}

/** How to end a run no worker can move: terminate it (a stop signal would need its workflow code). */
export function endRunCommand(workflowId: string): string {
  const project = projectOf(workflowId);
  return project ? `autocoder stop ${project} --terminate` : `temporal workflow terminate --workflow-id ${workflowId}`;
}

/**
 * One line per run: what is wrong and the remedy. `by` names whose code fails ("this worker's
 * code", "the code of the workers on task queue autocoder").
 */
export function stuckRunLine(run: Omit<StuckRun, 'workflowType' | 'taskQueue'>, by = "this worker's code"): string {
  if (run.problem === 'nondeterminism') {
    return (
      `run ${run.workflowId} (run id ${run.runId}) cannot be replayed by ${by} (nondeterminism: ${run.cause}): ` +
      `it was started by an older version. Drain it with the version that started it, or end it: ${endRunCommand(run.workflowId)}`
    );
  }
  return (
    `run ${run.workflowId} (run id ${run.runId}) is stuck: its workflow tasks keep failing (${run.cause}). ` +
    `Fix the cause (see the worker's log) and it continues, or end it: ${endRunCommand(run.workflowId)}`
  );
}

/** Prints a run's line once, and again at most every `reminderMs` while it is reported. */
export class StuckRunReporter {
  private readonly printed = new Map<string, number>();
  private readonly print: (line: string) => void;
  private readonly reminderMs: number;
  private readonly now: () => number;
  constructor(print: (line: string) => void, reminderMs = 30 * 60_000, now: () => number = Date.now) {
    this.print = print;
    this.reminderMs = reminderMs;
    this.now = now;
  }

  report(runId: string, line: string): boolean {
    const last = this.printed.get(runId);
    if (last !== undefined && this.now() - last < this.reminderMs) return false;
    this.printed.set(runId, this.now());
    this.print(line);
    return true;
  }
}

export type CoreNondeterminism = { runId: string; cause: string };

/** Core's warning for a workflow task it fails for nondeterminism, else undefined. */
export function coreNondeterminism(message: string, meta: LogMetadata | undefined): CoreNondeterminism | undefined {
  if (message !== 'Failing workflow task' || meta?.sdkComponent !== 'core') return undefined;
  const failure = typeof meta.failure === 'string' ? meta.failure : '';
  if (!/force_cause: NonDeterministicError|TMPRL1100|DeterminismViolationError/.test(failure)) return undefined;
  const runId = typeof meta.runId === 'string' ? meta.runId : typeof meta.run_id === 'string' ? meta.run_id : '';
  // The failure is a Rust Debug string: `Failure { message: "…", stack_trace: "…", … }`.
  const quoted = /message: "((?:[^"\\]|\\.)*)"/.exec(failure)?.[1] ?? '';
  return { runId, cause: shortCause(quoted.replace(/\\(.)/g, '$1')) };
}

/**
 * The runtime logger, except that core's nondeterminism warning (with the failure's stack) goes
 * to `onNondeterminism` instead; every other entry passes through unchanged.
 */
export function nondeterminismAwareLogger(inner: Logger, onNondeterminism: (n: CoreNondeterminism) => void): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const found = coreNondeterminism(message, meta);
    if (found) onNondeterminism(found);
    else inner.log(level, message, meta);
  };
  return loggerThrough(inner, log);
}

/** A logger like `inner` (its other methods, its colour support) whose every entry goes through `log`. */
export function loggerThrough(
  inner: Logger,
  log: (level: LogLevel, message: string, meta?: LogMetadata) => void,
): Logger {
  return Object.assign(Object.create(inner) as Logger, {
    log,
    trace: (message: string, meta?: LogMetadata) => log('TRACE', message, meta),
    debug: (message: string, meta?: LogMetadata) => log('DEBUG', message, meta),
    info: (message: string, meta?: LogMetadata) => log('INFO', message, meta),
    warn: (message: string, meta?: LogMetadata) => log('WARN', message, meta),
    error: (message: string, meta?: LogMetadata) => log('ERROR', message, meta),
  });
}

export type StuckRunWatchOptions = {
  client: Client;
  taskQueue: string;
  print: (line: string) => void;
  /** How often the task queue's flagged runs are listed (default 5 min; once at start). */
  scanEveryMs?: number;
  /** A run already printed is printed again at most this often (default 30 min). */
  reminderMs?: number;
};

/** Workers of this process that want to hear of core's nondeterminism warnings. */
const coreListeners = new Set<(n: CoreNondeterminism) => void>();

/** For the runtime logger (installed once per process): tells each watching worker. */
export function dispatchCoreNondeterminism(n: CoreNondeterminism): void {
  for (const listener of coreListeners) listener(n);
}

/**
 * A worker's watch over runs it cannot replay: each is printed as one line (see StuckRunReporter),
 * whether core's warning named it or the periodic scan of the task queue found it. Best effort:
 * a scan that fails is tried again at the next interval.
 */
export function watchStuckRuns(options: StuckRunWatchOptions): { start: () => void; stop: () => void } {
  const reporter = new StuckRunReporter(options.print, options.reminderMs);
  let timer: NodeJS.Timeout | undefined;
  const scan = async () => {
    const runs = await listStuckRuns(options.client, { taskQueue: options.taskQueue, onlyNondeterminism: true });
    for (const run of runs) reporter.report(run.runId, stuckRunLine(run));
  };
  // Core names only the run ID; its workflow ID comes from visibility (which may lag a little).
  const onCore = async (n: CoreNondeterminism) => {
    const query = `RunId = '${n.runId.replace(/'/g, '')}' AND TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}'`;
    for (let attempt = 0; attempt < 10; attempt++) {
      for await (const w of options.client.workflow.list({ query })) {
        reporter.report(n.runId, stuckRunLine({ ...n, workflowId: w.workflowId, problem: 'nondeterminism' }));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Not on our task queue (another worker of this process), or visibility is far behind.
    if (coreListeners.size === 1) {
      reporter.report(
        n.runId,
        `run id ${n.runId} cannot be replayed by this worker's code (nondeterminism: ${n.cause}): it was started by an ` +
          'older version. Drain it with the version that started it, or end it (`autocoder doctor` names the command)',
      );
    }
  };
  const listener = (n: CoreNondeterminism) => void onCore(n).catch(() => undefined);
  return {
    start() {
      coreListeners.add(listener);
      void scan().catch(() => undefined);
      timer = setInterval(() => void scan().catch(() => undefined), options.scanEveryMs ?? 5 * 60_000);
      timer.unref();
    },
    stop() {
      coreListeners.delete(listener);
      clearInterval(timer);
    },
  };
}
