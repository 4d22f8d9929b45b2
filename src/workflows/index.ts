/** The worker's workflow bundle: every workflow type it serves. */
import { projectRun } from './project-run.ts';
import { agentRun } from './agent-run.ts';
import { quotaGovernor } from './quota-governor.ts';
import { notifyWebhook } from './notifications.ts';
import { windowRun } from './window-run.ts';
import { mergeQueue } from './merge-queue.ts';
import { declareVersioning, versioningBehaviors } from './versioning.ts';

export { projectRun, agentRun, quotaGovernor, notifyWebhook, windowRun, mergeQueue };

// Under Worker Versioning only; see versioning.ts for which type is pinned and why.
declareVersioning(agentRun, versioningBehaviors.agentRun);
declareVersioning(notifyWebhook, versioningBehaviors.notifyWebhook);
declareVersioning(projectRun, versioningBehaviors.projectRun);
declareVersioning(mergeQueue, versioningBehaviors.mergeQueue);
declareVersioning(quotaGovernor, versioningBehaviors.quotaGovernor);
declareVersioning(windowRun, versioningBehaviors.windowRun);
