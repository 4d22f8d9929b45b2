/**
 * Where an agent works under worktree isolation, made by superviseAgent before the spawn (so a
 * retried activity makes it again or finds it): a coding agent gets its feature's worktree,
 * made from the integration head at the first claim and kept across attempts (a later attempt is
 * first rebased onto the current head); a testing agent gets a detached worktree of the
 * integration head, removed when it ends. The initializer and resolvers work where their spec says.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/tables.ts';
import { cloneDir } from '../git/host-clone.ts';
import { adoptLastAttempt, cloneWithIntegration, earlierWorkForClone, worksInClone } from './host-work.ts';
import type { AgentSpec } from './types.ts';
import { featureBranch, featureWorktreePath, leftoverMessage, testingWorktreePath } from '../git/names.ts';

export { leftoverMessage };
import { git } from '../git/git.ts';
import {
  abortRebase,
  commitLeftovers,
  ensureDetachedWorktree,
  ensureFeatureWorktree,
  headOf,
  rebaseOnto,
  removeWorktree,
} from '../git/worktrees.ts';

const SETUP_MARKER = 'autocoder-setup-done';
const SETUP_TIMEOUT_MS = 30 * 60_000;

/** A worktree's setup (--worktree-setup, --worktree-copy) failed: the attempt cannot start. */
export class WorkspaceSetupError extends Error {
  override name = 'WorkspaceSetupError';
}

/** Where superviseAgent runs: this host, its database, and the agent run (src/activities/host-work.ts). */
export type WorkspacePlace = { db: Kysely<Database>; hostId: string; runId: string };

/** The directory the agent works in: the project dir, or its worktree under isolation. */
export async function prepareWorkspace(spec: AgentSpec, stateDir: string, place?: WorkspacePlace): Promise<string> {
  const iso = spec.isolation;
  if (!iso || iso.mode !== 'worktree' || spec.featureId === null) return spec.projectDir;
  if (spec.kind !== 'testing' && spec.kind !== 'coding') return spec.projectDir;
  const inClone = place !== undefined && worksInClone(spec, place.hostId);
  // Another host than home works in its clone, from the integration branch it just fetched.
  const { repo, integration } = inClone
    ? (({ clone, integration }) => ({ repo: clone, integration }))(await cloneWithIntegration(spec, stateDir))
    : { repo: spec.projectDir, integration: `refs/heads/${iso.branch}` };
  if (spec.kind === 'testing') {
    const path = testingWorktreePath(stateDir, spec.projectId, spec.featureId, spec.attempt);
    await ensureDetachedWorktree({ repo, path, commit: await headOf(repo, integration) });
    return path;
  }
  const path = featureWorktreePath(stateDir, spec.projectId, spec.featureId);
  const branch = featureBranch(spec.projectId, spec.featureId);
  // The feature's newest work may be another host's: start from it (src/activities/host-work.ts).
  let earlier: string | null = null;
  let adopted = false;
  if (inClone) earlier = await earlierWorkForClone(place.db, spec, repo, place.runId);
  else if (place && spec.homeHost && spec.homeHost === place.hostId) {
    const { projectId, projectDir, homeHost, featureId } = spec;
    const where = { projectId, projectDir, featureId, homeHost, worktree: path, exceptId: place.runId };
    adopted = (await adoptLastAttempt(place.db, where)).state === 'adopted';
  }
  const made = await ensureFeatureWorktree({ repo, path, branch, base: earlier ?? (await headOf(repo, integration)) });
  if (!made.created && earlier) await resetWorktree(path, earlier);
  if (!made.created || earlier || adopted) {
    // A later attempt: keep what the earlier one left (committed), on top of the current head.
    // A conflict here is left to the merge queue's resolver: the agent works on the old base.
    await commitLeftovers(path, leftoverMessage(spec.featureId, spec.featureName));
    const rebased = await rebaseOnto(path, integration);
    if (rebased.state === 'conflict') await abortRebase(path);
  }
  await setUp(path, spec.projectDir, iso);
  return path;
}

/** The worktree at `ref`, whatever an older attempt of this host left in it. */
async function resetWorktree(path: string, ref: string): Promise<void> {
  await abortRebase(path);
  await git(path, ['reset', '--quiet', '--hard', ref]);
  await git(path, ['clean', '--quiet', '-fd']);
}

/** Copies and setup command, once per worktree (a marker in its git dir says it was done). */
async function setUp(path: string, repo: string, iso: NonNullable<AgentSpec['isolation']>): Promise<void> {
  const gitDir = (await git(path, ['rev-parse', '--absolute-git-dir'])).trim();
  const marker = join(gitDir, SETUP_MARKER);
  if (existsSync(marker)) return;
  for (const rel of iso.worktreeCopy) {
    const from = join(repo, rel);
    if (!existsSync(from)) continue;
    try {
      cpSync(from, join(path, rel), { recursive: true, force: true });
    } catch (err) {
      throw new WorkspaceSetupError(`--worktree-copy ${rel}: ${(err as Error).message}`);
    }
  }
  if (iso.worktreeSetup) {
    const [file, ...args] = iso.worktreeSetup as [string, ...string[]];
    await new Promise<void>((resolve, reject) => {
      execFile(
        file,
        args,
        { cwd: path, timeout: SETUP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (!error) resolve();
          else
            reject(
              new WorkspaceSetupError(
                `--worktree-setup ${iso.worktreeSetup?.join(' ')} failed in ${path}: ${error.message}\n${`${stdout}${stderr}`.slice(-2000)}`,
              ),
            );
        },
      );
    });
  }
  writeFileSync(marker, new Date().toISOString());
}

/** Removes a testing agent's detached worktree after it ends (best effort: `worktrees prune` finds leftovers). */
export async function releaseWorkspace(spec: AgentSpec, stateDir: string, hostId?: string): Promise<void> {
  if (spec.isolation?.mode !== 'worktree' || spec.kind !== 'testing' || spec.featureId === null) return;
  const path = testingWorktreePath(stateDir, spec.projectId, spec.featureId, spec.attempt);
  const repo =
    hostId !== undefined && worksInClone(spec, hostId) ? cloneDir(stateDir, spec.projectId) : spec.projectDir;
  await removeWorktree({ repo, path, branch: null, keepBranch: true }).catch(() => undefined);
}
