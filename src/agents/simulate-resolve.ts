/**
 * The simulate adapter's `resolve` behaviour for resolver agents (kind `merge`): finishes the
 * rebase in its worktree by keeping both sides of every conflict (ours, then theirs), so tests
 * and the demo exercise the merge queue's resolver path with a real process and real git.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, identityArgs } from '../git/git.ts';
import { conflictedFiles, rebaseInProgress } from '../git/worktrees.ts';

/** `<<<<<<< … ======= … >>>>>>>` blocks replaced by both sides, in order. */
export function keepBothSides(text: string): string {
  return text.replace(/^<{7}[^\n]*\n([\s\S]*?)^(?:\|{7}[^\n]*\n[\s\S]*?)?={7}\n([\s\S]*?)^>{7}[^\n]*\n?/gm, '$1$2');
}

export async function resolveRebase(worktree: string, say: (line: string) => void): Promise<void> {
  const ids = await identityArgs(worktree);
  for (let round = 0; round < 100 && (await rebaseInProgress(worktree)); round++) {
    const files = await conflictedFiles(worktree);
    for (const file of files) {
      const path = join(worktree, file);
      writeFileSync(path, keepBothSides(readFileSync(path, 'utf8')));
      await git(worktree, ['add', '--', file]);
    }
    say(`resolved ${files.length} conflicted file(s): ${files.join(', ') || '(none)'}`);
    await git(worktree, [...ids, '-c', 'core.editor=true', 'rebase', '--continue']);
  }
}
