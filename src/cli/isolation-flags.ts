/**
 * The run's isolation flags: `--isolation worktree|shared` (default: worktree when the project
 * dir is the top level of a git work tree with a commit, else shared, and `run` says why),
 * `--allow-dirty`, `--branch`, `--worktree-setup`, `--worktree-copy`, `--verify-cmd`,
 * `--verify-timeout`, `--keep-branches`, `--review`. Checked before anything is written: a bad
 * value, or uncommitted changes to tracked files without --allow-dirty, is exit 2.
 */
import { isAbsolute, normalize, resolve } from 'node:path';
import { parse } from 'shell-quote';
import { UserError, showValue } from '../errors.ts';
import { gitRaw } from '../git/git.ts';
import { branchExists, dirtyTrackedFiles, headOf, repoInfo, untrackedFiles } from '../git/worktrees.ts';
import { isolationModes } from '../workflows/vocabulary.ts';
import type { ProjectRunInput } from '../workflows/messages.ts';

export type IsolationFlags = {
  isolation?: string;
  allowDirty: boolean;
  branch?: string;
  worktreeSetup?: string;
  worktreeCopy: string[];
  verifyCmd?: string;
  verifyTimeout: string;
  keepBranches: boolean;
  review: boolean;
  repo?: string;
};

/**
 * A command line split into an argv by POSIX shell quoting rules (shell-quote), never run through
 * a shell: operators, globs, comments and substitutions are refused, and `$NAME` stays as text.
 */
export function splitCommand(flag: string, text: string): string[] {
  const argv: string[] = [];
  for (const token of parse(text, (name) => `$${name}`)) {
    if (typeof token !== 'string') {
      const what = 'op' in token ? (token.op === 'glob' ? `the glob ${token.pattern}` : `"${token.op}"`) : 'a comment';
      throw new UserError(
        `${flag} is run as one command without a shell, so it cannot use ${what}: ${showValue(text)}`,
        {
          hint: 'put pipelines, && and globs in a script and give its path, e.g. --verify-cmd "./scripts/verify.sh"',
        },
      );
    }
    argv.push(token);
  }
  if (argv.length === 0) throw new UserError(`${flag} is empty`, { hint: `e.g. ${flag} "npm test"` });
  return argv;
}

