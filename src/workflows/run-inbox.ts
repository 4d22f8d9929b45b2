/**
 * What reaches a project run from outside, kept as state its loop reads: agent reports, operator
 * signals and updates, and the poll timer. Handlers only record and wake the loop
 * (src/workflows/project-run.ts), which acts on all of it in its next pass.
 */
import * as wf from '@temporalio/workflow';
import {
  agentFinishedSignal,
  checkRange,
  describeIssues,
  drainSignal,
  limits,
  pauseSignal,
  refreshSignal,
  resumeSignal,
  retryFeatureSignal,
  schemas,
  setConcurrencyUpdate,
  setTestingRatioUpdate,
  statusQuery,
  stopFeatureSignal,
  stopSignal,
  type AgentReport,
  type ProjectRunSettings,
  type ProjectRunStatus,
} from './messages.ts';

export abstract class RunInbox {
  protected readonly input: ProjectRunSettings;
  protected readonly reports: AgentReport[] = [];
  protected readonly stopFeatureRequests: number[] = [];
  protected readonly retryRequests: number[] = [];
  protected concurrency: number;
  protected testingRatio: number;
  protected paused: boolean;
  protected draining: boolean;
  protected stopRequested = false;
  protected woken = true;
  /** Something other than a report that found nothing else ready woke the loop: the next pass may claim. */
  protected passDue = true;
  /** The poll timer fired since the last scheduling pass. */
  protected polled = false;

  constructor(input: ProjectRunSettings) {
    this.input = input;
    this.concurrency = input.carried?.concurrency ?? input.concurrency;
    this.testingRatio = input.carried?.testingRatio ?? input.testingRatio;
    this.paused = input.carried?.paused ?? false;
    this.draining = input.carried?.draining ?? false;
    this.installHandlers();
  }

  protected abstract status(): ProjectRunStatus;

  protected settings(): ProjectRunStatus['settings'] {
    const { maxAgents, yolo, agent, maxRetries } = this.input;
    return { concurrency: this.concurrency, testingRatio: this.testingRatio, maxAgents, yolo, agent, maxRetries };
  }

  /** One poll timer for the whole run (patch free-running-poll), not one per pass. */
  protected async pollForever(): Promise<void> {
    for (;;) {
      await wf.sleep(this.input.pollIntervalMs);
      this.polled = true;
      this.woken = this.passDue = true;
    }
  }

  private installHandlers(): void {
    const wake = () => {
      this.woken = this.passDue = true;
    };
    wf.setHandler(stopSignal, () => {
      this.stopRequested = true;
      wake();
    });
    wf.setHandler(drainSignal, () => {
      this.draining = true;
      wake();
    });
    wf.setHandler(pauseSignal, () => {
      this.paused = true;
      wake();
    });
    wf.setHandler(resumeSignal, () => {
      this.paused = false;
      wake();
    });
    wf.setHandler(refreshSignal, wake);
    wf.setHandler(stopFeatureSignal, (featureId) => {
      if (schemas().featureIdArg.safeParse(featureId).success) {
        this.stopFeatureRequests.push(featureId);
        wake();
      } else wf.log.warn('stopFeature ignored: feature id must be an integer >= 1', { featureId });
    });
    wf.setHandler(retryFeatureSignal, (featureId) => {
      if (schemas().featureIdArg.safeParse(featureId).success) {
        this.retryRequests.push(featureId);
        wake();
      } else wf.log.warn('retryFeature ignored: feature id must be an integer >= 1', { featureId });
    });
    wf.setHandler(agentFinishedSignal, (report) => {
      const parsed = schemas().agentReport.safeParse(report);
      if (!parsed.success) {
        wf.log.warn('agentFinished ignored: malformed report', { error: describeIssues(parsed.error) });
        return;
      }
      this.reports.push(parsed.data);
      this.woken = true;
      if (parsed.data.moreReady !== false) this.passDue = true;
    });
    wf.setHandler(statusQuery, () => this.status());
    wf.setHandler(
      setConcurrencyUpdate,
      (n) => {
        this.concurrency = n;
        wake();
        return this.settings();
      },
      {
        validator: (n) => checkRange('concurrency', n, limits.concurrency.min, this.input.maxConcurrency),
      },
    );
    wf.setHandler(
      setTestingRatioUpdate,
      (n) => {
        this.testingRatio = n;
        wake();
        return this.settings();
      },
      {
        validator: (n) => checkRange('testingRatio', n, limits.testingRatio.min, limits.testingRatio.max),
      },
    );
  }
}
