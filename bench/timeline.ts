/**
 * Where the time from a dependency's exit to its dependant's start goes (issue 10's hot-path
 * profile), read from the event histories of the run and its agentRun children and from the
 * launchers' timestamps. For each dependant started after its last dependency exited:
 *
 *   report      the dependency's agent exits → the agentFinished signal in the parent's history
 *   parentTask  that signal → the parent's StartChildWorkflowExecutionInitiated for the dependant
 *   childStart  initiated → the child's first workflow task starts (server: start, schedule, match)
 *   childTask   that task starts → the superviseAgent activity starts
 *   spawn       the activity starts → the agent process starts (its launcher's timestamp)
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;
export const segments = ['report', 'parentTask', 'childStart', 'childTask', 'spawn'] as const;
export type StepTimeline = Record<(typeof segments)[number], { p50: number | null; p95: number | null }>;

const at = (e: Event): number => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

export function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
}

export function stepTimeline(input: {
  parents: History[];
  children: Map<string, History>;
  /** feature id → its coding agentRun workflow ID (the last attempt) */
  runOf: Map<number, string>;
  dependencies: Map<number, readonly number[]>;
  startOf: Map<number, number>;
  exitOf: Map<number, number>;
}): StepTimeline {
  const parentEvents = input.parents.flatMap((h) => h.events ?? []);
  const reported = new Map<string, number>();
  const initiated = new Map<string, number>();
  for (const e of parentEvents) {
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'agentFinished' && signal.input?.payloads?.[0]) {
      const report = defaultPayloadConverter.fromPayload<{ workflowId?: string }>(signal.input.payloads[0]);
      if (report.workflowId && !reported.has(report.workflowId)) reported.set(report.workflowId, at(e));
    }
    const start = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (start?.workflowId) initiated.set(start.workflowId, at(e));
  }
  const spans: Record<(typeof segments)[number], number[]> = {
    report: [],
    parentTask: [],
    childStart: [],
    childTask: [],
    spawn: [],
  };
  for (const [featureId, deps] of input.dependencies) {
    const run = input.runOf.get(featureId);
    const started = input.startOf.get(featureId);
    const last = deps.reduce<number | null>(
      (best, d) => (best === null || (input.exitOf.get(d) ?? 0) > (input.exitOf.get(best) ?? 0) ? d : best),
      null,
    );
    const lastRun = last === null ? undefined : input.runOf.get(last);
    const exited = last === null ? undefined : input.exitOf.get(last);
    const childEvents = run ? (input.children.get(run)?.events ?? []) : [];
    const taskStarted = childEvents.find((e) => e.workflowTaskStartedEventAttributes);
    const activityStarted = childEvents.find((e) => e.activityTaskStartedEventAttributes);
    if (!run || !lastRun || started === undefined || exited === undefined || !taskStarted || !activityStarted) continue;
    const marks = [exited, reported.get(lastRun), initiated.get(run), at(taskStarted), at(activityStarted), started];
    // Only dependants started by that report (not ones that waited for a free slot).
    if (marks.some((m) => m === undefined) || !marks.every((m, i) => i === 0 || m! >= marks[i - 1]!)) continue;
    segments.forEach((name, i) => spans[name].push(marks[i + 1]! - marks[i]!));
  }
  return Object.fromEntries(
    segments.map((name) => [name, { p50: percentile(spans[name], 0.5), p95: percentile(spans[name], 0.95) }]),
  ) as StepTimeline;
}
