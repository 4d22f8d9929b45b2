/** The worker's workflow bundle: every workflow type it serves. */
export { projectRun } from './project-run.ts';
export { agentRun } from './agent-run.ts';
export { mergeQueue } from './merge-queue.ts';
