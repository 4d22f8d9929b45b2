/** Real git repositories in temp dirs for the tests of worktree isolation. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IsolationSettings } from '../../src/workflows/messages.ts';

export const run = (cwd: string, ...args: string[]): string => runDated(cwd, undefined, ...args);

/** git with the tests' fixed identity and, when given, the author and committer date. */
export function runDated(cwd: string, date: Date | undefined, ...args: string[]): string {
  const when = date ? `${Math.floor(date.getTime() / 1000)} +0000` : undefined;
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
      ...(when ? { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when } : {}),
    },
  });
}

export function write(dir: string, file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

/** A repository on branch main with one commit holding `files`. */
export function makeRepo(files: Record<string, string> = { 'README.md': 'hello\n' }): string {
  const base = mkdtempSync(join(tmpdir(), 'ac-git-'));
  const dir = join(base, 'project');
  mkdirSync(dir);
  run(dir, 'init', '--quiet', '--initial-branch=main');
  for (const [file, text] of Object.entries(files)) write(dir, file, text);
  run(dir, 'add', '--all');
  run(dir, 'commit', '--quiet', '-m', 'initial');
  return dir;
}

export const commitAll = (dir: string, message: string): void => {
  run(dir, 'add', '--all');
  run(dir, 'commit', '--quiet', '-m', message);
};

/** A run's worktree isolation on main, as `run` makes it with no flags (override what a test needs). */
export function worktreeIsolation(extra: Partial<IsolationSettings> = {}): IsolationSettings {
  return {
    mode: 'worktree',
    branch: 'main',
    worktreeCopy: [],
    verifyTimeoutMs: 60_000,
    keepBranches: false,
    review: false,
    ...extra,
  };
}
