/**
 * People in the loop of a project run: the answerFeature update (validated against the open
 * requests the run's last pass read, stored by an activity, then the loop wakes and the feature is
 * ready again). The run waits for an answer in phase waiting_for_human with no timer running
 * (project-run.ts), so a wait of days costs no history.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { RunActivities } from '../activities/types.ts';
import { checkAnswer, type AnswerInput } from './human-answer.ts';
import { answerFeatureUpdate, describeIssues, schemas } from './messages.ts';
import { wake, type RunState } from './run-state.ts';
import { failureTypes } from './vocabulary.ts';

const { storeAnswer } = wf.proxyLocalActivities<RunActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '200ms',
    maximumInterval: '10s',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [failureTypes.invalidInput],
  },
});

/** Why an answer is refused before it reaches the history, or null. */
export function answerProblem(s: RunState, raw: unknown): string | null {
  const parsed = schemas().answer.safeParse(raw);
  if (!parsed.success) return `invalid answer: ${describeIssues(parsed.error)}`;
  const answer = parsed.data;
  return checkAnswer(s.awaiting.find((r) => r.featureId === answer.featureId) ?? null, answer);
}

export function installHumanHandlers(s: RunState): void {
  wf.setHandler(
    answerFeatureUpdate,
    async (answer: AnswerInput) => {
      let stored;
      try {
        stored = await storeAnswer({ projectId: s.input.projectId, answer });
      } catch (err) {
        // The store's own check (a request answered meanwhile): the update fails, the run goes on.
        const cause = err instanceof wf.ActivityFailure ? err.cause : err;
        throw ApplicationFailure.create({
          type: failureTypes.invalidInput,
          nonRetryable: true,
          message: cause instanceof Error ? cause.message : String(cause),
        });
      }
      s.awaiting = s.awaiting.filter((r) => r.requestId !== stored.requestId);
      wake(s, 'operator');
      return stored;
    },
    {
      validator: (answer: AnswerInput) => {
        const problem = answerProblem(s, answer);
        if (problem) throw new RangeError(problem);
      },
    },
  );
}
