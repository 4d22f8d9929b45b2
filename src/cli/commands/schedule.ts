/**
 * `autocoder schedule add|list|show|pause|unpause|delete|trigger`: a project's time windows as a
 * Temporal Schedule (`autocoder/schedule/<project>`). At each window's start the schedule starts a
 * windowRun (overlap SKIP), which starts or joins the project's run and drains it at the window's
 * end. The memo names the project and the window, so `temporal schedule list` shows them.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import {
  formatDays,
  formatWindow,
  isTimeZone,
  parseDays,
  parseWindow,
  windowContaining,
  nextWindow,
  type WindowSpec,
} from '../../schedules/window.ts';
import { agentAdapters, limits, type AgentAdapter, type ProjectRunInput } from '../../workflows/messages.ts';
import { scheduleId, windowRunId } from '../../workflows/run-ids.ts';
import type { WindowRunInput } from '../../workflows/window-run.ts';
import { durationFlag, intFlag, notifySettings, out, projectIdArg } from '../options.ts';
import type { Runtime } from '../runtime.ts';

type AddFlags = {
  window: string;
  days: string;
  tz?: string;
  concurrency: number;
  testingRatio: number;
  batchSize: number;
  testingBatchSize: number;
  yolo: boolean;
  model?: string;
  agent: string;
  agentCmd?: string;
  maxRetries: number;
  notifyUrl?: string;
  remindAfter?: number;
};

const PREFIX = scheduleId('');

/** Everything about a window that can be checked without the stack: exit 2 before anything is written. */
export function windowSpecFromFlags(flags: Pick<AddFlags, 'window' | 'days' | 'tz'>): WindowSpec {
  const window = parseWindow(flags.window);
  if ('error' in window)
    throw new UserError(window.error, { hint: 'e.g. --window 22:00-06:00 (it may cross midnight)' });
  const days = parseDays(flags.days);
  if ('error' in days) throw new UserError(days.error, { hint: 'e.g. --days mon-fri, --days sat,sun or --days daily' });
  const tz = flags.tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!isTimeZone(tz))
    throw new UserError(`--tz must be an IANA time zone, got ${showValue(tz)}`, {
      hint: 'e.g. --tz Europe/Berlin or --tz America/New_York (see `timedatectl list-timezones`)',
    });
  return { ...window, days, tz };
}

export function register(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'Run a project only in time windows (nights, weekends): Temporal Schedules that start and drain its run',
    );

  schedule
    .command('add')
    .description('Create the schedule: at each window start the run starts (or is joined), at its end it drains')
    .argument('<project>', 'project id (run it once with `autocoder run` so its directory is known)', projectIdArg())
    .requiredOption('--window <HH:MM-HH:MM>', 'the window, in the zone of --tz; it may cross midnight')
    .option('--days <days>', 'days the window starts on: mon-fri, sat,sun, daily', 'daily')
    .option('--tz <zone>', 'IANA time zone (default: this machine’s)')
    .option(
      '--concurrency <n>',
      `coding agents at once (1..${limits.maxConcurrency.default}, the runs' default maxConcurrency)`,
      intFlag('--concurrency', limits.concurrency.min, limits.maxConcurrency.default),
      3,
    )
    .option('--testing-ratio <n>', 'testing agents kept running (0..3)', intFlag('--testing-ratio', 0, 3), 1)
    .option('--batch-size <n>', 'features per coding agent (1..3)', intFlag('--batch-size', 1, 3), 1)
    .option('--testing-batch-size <n>', 'features per testing agent (1..5)', intFlag('--testing-batch-size', 1, 5), 1)
    .option('--yolo', 'no testing agents; agents skip browser testing', false)
    .option('--model <name>', 'model passed to every agent')
    .option('--agent <adapter>', `agent adapter: ${agentAdapters.join('|')}`, 'claude')
    .option('--agent-cmd <path>', 'executable for --agent command')
    .option('--max-retries <n>', 'failed attempts before a feature is given up', intFlag('--max-retries', 1, 100), 3)
    .option('--notify-url <url>', 'POST events here (default AUTOCODER_NOTIFY_URL)')
    .option(
      '--remind-after <duration>',
      'remind of unanswered questions after this long',
      durationFlag('--remind-after'),
    )
    .addHelpText(
      'after',
      `
A window already open when the schedule is added, or when the stack comes back, begins at once.

Examples:
  autocoder schedule add todo-app --window 22:00-06:00 --days mon-fri --tz Europe/Berlin
  autocoder schedule add todo-app --window 00:00-08:00 --days sat,sun --concurrency 2 --model opus`,
    )
    .action(async (project: string, flags: AddFlags) => add(project, flags));

  schedule
    .command('list')
    .description("Every project's schedule: window, days, zone, paused, next start")
    .option('--json', 'print JSON', false)
    .action(async (flags: { json: boolean }) => withClient(async (rt) => list(rt, flags.json)));

  schedule
    .command('show')
    .description("A project's schedule: its window, settings, next starts and recent runs")
    .argument('<project>', 'project id', projectIdArg())
    .option('--json', 'print JSON', false)
    .action(async (project: string, flags: { json: boolean }) =>
      withClient(async (rt) => show(rt, project, flags.json)),
    );

  const simple: Array<[string, string, (h: ScheduleHandle) => Promise<void>, string]> = [
    [
      'pause',
      'Stop starting windows (a window in progress goes on)',
      (h) => h.pause('autocoder schedule pause'),
      'paused',
    ],
    ['unpause', 'Start windows again', (h) => h.unpause('autocoder schedule unpause'), 'unpaused'],
    ['delete', 'Delete the schedule (a window in progress goes on until its end)', (h) => h.delete(), 'deleted'],
    [
      'trigger',
      'Start a window now (it lasts until the open window ends, or as long as one)',
      (h) => h.trigger(),
      'triggered',
    ],
  ];
  for (const [name, description, act, done] of simple) {
    schedule
      .command(name)
      .description(description)
      .argument('<project>', 'project id', projectIdArg())
      .action(async (project: string) =>
        withClient(async (rt) => {
          await act(await existing(rt, project));
          out(`schedule ${scheduleId(project)} ${done}`);
        }),
      );
  }
}

