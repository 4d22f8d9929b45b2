/**
 * Starting one agentRun child for a claim: its spec, its summary and search attributes (so the UI
 * lists "coding #12 Login form" under its project) and ABANDON, so it outlives continue-as-new.
 */
import * as wf from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { AgentSpec, Claim } from '../activities/types.ts';
import { agentLabel } from './agent-label.ts';
import { agentRun } from './agent-run.ts';
import type { ProjectRunSettings } from './messages.ts';
import { searchAttributes } from './search-attributes.ts';

export type StartAgentOptions = {
  parentWorkflowId: string;
  timeoutMs: number;
  claimNext?: AgentSpec['claimNext'];
  budget?: AgentSpec['budget'];
};

export async function startAgentRun(
  input: ProjectRunSettings,
  claim: Claim,
  options: StartAgentOptions,
): Promise<void> {
  const featureId = claim.kind === 'initializer' ? null : claim.featureId;
  // A batch shows as one agent with its features: "coding #4 +#5 +#7 <first's name>".
  const label = `${agentLabel(claim.kind, featureId, claim.featureIds)} ${claim.featureName}`;
  const spec: AgentSpec = {
    projectId: input.projectId,
    projectDir: input.projectDir,
    kind: claim.kind,
    featureId,
    ...(claim.featureIds ? { featureIds: claim.featureIds } : {}),
    featureName: claim.featureName,
    attempt: claim.attempt,
    adapter: input.agent,
    agentCmd: input.agentCmd,
    model: input.model,
    yolo: input.yolo,
    simulate: input.simulate,
    timeoutMs: input.agentTimeoutMs ?? options.timeoutMs,
    hostLostAfterMs: input.hostLostAfterMs,
    ...(input.homeHost ? { homeHost: input.homeHost } : {}),
    safety: input.agentSafety,
    ...(input.isolation?.mode === 'worktree' && claim.kind !== 'initializer' ? { isolation: input.isolation } : {}),
    ...(options.claimNext ? { claimNext: options.claimNext } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
  };
  try {
    await wf.startChild(agentRun, {
      workflowId: claim.workflowId,
      args: [{ parentWorkflowId: options.parentWorkflowId, spec }],
      parentClosePolicy: wf.ParentClosePolicy.ABANDON,
      staticSummary: label.slice(0, 200),
      typedSearchAttributes: [
        { key: searchAttributes.project, value: input.projectId },
        { key: searchAttributes.kind, value: claim.kind },
        ...(featureId === null ? [] : [{ key: searchAttributes.feature, value: featureId }]),
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      // Already running under this claim (a replayed start after a crash): adopt it.
      wf.log.info('agent run already started; adopting', { workflowId: claim.workflowId });
      return;
    }
    throw err;
  }
}
