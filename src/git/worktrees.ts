/**
 * The git steps of worktree isolation, each safe to repeat: every one looks at the state first
 * (worktree registered, branch exists, rebase in progress, already merged) and does only what is
 * left, so an activity retried after a worker died half-way finishes the step instead of failing
 * on its own earlier work. Argv only; paths and branch names are built from ids (src/git/names.ts).
 */
import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GitError, git, gitOk, gitRaw, identityArgs, nulList } from './git.ts';

export type RepoInfo = {
  /** The dir is the top level of a git work tree with at least one commit. */
  usable: boolean;
  /** Why it is not usable, for `run` to print. */
  reason: string | null;
  /** The branch checked out there (null when HEAD is detached). */
  branch: string | null;
};

export async function repoInfo(dir: string): Promise<RepoInfo> {
  if (!existsSync(dir)) return { usable: false, reason: `${dir} does not exist yet`, branch: null };
  const top = await gitRaw(dir, ['rev-parse', '--show-toplevel']);
  if (top.code !== 0) return { usable: false, reason: `${dir} is not in a git work tree`, branch: null };
  if (realpathSync(top.stdout.trim()) !== realpathSync(dir)) {
    return {
      usable: false,
      reason: `${dir} is not the top level of its git work tree (${top.stdout.trim()})`,
      branch: null,
    };
  }
  if (!(await gitOk(dir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']))) {
    return { usable: false, reason: `the git repository at ${dir} has no commit yet`, branch: null };
  }
  const branch = await gitRaw(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return { usable: true, reason: null, branch: branch.code === 0 ? branch.stdout.trim() : null };
}

/** Tracked files with uncommitted changes (staged or not). */
export async function dirtyTrackedFiles(dir: string): Promise<string[]> {
  const out = await git(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=no']);
  // Each entry is "XY path" (a rename adds its source as the next entry, which we skip).
  const entries = nulList(out);
  const files: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as string;
    files.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++;
  }
  return files;
}

/** Untracked files git does not ignore: a worktree will not have them. */
export async function untrackedFiles(dir: string): Promise<string[]> {
  return nulList(await git(dir, ['ls-files', '--others', '--exclude-standard', '-z']));
}

export const branchExists = (repo: string, branch: string): Promise<boolean> =>
  gitOk(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);

export async function headOf(repo: string, ref: string): Promise<string> {
  return (await git(repo, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
}

export type WorktreeEntry = { path: string; head: string | null; branch: string | null; detached: boolean };

/** `git worktree list`, parsed; the main work tree is the first entry. */
export async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  const out = await git(repo, ['worktree', 'list', '--porcelain', '-z']);
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | null = null;
  for (const field of out.split('\0')) {
    if (field.startsWith('worktree ')) {
      current = { path: field.slice('worktree '.length), head: null, branch: null, detached: false };
      entries.push(current);
    } else if (current && field.startsWith('HEAD ')) current.head = field.slice(5);
    else if (current && field.startsWith('branch ')) current.branch = field.slice(7).replace(/^refs\/heads\//, '');
    else if (current && field === 'detached') current.detached = true;
  }
  return entries;
}

const samePath = (a: string, b: string): boolean => {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
};

async function registered(repo: string, path: string): Promise<WorktreeEntry | undefined> {
  return (await listWorktrees(repo)).find((w) => samePath(w.path, path));
}

/**
 * The feature's worktree on its branch: reused when it is there, re-attached when only the branch
 * is (its worktree was pruned), else made from `base` (the integration head). `created` says
 * whether this call made the directory, so setup runs once per worktree.
 */
export async function ensureFeatureWorktree(input: {
  repo: string;
  path: string;
  branch: string;
  base: string;
}): Promise<{ created: boolean; head: string }> {
  const { repo, path, branch, base } = input;
  const found = await registered(repo, path);
  if (found && found.branch === branch && existsSync(path)) return { created: false, head: await headOf(path, 'HEAD') };
  // A half-made worktree (a worker killed inside `worktree add`) or one a person deleted by hand.
  if (found || existsSync(path)) {
    await gitRaw(repo, ['worktree', 'remove', '--force', path]);
    rmSync(path, { recursive: true, force: true });
  }
  await git(repo, ['worktree', 'prune']);
  mkdirSync(dirname(path), { recursive: true });
  if (await branchExists(repo, branch)) await git(repo, ['worktree', 'add', '--quiet', path, branch]);
  else await git(repo, ['worktree', 'add', '--quiet', '-b', branch, path, base]);
  return { created: true, head: await headOf(path, 'HEAD') };
}

/** A detached worktree at `commit` (testing agents: they read the integration head, never merge). */
export async function ensureDetachedWorktree(input: { repo: string; path: string; commit: string }): Promise<void> {
  const { repo, path, commit } = input;
  const found = await registered(repo, path);
  if (found && existsSync(path)) return;
  if (found || existsSync(path)) rmSync(path, { recursive: true, force: true });
  await git(repo, ['worktree', 'prune']);
  mkdirSync(dirname(path), { recursive: true });
  await git(repo, ['worktree', 'add', '--quiet', '--detach', path, commit]);
}

/**
 * Commits whatever the agent left in its worktree (untracked files included, ignored ones not),
 * with the message on stdin, never through a shell. Nothing to commit is fine.
 */
export async function commitLeftovers(worktree: string, message: string): Promise<{ committed: boolean }> {
  if (await rebaseInProgress(worktree)) return { committed: false };
  await git(worktree, ['add', '--all']);
  if (await indexMatchesHead(worktree)) return { committed: false };
  const args = [...(await identityArgs(worktree)), 'commit', '--quiet', '--no-verify', '--file', '-'];
  const result = await gitRaw(worktree, args, { input: message });
  if (result.code === 0) return { committed: true };
  // Another step of the same feature (an attempt whose heartbeat timed out on a loaded machine)
  // may have committed the same files between our check and our commit: nothing is lost.
  if (await indexMatchesHead(worktree)) return { committed: false };
  throw new GitError(args, worktree, result.code, `${result.stderr}${result.stdout}`);
}

/** True when the staged tree is HEAD's; a git error (not a difference) throws. */
async function indexMatchesHead(worktree: string): Promise<boolean> {
  const args = ['diff', '--cached', '--quiet'];
  const result = await gitRaw(worktree, args);
  if (result.code === 0 || result.code === 1) return result.code === 0;
  throw new GitError(args, worktree, result.code, result.stderr);
}

export async function rebaseInProgress(worktree: string): Promise<boolean> {
  const out = await git(worktree, [
    'rev-parse',
    '--path-format=absolute',
    '--git-path',
    'rebase-merge',
    '--git-path',
    'rebase-apply',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .some((path) => existsSync(path));
}

/** Files with unresolved conflicts in a worktree. */
export async function conflictedFiles(worktree: string): Promise<string[]> {
  return nulList(await git(worktree, ['diff', '--name-only', '--diff-filter=U', '-z']));
}

export type RebaseResult = { state: 'rebased'; head: string } | { state: 'conflict'; files: string[]; output: string };

/**
 * Rebases the worktree's branch onto `onto`. Already on it: nothing to do. A rebase left in
 * progress (a conflict, or a worker killed mid-rebase) is reported as a conflict for the resolver,
 * not started again over itself.
 */
export async function rebaseOnto(worktree: string, onto: string): Promise<RebaseResult> {
  if (await rebaseInProgress(worktree)) {
    return { state: 'conflict', files: await conflictedFiles(worktree), output: 'a rebase is in progress' };
  }
  if (await gitOk(worktree, ['merge-base', '--is-ancestor', onto, 'HEAD'])) {
    return { state: 'rebased', head: await headOf(worktree, 'HEAD') };
  }
  const ids = await identityArgs(worktree);
  const result = await gitRaw(worktree, [...ids, 'rebase', '--quiet', onto]);
  if (result.code === 0) return { state: 'rebased', head: await headOf(worktree, 'HEAD') };
  if (await rebaseInProgress(worktree)) {
    return { state: 'conflict', files: await conflictedFiles(worktree), output: `${result.stdout}${result.stderr}` };
  }
  throw new Error(`git rebase ${onto} failed in ${worktree}: ${`${result.stderr}${result.stdout}`.trim()}`);
}

export async function abortRebase(worktree: string): Promise<void> {
  if (await rebaseInProgress(worktree)) await git(worktree, ['rebase', '--abort']);
}

/** Whether `commit` is already in `branch`'s history (a land that happened before a crash). */
export const isMerged = (repo: string, commit: string, branch: string): Promise<boolean> =>
  gitOk(repo, ['merge-base', '--is-ancestor', commit, `refs/heads/${branch}`]);

/**
 * Moves the integration branch to `commit`, by fast-forward only, and the project dir's checkout
 * with it when that branch is checked out there. Already there (or past it): nothing to do. A
 * commit that is not a descendant is refused: the branch only ever moves forward.
 */
export async function fastForward(input: {
  repo: string;
  branch: string;
  commit: string;
}): Promise<'moved' | 'already'> {
  const { repo, branch, commit } = input;
  // A git child outlives a SIGKILLed worker and finishes its merge, so a retry finds it merged.
  if (await isMerged(repo, commit, branch)) return 'already';
  if (!(await gitOk(repo, ['merge-base', '--is-ancestor', `refs/heads/${branch}`, commit]))) {
    throw new Error(
      `${commit.slice(0, 12)} is not a fast-forward of ${branch}; it must be rebased onto ${branch} first`,
    );
  }
  const checkedOut = (await gitRaw(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim() === branch;
  if (checkedOut) await git(repo, ['merge', '--ff-only', '--quiet', commit]);
  else await git(repo, ['update-ref', `refs/heads/${branch}`, commit]);
  return 'moved';
}

/** Removes a worktree (and its branch unless `keepBranch`); what is already gone is fine. */
export async function removeWorktree(input: {
  repo: string;
  path: string;
  branch: string | null;
  keepBranch: boolean;
}): Promise<void> {
  const { repo, path, branch, keepBranch } = input;
  if (await registered(repo, path)) await gitRaw(repo, ['worktree', 'remove', '--force', '--force', path]);
  rmSync(path, { recursive: true, force: true });
  await git(repo, ['worktree', 'prune']);
  if (branch && !keepBranch && (await branchExists(repo, branch))) await git(repo, ['branch', '--quiet', '-D', branch]);
}

/** `git diff base...branch` (what the branch adds since it left base), with a stat header. */
export async function branchDiff(repo: string, base: string, branch: string): Promise<string> {
  const range = `refs/heads/${base}...refs/heads/${branch}`;
  const stat = await git(repo, ['diff', '--stat', range]);
  const patch = await git(repo, ['diff', range]);
  return `${stat}\n${patch}`;
}
