/**
 * Notifications of a project run (--notify-url): a JSON POST per event, sent by an activity with
 * retries and a timeout that the loop never awaits, so a webhook that fails or hangs neither
 * fails nor slows the run; its failures are counted for `status`. Reminders of an unanswered
 * request are durable timers, doubling each time. The run's end is sent by a small abandoned
 * child workflow, so the run completes without waiting for the webhook.
 */
import * as wf from '@temporalio/workflow';
import type { NotifyActivities } from '../activities/types.ts';
import { answerCommand, type OpenRequest } from './human-answer.ts';
import type { NotifyState, ProjectRunSettings } from './messages.ts';
import { notifyRunId } from './run-ids.ts';
import type { NotifyEvent, RunOutcome } from './vocabulary.ts';

/** The body every event POSTs (README "Notifications"); `text` is what a chat webhook shows. */
export type NotificationBody = {
  event: NotifyEvent;
  project: string;
  feature: number | null;
  question: string | null;
  answerCommand: string | null;
  uiUrl: string | null;
  text: string;
};

export type NotificationInput = { url: string; body: NotificationBody };

const MAX_REMINDER_GAP_MS = 7 * 24 * 3_600_000;

const { postNotification } = wf.proxyActivities<NotifyActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

export const emptyNotifyState = (): NotifyState => ({
  announced: [],
  sent: 0,
  failed: 0,
  lastError: null,
  pauseNotified: false,
});

export function requestBody(
  event: 'request.opened' | 'request.reminder',
  input: Pick<ProjectRunSettings, 'projectId' | 'uiUrl'>,
  r: OpenRequest,
): NotificationBody {
  const command = answerCommand(input.projectId, r);
  const firstLine = r.question.split('\n')[0] ?? '';
  const lead =
    event === 'request.opened'
      ? `${input.projectId} #${r.featureId} asks`
      : `${input.projectId} #${r.featureId} still waits for an answer (asked ${r.askedAt})`;
  return {
    event,
    project: input.projectId,
    feature: r.featureId,
    question: r.question,
    answerCommand: command,
    uiUrl: input.uiUrl ?? null,
    text: `autocoder: ${lead}: ${firstLine} | answer: ${command}`,
  };
}

export function runBody(
  event: Exclude<NotifyEvent, 'request.opened' | 'request.reminder'>,
  input: Pick<ProjectRunSettings, 'projectId' | 'uiUrl'>,
  message: string,
): NotificationBody {
  return {
    event,
    project: input.projectId,
    feature: null,
    question: null,
    answerCommand: null,
    uiUrl: input.uiUrl ?? null,
    text: `autocoder: ${input.projectId} ${event.slice('run.'.length)}: ${message}`,
  };
}

/** The run's side: which requests were announced, their reminders, the pause and the end. */
export class Notifier {
  private readonly reminding = new Set<number>();

  private readonly input: ProjectRunSettings;
  private readonly state: NotifyState;
  private readonly stillOpen: (requestId: number) => boolean;

  constructor(input: ProjectRunSettings, state: NotifyState, stillOpen: (requestId: number) => boolean) {
    this.input = input;
    this.state = state;
    this.stillOpen = stillOpen;
  }

  /** After each pass: announce new requests; keep one reminder timer per open request. */
  requests(open: readonly OpenRequest[]): void {
    if (!this.input.notifyUrl) return;
    for (const r of open) {
      if (!this.state.announced.includes(r.requestId)) {
        this.state.announced.push(r.requestId);
        this.send(requestBody('request.opened', this.input, r));
      }
      if (!this.reminding.has(r.requestId)) {
        this.reminding.add(r.requestId);
        void this.remind(r);
      }
    }
    // Answered ones need no memory beyond this point (the list is carried across continue-as-new).
    this.state.announced = this.state.announced.filter((id) => open.some((r) => r.requestId === id));
  }

  /** A pause by anything but the operator (quota, budget) is announced once per pause. */
  pause(reason: string | null): void {
    if (!this.input.notifyUrl) return;
    if (reason === null || reason === 'operator') {
      this.state.pauseNotified = false;
      return;
    }
    if (this.state.pauseNotified) return;
    this.state.pauseNotified = true;
    this.send(runBody('run.paused', this.input, `paused (${reason}): running agents go on, nothing new starts`));
  }

  /** The run's end, by a child that outlives it: starting it is all the run waits for. */
  async ended(outcome: RunOutcome, message: string): Promise<void> {
    const url = this.input.notifyUrl;
    const event =
      outcome === 'complete'
        ? 'run.completed'
        : outcome === 'blocked'
          ? 'run.blocked'
          : outcome === 'failed'
            ? 'run.failed'
            : null;
    if (!url || !event) return;
    try {
      await wf.startChild(notifyWebhook, {
        workflowId: notifyRunId(this.input.projectId, event, wf.uuid4()),
        args: [{ url, body: runBody(event, this.input, message) }],
        parentClosePolicy: wf.ParentClosePolicy.ABANDON,
        staticSummary: `${event} of ${this.input.projectId}`,
      });
    } catch (err) {
      this.failed(event, err);
    }
  }

  private async remind(r: OpenRequest): Promise<void> {
    let gap = this.input.remindAfterMs;
    for (;;) {
      await wf.sleep(gap);
      if (!this.stillOpen(r.requestId)) {
        this.reminding.delete(r.requestId);
        return;
      }
      this.send(requestBody('request.reminder', this.input, r));
      gap = Math.min(gap * 2, MAX_REMINDER_GAP_MS);
    }
  }

  private send(body: NotificationBody): void {
    const url = this.input.notifyUrl;
    if (!url) return;
    postNotification({ url, body }).then(
      () => void this.state.sent++,
      (err: unknown) => this.failed(body.event, err),
    );
  }

  private failed(event: string, err: unknown): void {
    const cause = err instanceof wf.ActivityFailure && err.cause ? err.cause : err;
    this.state.failed++;
    this.state.lastError = `${event}: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
}

/** Sends one notification with the activity's retries; the workflow a run's end leaves behind. */
export async function notifyWebhook(input: NotificationInput): Promise<void> {
  await postNotification(input);
}
