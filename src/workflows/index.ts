/** The worker's workflow bundle: every workflow type it serves. */
export { projectRun } from './project-run.ts';
export { agentRun } from './agent-run.ts';
export { quotaGovernor } from './quota-governor.ts';
export { notifyWebhook } from './notifications.ts';
export { windowRun } from './window-run.ts';
export { mergeQueue } from './merge-queue.ts';