type Memo = { project?: string; window?: string; days?: string; tz?: string };
const memoOf = (memo: unknown): Memo => (memo ?? {}) as Memo;

type ScheduleHandle = ReturnType<Runtime['temporal']['client']['schedule']['getHandle']>;

async function withClient(work: (rt: Runtime) => Promise<void>): Promise<void> {
  const { withRuntime } = await import('../runtime.ts');
  await withRuntime({}, work);
}

async function existing(rt: Runtime, project: string): Promise<ScheduleHandle> {
  const { ScheduleNotFoundError } = await import('@temporalio/client');
  const handle = rt.temporal.client.schedule.getHandle(scheduleId(project));
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new UserError(`project ${project} has no schedule`, {
        hint: `add one with \`autocoder schedule add ${project} --window 22:00-06:00\``,
      });
    throw err;
  }
  return handle;
}

async function add(project: string, flags: AddFlags): Promise<void> {
  const spec = windowSpecFromFlags(flags);
  if (!(agentAdapters as readonly string[]).includes(flags.agent))
    throw new UserError(`--agent must be one of ${agentAdapters.join(', ')}, got ${showValue(flags.agent)}`);
  if (flags.agent === 'command' && !flags.agentCmd)
    throw new UserError('--agent command needs --agent-cmd PATH', { hint: 'e.g. --agent-cmd ./agent.sh' });
  const notify = await notifySettings(flags.notifyUrl, flags.remindAfter);
  const [{ getProject }, { agentSafetyFromFlags }, { ScheduleAlreadyRunning, DAYS_OF_WEEK }, { workflowUiUrl }] =
    await Promise.all([
      import('../../db/projects.ts'),
      import('../agent-safety-flags.ts'),
      import('@temporalio/client'),
      import('../../client.ts'),
    ]);
  await withClient(async (rt) => {
    const row = await getProject(rt.database.db, project);
    if (!row)
      throw new UserError(`unknown project ${showValue(project)}`, {
        hint: `run it once with \`autocoder run DIR --project ${project}\` (or import its features) so its directory is known`,
      });
    const safety = agentSafetyFromFlags({ agentPolicy: 'strict', allowHost: [], maxTurns: [], agentEnv: [] }, row.dir);
    const run: ProjectRunInput = {
      projectId: project,
      projectDir: row.dir,
      // The project dir is on the host that adds the schedule (its windows run it in shared isolation).
      homeHost: rt.config.hostId,
      concurrency: flags.concurrency,
      testingRatio: flags.testingRatio,
      ...(flags.batchSize > 1 ? { batchSize: flags.batchSize } : {}),
      ...(flags.testingBatchSize > 1 ? { testingBatchSize: flags.testingBatchSize } : {}),
      yolo: flags.yolo,
      agent: flags.agent as AgentAdapter,
      maxRetries: flags.maxRetries,
      agentSafety: safety,
      ...notify,
      ...(flags.model ? { model: flags.model } : {}),
      ...(flags.agentCmd ? { agentCmd: [resolve(flags.agentCmd)] } : {}),
      ...(rt.temporalTarget.uiUrl
        ? { uiUrl: workflowUiUrl(rt.temporalTarget.uiUrl, rt.temporalTarget.namespace, `autocoder/${project}`) }
        : {}),
    };
    const input: WindowRunInput = { projectId: project, window: spec, run };
    const length = nextWindow(spec, new Date());
    const memo = { project, window: formatWindow(spec), days: formatDays(spec.days), tz: spec.tz };
    try {
      await rt.temporal.client.schedule.create({
        scheduleId: scheduleId(project),
        spec: {
          calendars: [
            {
              hour: spec.start.hour,
              minute: spec.start.minute,
              dayOfWeek: spec.days.map((d) => DAYS_OF_WEEK[d]!),
            },
          ],
          timezone: spec.tz,
        },
        action: {
          type: 'startWorkflow',
          workflowType: 'windowRun',
          workflowId: windowRunId(project),
          taskQueue: rt.config.taskQueue,
          args: [input],
          staticSummary: `window ${memo.window} ${memo.days} ${memo.tz} of ${project}`,
        },
        // A window missed while the stack was down is still started when it comes back, if still open.
        policies: { overlap: 'SKIP', catchupWindow: length.end.getTime() - length.start.getTime() },
        memo,
        state: { note: `autocoder: ${project} runs ${memo.window} ${memo.days} (${memo.tz})` },
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning)
        throw new UserError(`project ${project} already has a schedule`, {
          hint: `see it with \`autocoder schedule show ${project}\`; replace it with \`autocoder schedule delete ${project}\` and add again`,
        });
      throw err;
    }
    out(`schedule ${scheduleId(project)}: ${memo.window} ${memo.days} (${memo.tz}), concurrency ${flags.concurrency}`);
    // The catch-up window: a window already open starts now rather than at its next start.
    if (windowContaining(spec, new Date())) {
      await rt.temporal.client.schedule.getHandle(scheduleId(project)).trigger();
      out('the window is open now: started it');
    } else out(`next window: ${length.start.toISOString()} to ${length.end.toISOString()}`);
  });
}

async function list(rt: Runtime, json: boolean): Promise<void> {
  const rows = [];
  for await (const s of rt.temporal.client.schedule.list()) {
    if (!s.scheduleId.startsWith(PREFIX)) continue;
    rows.push({
      project: s.scheduleId.slice(PREFIX.length),
      scheduleId: s.scheduleId,
      ...memoOf(s.memo),
      paused: s.state.paused,
      nextStart: s.info.nextActionTimes[0]?.toISOString() ?? null,
    });
  }
  if (json) return out(JSON.stringify(rows, null, 2));
  if (rows.length === 0)
    return out('no schedules (add one with `autocoder schedule add PROJECT --window 22:00-06:00`)');
  for (const r of rows)
    out(
      `${r.project}: ${String(r.window)} ${String(r.days)} (${String(r.tz)})${r.paused ? ' paused' : ''}, next ${r.nextStart ?? '-'}`,
    );
}

async function show(rt: Runtime, project: string, json: boolean): Promise<void> {
  const d = await (await existing(rt, project)).describe();
  const action = d.action.type === 'startWorkflow' ? (d.action.args?.[0] as WindowRunInput | undefined) : undefined;
  const run = action?.run;
  const view = {
    scheduleId: d.scheduleId,
    ...memoOf(d.memo),
    paused: d.state.paused,
    settings: run
      ? {
          concurrency: run.concurrency,
          testingRatio: run.testingRatio,
          batchSize: run.batchSize ?? 1,
          testingBatchSize: run.testingBatchSize ?? 1,
          yolo: run.yolo,
          model: run.model ?? null,
          agent: run.agent,
        }
      : null,
    nextStarts: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recent: d.info.recentActions.map((a) => ({
      at: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
    })),
  };
  if (json) return out(JSON.stringify(view, null, 2));
  out(
    `${view.scheduleId}: ${String(view.window)} ${String(view.days)} (${String(view.tz)})${view.paused ? ' paused' : ''}`,
  );
  if (view.settings) out(`settings: ${JSON.stringify(view.settings)}`);
  out(`next starts: ${view.nextStarts.join(', ') || '-'}`);
  for (const r of view.recent) out(`  started ${r.workflowId} at ${r.at}`);
}
