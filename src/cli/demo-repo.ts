/**
 * The demo's project dir as a git repository: a copy of examples/todo-app committed on `main`,
 * so the demo runs in worktree isolation (each simulated feature in its own worktree, landed by
 * the merge queue). Made once; a later demo reuses it with whatever landed there.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, identityArgs } from '../git/git.ts';
import { repoInfo } from '../git/worktrees.ts';

export async function ensureDemoRepo(dir: string, exampleDir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const repo = await repoInfo(dir);
  if (repo.usable && repo.branch) return repo.branch;
  if (!repo.usable) {
    cpSync(exampleDir, dir, { recursive: true, force: false, errorOnExist: false });
    const readme = join(dir, 'README.md');
    if (!existsSync(readme))
      writeFileSync(readme, '# todo-app\n\nThe autocoder demo project: a copy of examples/todo-app.\n');
    if (!existsSync(join(dir, '.git'))) await git(dir, ['init', '--quiet', '--initial-branch=main']);
    await git(dir, ['add', '--all']);
    await git(dir, [
      ...(await identityArgs(dir)),
      'commit',
      '--quiet',
      '--allow-empty',
      '-m',
      'todo-app: the example project',
    ]);
  }
  return (await repoInfo(dir)).branch ?? 'main';
}