/** `10m`, `90s`, `1h`, `500ms`, or plain seconds. */
export function parseDuration(flag: string, raw: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(raw.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m?.[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = m ? Number(m[1]) * unit : NaN;
  if (!(ms >= 1000 && ms <= 24 * 3_600_000)) {
    throw new UserError(`${flag} must be a duration from 1s to 24h, got ${showValue(raw)}`, {
      hint: `e.g. ${flag} 10m (units: ms, s, m, h; a bare number is seconds)`,
    });
  }
  return ms;
}

export type IsolationChoice = { isolation: ProjectRunInput['isolation']; notes: string[] };

/** The run's isolation from its flags and the project dir's git state; notes are printed by `run`. */
export async function isolationFromFlags(flags: IsolationFlags, dir: string): Promise<IsolationChoice> {
  const projectDir = resolve(dir);
  const asked = flags.isolation;
  if (asked !== undefined && !(isolationModes as readonly string[]).includes(asked)) {
    throw new UserError(`--isolation must be one of ${isolationModes.join(', ')}, got ${showValue(asked)}`, {
      hint: 'worktree gives each feature its own git worktree; shared runs every agent in the project dir',
    });
  }
  const verifyTimeoutMs = parseDuration('--verify-timeout', flags.verifyTimeout);
  const verifyCmd = flags.verifyCmd === undefined ? undefined : splitCommand('--verify-cmd', flags.verifyCmd);
  const worktreeSetup =
    flags.worktreeSetup === undefined ? undefined : splitCommand('--worktree-setup', flags.worktreeSetup);
  for (const path of flags.worktreeCopy) {
    if (isAbsolute(path) || normalize(path).split(/[\\/]/).includes('..')) {
      throw new UserError(`--worktree-copy must be a path inside the project dir, got ${showValue(path)}`, {
        hint: 'give it relative to the project dir, e.g. --worktree-copy .env',
      });
    }
  }
  const repo = await repoInfo(projectDir);
  if (asked === 'shared' || (asked === undefined && !repo.usable)) {
    const why = asked === 'shared' ? 'as asked (--isolation shared)' : `${repo.reason}`;
    if (flags.repo !== undefined)
      throw new UserError(`--repo ${showValue(flags.repo)} needs worktree isolation, but this run is shared (${why})`, {
        hint: 'shared isolation runs on the one host that has the project dir; leave out --repo, or use --isolation worktree',
      });
    return {
      isolation: undefined,
      notes: [`isolation: shared, every agent works in ${projectDir} on this host alone (${why})`],
    };
  }
  if (!repo.usable) {
    throw new UserError(`--isolation worktree needs a git repository: ${repo.reason}`, {
      hint: 'run `git init && git add -A && git commit -m start` in the project dir, or use --isolation shared',
    });
  }
  const branch = flags.branch ?? repo.branch;
  if (!branch) {
    throw new UserError(
      `the project dir ${projectDir} has a detached HEAD, so there is no branch to land features on`,
      {
        hint: 'check out a branch there, or name one with --branch NAME',
      },
    );
  }
  if (!(await branchExists(projectDir, branch))) {
    throw new UserError(`--branch ${showValue(branch)} is not a branch of ${projectDir}`, {
      hint: `create it first (git branch ${branch}), or leave out --branch to use the one checked out`,
    });
  }
  const dirty = await dirtyTrackedFiles(projectDir);
  if (dirty.length > 0 && !flags.allowDirty) {
    const shown = dirty.slice(0, 10).join(', ') + (dirty.length > 10 ? `, … (${dirty.length} in all)` : '');
    throw new UserError(`the project dir has uncommitted changes to tracked files: ${shown}`, {
      hint: 'commit or stash them (worktrees are made from the last commit), or pass --allow-dirty',
    });
  }
  const notes = [
    `isolation: worktree, each feature in its own git worktree, landed on ${branch} by the merge queue${asked ? '' : ` (${projectDir} is a git work tree; --isolation shared to turn it off)`}`,
  ];
  const reachable = flags.repo === undefined ? undefined : await checkRepo(flags.repo, projectDir, branch);
  if (reachable) notes.push(`hosts: other hosts fetch from and push feature branches to ${reachable}`);
  const untracked = await untrackedFiles(projectDir);
  if (untracked.length > 0) {
    const shown = untracked.slice(0, 5).join(', ') + (untracked.length > 5 ? `, … (${untracked.length} in all)` : '');
    notes.push(
      `warning: ${untracked.length} untracked file(s) will not be in the worktrees: ${shown} (commit them, ignore them, or copy them with --worktree-copy)`,
    );
  }
  return {
    isolation: {
      mode: 'worktree',
      branch,
      worktreeCopy: flags.worktreeCopy,
      verifyTimeoutMs,
      keepBranches: flags.keepBranches,
      review: flags.review,
      ...(verifyCmd ? { verifyCmd } : {}),
      ...(worktreeSetup ? { worktreeSetup } : {}),
      ...(reachable ? { repo: reachable } : {}),
    },
    notes,
  };
}

/** A URL (scheme://… or user@host:path) as given; anything else is a path, made absolute. */
const isUrl = (repo: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^/:]+:/.test(repo);

/**
 * `--repo` must reach the project dir's repository: its integration branch there is at the same
 * commit as in the project dir. Returns the address other hosts use (a path made absolute).
 */
async function checkRepo(raw: string, projectDir: string, branch: string): Promise<string> {
  if (raw.trim() === '' || raw.startsWith('-'))
    throw new UserError(`--repo must be a git URL or path, got ${showValue(raw)}`, {
      hint: 'e.g. --repo ssh://build-1/srv/my-app or --repo /mnt/shared/my-app',
    });
  const repo = isUrl(raw) ? raw : resolve(raw);
  const listed = await gitRaw(projectDir, ['ls-remote', '--heads', '--', repo, `refs/heads/${branch}`], {
    timeoutMs: 30_000,
  });
  const remoteHead = listed.code === 0 ? listed.stdout.split('\t')[0]?.trim() : undefined;
  const localHead = await headOf(projectDir, `refs/heads/${branch}`);
  if (remoteHead !== localHead) {
    const seen =
      listed.code !== 0
        ? `git cannot reach it (${listed.stderr.trim().split('\n')[0] ?? 'no output'})`
        : remoteHead
          ? `its ${branch} is at ${remoteHead.slice(0, 12)}, the project dir's at ${localHead.slice(0, 12)}`
          : `it has no branch ${branch}`;
    throw new UserError(`--repo ${showValue(raw)} is not the project dir's repository: ${seen}`, {
      hint: `give an address of ${projectDir} that every host can reach (ssh://, a shared path), or leave out --repo`,
    });
  }
  return repo;
}
