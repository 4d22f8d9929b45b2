/**
 * What an agent is started with, gathered before the spawn (superviseAgent): its workspace (the
 * feature's worktree under worktree isolation, else the project dir), a reviewer's note from a
 * rejected merge, the budget left, a person's latest answer, and the session to resume.
 */
import { buildLaunch, type AgentLaunch } from '../agents/adapters.ts';
import { lastSessionOf } from '../db/agent-usage.ts';
import { latestAnswer } from '../db/human-requests.ts';
import { reviewNoteOf } from '../db/merging.ts';
import { budgetLeft, type SpendConfig } from './budget.ts';
import type { SupervisionDeps } from './supervise.ts';
import type { AgentSpec } from './types.ts';
import { prepareWorkspace, WorkspaceSetupError } from './workspace.ts';

/** A git failure while making the workspace: retried by Temporal, unlike a bad setup command. */
export class RetryableSetup extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

export async function prepareLaunch(
  deps: Pick<SupervisionDeps, 'db' | 'databaseUrl' | 'stateDir' | 'temporalAddress' | 'temporalNamespace' | 'host'>,
  spendConfig: SpendConfig,
  spec: AgentSpec,
  runId: string,
): Promise<AgentLaunch> {
  const { db } = deps;
  const feature = spec.featureId !== null ? { projectId: spec.projectId, featureId: spec.featureId } : null;
  // Under worktree isolation the agent's cwd and AUTOCODER_PROJECT_DIR are its worktree.
  const workDir = await prepareWorkspace(spec, deps.stateDir, { db, hostId: deps.host, runId }).catch(
    (err: unknown) => {
      if (err instanceof WorkspaceSetupError) throw err;
      throw new RetryableSetup(err);
    },
  );
  const reviewNote =
    spec.isolation && spec.kind === 'coding' && feature
      ? await reviewNoteOf(db, feature.projectId, feature.featureId)
      : null;
  const humanAnswer = spec.kind === 'coding' && feature ? await latestAnswer(db, feature) : null;
  // The next attempt at a feature resumes the conversation of the last one.
  const resumeSessionId =
    spec.adapter === 'claude' && feature ? await lastSessionOf(db, { ...feature, kind: spec.kind }) : null;
  const launch = buildLaunch(
    { ...spec, projectDir: workDir, ...(reviewNote ? { reviewNote } : {}) },
    {
      runId,
      databaseUrl: deps.databaseUrl,
      stateDir: deps.stateDir,
      ...(deps.temporalAddress
        ? { temporalAddress: deps.temporalAddress, temporalNamespace: deps.temporalNamespace ?? 'default' }
        : {}),
      ...(spec.adapter === 'claude' ? { maxBudgetUsd: await budgetLeft(db, spendConfig, spec) } : {}),
      ...(humanAnswer ? { humanAnswer } : {}),
      ...(resumeSessionId ? { resumeSessionId } : {}),
    },
  );
  // The host the agent runs on (AUTOCODER_HOST_ID of its worker), for the agent and its tools.
  return { ...launch, env: { ...launch.env, AUTOCODER_HOST_ID: deps.host } };
}
