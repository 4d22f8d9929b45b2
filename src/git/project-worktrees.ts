/**
 * What worktree isolation has on disk for one project: the worktrees under
 * `<state>/worktrees/<project>/` and the `autocoder/<project>/*` branches, each with its feature's
 * state, for `autocoder worktrees list|prune` and for `stop` to say what it left in place.
 */
import { basename, dirname } from 'node:path';
import type { Kysely } from 'kysely';
import { listFeatures } from '../db/features.ts';
import type { Database } from '../db/tables.ts';
import { git } from './git.ts';
import { featureOfBranch, worktreesRoot } from './names.ts';
import { listWorktrees, removeWorktree } from './worktrees.ts';

export type ProjectWorktree = {
  featureId: number | null;
  /** `feature` (its own branch) or `testing` (a detached worktree of a testing agent). */
  kind: 'feature' | 'testing';
  /** The feature's state, or `gone` when no feature has that id. */
  state: string;
  testingNow: boolean;
  path: string | null;
  branch: string | null;
};

type Where = { projectId: string; projectDir: string; stateDir: string; maxRetries?: number };

export async function projectWorktrees(db: Kysely<Database>, where: Where): Promise<ProjectWorktree[]> {
  const root = worktreesRoot(where.stateDir, where.projectId);
  const features = new Map(
    (await listFeatures(db, where.projectId, where.maxRetries ? { maxRetries: where.maxRetries } : {})).map((f) => [
      f.id,
      f,
    ]),
  );
  const describe = (featureId: number | null) => {
    const f = featureId === null ? undefined : features.get(featureId);
    return { state: f?.state ?? 'gone', testingNow: f?.testingInProgress ?? false };
  };
  const byBranch = new Map<string, ProjectWorktree>();
  const list: ProjectWorktree[] = [];
  for (const w of await listWorktrees(where.projectDir)) {
    if (dirname(w.path) !== root) continue;
    const name = basename(w.path);
    const testing = /^testing-(\d+)-\d+$/.exec(name);
    const featureId = testing ? Number(testing[1]) : /^\d+$/.test(name) ? Number(name) : null;
    const entry: ProjectWorktree = {
      featureId,
      kind: testing ? 'testing' : 'feature',
      ...describe(featureId),
      path: w.path,
      branch: w.branch,
    };
    list.push(entry);
    if (w.branch) byBranch.set(w.branch, entry);
  }
  const refs = await git(where.projectDir, [
    'for-each-ref',
    '--format=%(refname:short)',
    `refs/heads/autocoder/${where.projectId}/`,
  ]);
  for (const branch of refs.split('\n').filter(Boolean)) {
    if (byBranch.has(branch)) continue;
    const featureId = featureOfBranch(where.projectId, branch);
    list.push({ featureId, kind: 'feature', ...describe(featureId), path: null, branch });
  }
  return list.sort((a, b) => (a.featureId ?? 0) - (b.featureId ?? 0));
}

/**
 * Removes what no feature needs: worktrees and branches of features that pass (landed) or are
 * gone, testing worktrees no tester uses, and with `failed` those of failed features. Never those
 * of features running, merging or pending (a retry finds its earlier work there).
 */
export async function pruneWorktrees(
  list: readonly ProjectWorktree[],
  where: Where,
  options: { failed: boolean },
): Promise<string[]> {
  const removed: string[] = [];
  for (const w of list) {
    const removable =
      w.kind === 'testing'
        ? !w.testingNow
        : w.state === 'passing' || w.state === 'gone' || (options.failed && w.state === 'failed');
    if (!removable) continue;
    await removeWorktree({
      repo: where.projectDir,
      path: w.path ?? `${worktreesRoot(where.stateDir, where.projectId)}/${w.featureId ?? 'none'}`,
      branch: w.branch,
      keepBranch: false,
    });
    removed.push(w.path ?? w.branch ?? '?');
  }
  await git(where.projectDir, ['worktree', 'prune']);
  return removed;
}
