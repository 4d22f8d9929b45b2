/**
 * Where a feature's work lives under worktree isolation, from ids only (never from feature text):
 * the worktree `<state>/worktrees/<project>/<feature>` on the branch `autocoder/<project>/<feature>`,
 * and a testing agent's detached worktree `<state>/worktrees/<project>/testing-<feature>-<attempt>`.
 */
import { join } from 'node:path';

export const worktreesRoot = (stateDir: string, projectId: string): string => join(stateDir, 'worktrees', projectId);

export const featureWorktreePath = (stateDir: string, projectId: string, featureId: number): string =>
  join(worktreesRoot(stateDir, projectId), String(featureId));

export const testingWorktreePath = (stateDir: string, projectId: string, featureId: number, attempt: number): string =>
  join(worktreesRoot(stateDir, projectId), `testing-${featureId}-${attempt}`);

export const featureBranch = (projectId: string, featureId: number): string => `autocoder/${projectId}/${featureId}`;

/** The feature a branch of ours belongs to; null for any other branch. */
export function featureOfBranch(projectId: string, branch: string): number | null {
  const prefix = `autocoder/${projectId}/`;
  if (!branch.startsWith(prefix)) return null;
  const rest = branch.slice(prefix.length);
  return /^[1-9]\d*$/.test(rest) ? Number(rest) : null;
}

/** The message of the commit that keeps what an agent left uncommitted in its worktree. */
export const leftoverMessage = (featureId: number, featureName: string): string =>
  `feature #${featureId}: ${featureName.replace(/\s+/g, ' ').trim()}`;
