/**
 * Kept feature branches (`run --keep-branches`) that retention may delete: `autocoder/<project>/<id>`
 * of a feature that passes, whose tip is older than the cutoff, is in the history of a branch of
 * the project's own (so its work has landed), and is checked out in no worktree. Deletion is a
 * compare-and-delete of the ref at the tip that was checked, so a branch that moved is kept.
 */
import { git, gitRaw } from './git.ts';
import { featureOfBranch } from './names.ts';
import { listWorktrees } from './worktrees.ts';

export type LandedBranch = { branch: string; featureId: number; tip: string; committedAt: Date };
export type KeptBranch = { branch: string; reason: string };

export async function landedBranchesBefore(input: {
  repo: string;
  projectId: string;
  /** Ids of the project's features that pass. */
  passing: ReadonlySet<number>;
  before: Date;
}): Promise<{ removable: LandedBranch[]; kept: KeptBranch[] }> {
  const { repo, projectId } = input;
  const refs = await git(repo, [
    'for-each-ref',
    '--format=%(refname:short)%00%(objectname)%00%(committerdate:unix)',
    `refs/heads/autocoder/${projectId}/`,
  ]);
  const checkedOut = new Set((await listWorktrees(repo)).map((w) => w.branch).filter((b) => b !== null));
  const removable: LandedBranch[] = [];
  const kept: KeptBranch[] = [];
  for (const line of refs.split('\n').filter(Boolean)) {
    const [branch = '', tip = '', unix = '0'] = line.split('\0');
    const featureId = featureOfBranch(projectId, branch);
    const committedAt = new Date(Number(unix) * 1000);
    if (featureId === null) continue;
    if (!input.passing.has(featureId)) kept.push({ branch, reason: 'its feature does not pass' });
    else if (committedAt >= input.before) kept.push({ branch, reason: 'newer than the cutoff' });
    else if (checkedOut.has(branch)) kept.push({ branch, reason: 'checked out in a worktree' });
    else if (!(await landedIn(repo, projectId, tip)))
      kept.push({ branch, reason: 'its tip is in no other branch (not landed)' });
    else removable.push({ branch, featureId, tip, committedAt });
  }
  return { removable, kept };
}

/** Whether `commit` is in the history of a local branch outside `autocoder/<project>/`. */
async function landedIn(repo: string, projectId: string, commit: string): Promise<boolean> {
  const out = await git(repo, ['for-each-ref', '--format=%(refname)', '--contains', commit, 'refs/heads/']);
  return out
    .split('\n')
    .filter(Boolean)
    .some((ref) => !ref.startsWith(`refs/heads/autocoder/${projectId}/`));
}

/** Deletes the branch only if it still points at `tip`; false when it moved or is gone. */
export async function deleteBranchAt(repo: string, branch: string, tip: string): Promise<boolean> {
  const result = await gitRaw(repo, ['update-ref', '-d', `refs/heads/${branch}`, tip]);
  return result.code === 0;
}
