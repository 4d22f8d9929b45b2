/**
 * Work on many hosts (issue 23, item 3). The run's home host holds the project dir and works in
 * it; every other host keeps a bare clone of the run's repository (`--repo`, default the project
 * dir) under its state dir, fetches what it needs before it makes a worktree, and publishes a
 * coding attempt's branch to the repository as `autocoder/<project>/<feature>@<host>`: a name of
 * its own, never a branch checked out anywhere, so no host overwrites another's work and no push
 * touches the integration branch. The home host adopts a published branch into the feature's own
 * branch (before its next attempt there, or when the merge queue lands it) and deletes it.
 * Argv only, and `--` before every URL, so a repository address is never read as an option.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { featureBranch } from './names.ts';
import { git, gitOk } from './git.ts';
import { abortRebase } from './worktrees.ts';

/** The host's bare clone of a project's repository. */
export const cloneDir = (stateDir: string, projectId: string): string => join(stateDir, 'clones', `${projectId}.git`);

/** The branch a host publishes a feature's work under: `autocoder/<project>/<feature>@<host>`. */
export const publishedBranch = (projectId: string, featureId: number, hostId: string): string =>
  `${featureBranch(projectId, featureId)}@${hostId}`;

/** Where a clone keeps what it fetched of the repository's branch (never a branch of its own). */
export const fetchedRef = (branch: string): string => `refs/remotes/home/${branch}`;

/**
 * One git step at a time per clone in this process: agents starting together on a host would
 * otherwise race to make the clone and to update the same fetched refs (git refuses the loser).
 */
const cloneQueues = new Map<string, Promise<void>>();
async function oneAtATime<T>(clone: string, step: () => Promise<T>): Promise<T> {
  const before = cloneQueues.get(clone) ?? Promise.resolve();
  const result = before.then(step);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  cloneQueues.set(clone, tail);
  try {
    return await result;
  } finally {
    if (cloneQueues.get(clone) === tail) cloneQueues.delete(clone);
  }
}

/** The clone, made once (in a temporary dir renamed into place, so a half-made one is never used). */
export function ensureClone(stateDir: string, projectId: string): Promise<string> {
  const dir = cloneDir(stateDir, projectId);
  return oneAtATime(dir, async () => {
    if (existsSync(join(dir, 'HEAD'))) return dir;
    // Left by a process killed between the rename's two halves, or by hand: not a repository.
    rmSync(dir, { recursive: true, force: true });
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    mkdirSync(dirname(dir), { recursive: true });
    try {
      await git(dirname(dir), ['init', '--quiet', '--bare', tmp]);
      renameSync(tmp, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return dir;
  });
}

/**
 * Fetches these branches of the repository into the clone (fetchedRef), those it has; returns the
 * ones fetched. A branch the repository deleted is dropped from the clone too.
 */
export function fetchBranches(clone: string, repo: string, branches: readonly string[]): Promise<Set<string>> {
  return oneAtATime(clone, async () => {
    const wanted = [...new Set(branches)];
    const listed = await git(clone, ['ls-remote', '--heads', '--', repo, ...wanted.map((b) => `refs/heads/${b}`)]);
    const present = new Set(
      listed
        .split('\n')
        .map((line) => line.split('\t')[1]?.replace(/^refs\/heads\//, ''))
        .filter((b): b is string => b !== undefined && wanted.includes(b)),
    );
    if (present.size > 0) {
      const specs = [...present].map((b) => `+refs/heads/${b}:${fetchedRef(b)}`);
      await git(clone, ['fetch', '--quiet', '--no-tags', '--', repo, ...specs]);
    }
    for (const b of wanted) {
      if (!present.has(b) && (await gitOk(clone, ['rev-parse', '--verify', '--quiet', fetchedRef(b)]))) {
        await git(clone, ['update-ref', '-d', fetchedRef(b)]);
      }
    }
    return present;
  });
}

/** Pushes a local branch of the clone to the repository under `remoteBranch` (forced: the host's own name). */
export async function publishBranch(
  clone: string,
  repo: string,
  localBranch: string,
  remoteBranch: string,
): Promise<void> {
  await git(clone, ['push', '--quiet', '--force', '--', repo, `refs/heads/${localBranch}:refs/heads/${remoteBranch}`]);
}

/** The branches other hosts published of a feature in the project dir's repository. */
export async function publishedBranchesOf(repo: string, projectId: string, featureId: number): Promise<string[]> {
  const prefix = `refs/heads/${featureBranch(projectId, featureId)}@`;
  const out = await git(repo, ['for-each-ref', '--format=%(refname)', `${prefix}*`]);
  return out
    .split('\n')
    .filter((ref) => ref.startsWith(prefix))
    .map((ref) => ref.slice('refs/heads/'.length));
}

/**
 * Makes the feature's branch (and its worktree, when there is one) the commit `source`, then
 * deletes the published branch it came from: done once, so a retried step or a resolver's work
 * in the worktree is never reset again. `source` is a branch of `repo`.
 */
export async function adoptPublished(input: {
  repo: string;
  branch: string;
  worktree: string | null;
  source: string;
}): Promise<string> {
  const { repo, branch, worktree, source } = input;
  const commit = (await git(repo, ['rev-parse', '--verify', `refs/heads/${source}^{commit}`])).trim();
  if (worktree && existsSync(worktree)) {
    await abortRebase(worktree);
    await git(worktree, ['reset', '--quiet', '--hard', commit]);
    await git(worktree, ['clean', '--quiet', '-fd']);
  } else {
    await git(repo, ['branch', '--quiet', '--force', branch, commit]);
  }
  await git(repo, ['branch', '--quiet', '-D', source]);
  return commit;
}
