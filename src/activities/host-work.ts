/**
 * A feature's work as it moves between hosts (issue 23, item 3; the git side is
 * src/git/host-clone.ts). Only worktree isolation with a home host set takes part: a run without
 * one works in the project dir on every host, as on one machine.
 * - Before a coding attempt, the newest work on the feature is its last attempt's, wherever that
 *   ran (agent_runs.host). The home host adopts what another host published; another host fetches
 *   it (the published branch, or the home host's feature branch) and starts from it.
 * - After a coding attempt on another host, its worktree is committed, published as
 *   `autocoder/<project>/<feature>@<host>` and removed: the repository holds the work from then on.
 *   At home it is committed, so the next attempt elsewhere starts from all of it.
 * - The merge queue (on the home host) adopts the published branch of the feature's last attempt
 *   before it rebases, waiting while that agent still runs.
 */
import { existsSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { lastCodingRun } from '../db/agent-runs.ts';
import type { Database } from '../db/tables.ts';
import { featureBranch, featureWorktreePath, leftoverMessage } from '../git/names.ts';
import {
  adoptPublished,
  cloneDir,
  ensureClone,
  fetchBranches,
  fetchedRef,
  publishBranch,
  publishedBranch,
} from '../git/host-clone.ts';
import { branchExists, commitLeftovers, removeWorktree } from '../git/worktrees.ts';
import type { AgentSpec } from './types.ts';

const PUBLISH_ATTEMPTS = 3;

type Place = { stateDir: string; hostId: string };
type WorktreeSpec = AgentSpec & { isolation: NonNullable<AgentSpec['isolation']>; featureId: number };

/** True when this host is not the run's home under worktree isolation: it works in its own clone. */
export function worksInClone(spec: AgentSpec, hostId: string): spec is WorktreeSpec {
  return spec.isolation?.mode === 'worktree' && spec.featureId !== null && !!spec.homeHost && spec.homeHost !== hostId;
}

/** The address other hosts fetch from and push to: --repo, else the project dir. */
const repoOf = (spec: WorktreeSpec): string => spec.isolation.repo ?? spec.projectDir;

/** The host's clone with the integration branch fetched, and the ref that branch is at there. */
export async function cloneWithIntegration(spec: WorktreeSpec, stateDir: string) {
  const clone = await ensureClone(stateDir, spec.projectId);
  const branch = spec.isolation.branch;
  const fetched = await fetchBranches(clone, repoOf(spec), [branch]);
  if (!fetched.has(branch)) throw new Error(`the repository ${repoOf(spec)} has no branch ${branch} to work from`);
  return { clone, integration: fetchedRef(branch) };
}

/**
 * In a clone: the ref of the feature's newest work to start an attempt from (the last attempt's
 * published branch, else the home host's feature branch), or null when there is none.
 */
export async function earlierWorkForClone(
  db: Kysely<Database>,
  spec: WorktreeSpec,
  clone: string,
  runId: string,
): Promise<string | null> {
  const last = await lastCodingRun(db, { projectId: spec.projectId, featureId: spec.featureId, exceptId: runId });
  if (!last) return null;
  const own = featureBranch(spec.projectId, spec.featureId);
  const candidates =
    last.host === spec.homeHost ? [own] : [publishedBranch(spec.projectId, spec.featureId, last.host), own];
  const fetched = await fetchBranches(clone, repoOf(spec), candidates);
  const from = candidates.find((b) => fetched.has(b));
  return from ? fetchedRef(from) : null;
}

/**
 * On the home host: when the feature's last attempt ran elsewhere and published its branch, makes
 * it the feature's branch (and worktree). `pending` while that attempt still runs (it publishes as
 * it ends); `lost` when it ended without publishing and the home host has no branch of it either.
 */
export async function adoptLastAttempt(
  db: Kysely<Database>,
  input: {
    projectId: string;
    projectDir: string;
    featureId: number;
    homeHost: string;
    worktree: string;
    exceptId?: string;
  },
): Promise<{ state: 'here' | 'adopted' } | { state: 'pending' | 'lost'; host: string }> {
  const { projectId, projectDir, featureId } = input;
  const last = await lastCodingRun(db, {
    projectId,
    featureId,
    ...(input.exceptId ? { exceptId: input.exceptId } : {}),
  });
  if (!last || last.host === input.homeHost) return { state: 'here' };
  const source = publishedBranch(projectId, featureId, last.host);
  const branch = featureBranch(projectId, featureId);
  if (await branchExists(projectDir, source)) {
    await adoptPublished({ repo: projectDir, branch, worktree: input.worktree, source });
    return { state: 'adopted' };
  }
  if (!last.ended) return { state: 'pending', host: last.host };
  // Adopted before (a retried step), or never published (the host went away first).
  return (await branchExists(projectDir, branch)) ? { state: 'here' } : { state: 'lost', host: last.host };
}

/**
 * After a coding attempt on a host other than home: commits what the agent left, publishes the
 * branch and removes the worktree. A failed push is retried, then left: the worktree stays for
 * this host's next attempt, and the merge queue sends the feature back if it waits for it.
 */
export async function publishAttempt(spec: AgentSpec, place: Place, log: (line: string) => void): Promise<void> {
  if (spec.kind !== 'coding' || spec.featureId === null || spec.isolation?.mode !== 'worktree' || !spec.homeHost)
    return;
  const path = featureWorktreePath(place.stateDir, spec.projectId, spec.featureId);
  if (!existsSync(path)) return;
  if (!worksInClone(spec, place.hostId)) {
    // At home the branch is already in the repository; committed, another host's next attempt gets all of it.
    await commitLeftovers(path, leftoverMessage(spec.featureId, spec.featureName)).catch((err: unknown) => {
      log(`feature #${spec.featureId}: could not commit what the agent left: ${(err as Error).message}`);
    });
    return;
  }
  const clone = cloneDir(place.stateDir, spec.projectId);
  const branch = featureBranch(spec.projectId, spec.featureId);
  const target = publishedBranch(spec.projectId, spec.featureId, place.hostId);
  for (let attempt = 1; ; attempt++) {
    try {
      await commitLeftovers(path, leftoverMessage(spec.featureId, spec.featureName));
      await publishBranch(clone, repoOf(spec), branch, target);
      break;
    } catch (err) {
      if (attempt >= PUBLISH_ATTEMPTS) {
        log(`feature #${spec.featureId}: could not publish ${target} to ${repoOf(spec)}: ${(err as Error).message}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
  await removeWorktree({ repo: clone, path, branch, keepBranch: false });
}
