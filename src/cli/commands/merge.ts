/**
 * Worktree isolation from the command line: `approve` / `reject` a feature the merge queue holds
 * for review (updates of the project's mergeQueue), `diff` a feature's branch against the
 * integration head, and `worktrees list|prune` to see and clean what isolation left on disk.
 */
import type { Command } from 'commander';
import { InfraError, UserError, showValue } from '../../errors.ts';
import { intFlag, out, projectIdArg } from '../options.ts';
import type { Runtime } from '../runtime.ts';

const featureIdArg = intFlag('feature id', 1, 2_147_483_647);
const maxRetriesArg = intFlag('--max-retries', 1, 100);

/** The project's directory and integration branch: from its run's settings, else the branch checked out. */
async function projectGit(rt: Runtime, projectId: string): Promise<{ dir: string; branch: string }> {
  const [{ getProject }, { readRunStatus }, { repoInfo }] = await Promise.all([
    import('../../db/projects.ts'),
    import('../../client.ts'),
    import('../../git/worktrees.ts'),
  ]);
  const project = await getProject(rt.database.db, projectId);
  if (!project) throw new UserError(`unknown project ${showValue(projectId)}`, { hint: 'see `autocoder status`' });
  const status = await readRunStatus(rt.temporal.client, projectId).catch(() => null);
  const fromRun = status?.status?.settings.worktree?.branch;
  const repo = await repoInfo(project.dir);
  if (!repo.usable) throw new UserError(`project ${projectId}'s directory is not a git repository: ${repo.reason}`);
  const branch = fromRun ?? repo.branch;
  if (!branch) throw new UserError(`project ${projectId}'s directory has a detached HEAD: no integration branch`);
  return { dir: project.dir, branch };
}

async function review(projectId: string, featureId: number, reason: string | null): Promise<void> {
  const [{ withRuntime }, { approveFeatureUpdate, rejectFeatureUpdate }, { mergeQueueId }] = await Promise.all([
    import('../runtime.ts'),
    import('../../workflows/merge-messages.ts'),
    import('../../workflows/run-ids.ts'),
  ]);
  await withRuntime({}, async (rt) => {
    const handle = rt.temporal.client.workflow.getHandle(mergeQueueId(projectId));
    try {
      if (reason === null) await handle.executeUpdate(approveFeatureUpdate, { args: [featureId] });
      else await handle.executeUpdate(rejectFeatureUpdate, { args: [featureId, reason] });
    } catch (err) {
      const e = err as Error & { cause?: Error };
      if (e.name === 'WorkflowNotFoundError' || /not found/i.test(e.message))
        throw new UserError(`project ${projectId} has no merge queue running, so nothing waits for review`, {
          hint: 'features wait for review only in a run started with --review (see `autocoder status`)',
        });
      if (e.cause?.message)
        throw new UserError(`${reason === null ? 'approve' : 'reject'} refused: ${e.cause.message}`);
      throw new InfraError(`update failed: ${e.message}`);
    }
    out(
      reason === null
        ? `feature #${featureId} of ${projectId} approved: it lands now`
        : `feature #${featureId} of ${projectId} rejected: back to pending; its next agent gets the reason`,
    );
  });
}

export function register(program: Command): void {
  program
    .command('approve')
    .description('Land a feature that waits for review in the merge queue (runs started with --review)')
    .argument('<project>', 'project id', projectIdArg())
    .argument('<feature>', 'feature id', featureIdArg)
    .addHelpText('after', '\nExamples:\n  autocoder diff todo-app 12 && autocoder approve todo-app 12')
    .action(async (projectId: string, featureId: number) => review(projectId, featureId, null));

  program
    .command('reject')
    .description('Send a feature that waits for review back to pending, with the reason for its next agent')
    .argument('<project>', 'project id', projectIdArg())
    .argument('<feature>', 'feature id', featureIdArg)
    .requiredOption('--reason <text>', 'what is wrong: the next agent on the feature is told')
    .addHelpText('after', '\nExamples:\n  autocoder reject todo-app 12 --reason "the form loses input on reload"')
    .action(async (projectId: string, featureId: number, opts: { reason: string }) => {
      if (opts.reason.trim() === '')
        throw new UserError('--reason is empty', { hint: 'say what the next agent should change' });
      await review(projectId, featureId, opts.reason);
    });

  program
    .command('diff')
    .description("Show a feature's branch against the integration head (worktree isolation)")
    .argument('<project>', 'project id', projectIdArg())
    .argument('<feature>', 'feature id', featureIdArg)
    .action(async (projectId: string, featureId: number) => {
      const [{ withRuntime }, { branchDiff, branchExists }, { featureBranch }] = await Promise.all([
        import('../runtime.ts'),
        import('../../git/worktrees.ts'),
        import('../../git/names.ts'),
      ]);
      await withRuntime({}, async (rt) => {
        const { dir, branch } = await projectGit(rt, projectId);
        const feature = featureBranch(projectId, featureId);
        if (!(await branchExists(dir, feature)))
          throw new UserError(`feature #${featureId} of ${projectId} has no branch ${feature}`, {
            hint: 'a branch exists while the feature is worked on or merging (or was kept); `autocoder worktrees list` shows them',
          });
        process.stdout.write(await branchDiff(dir, branch, feature));
      });
    });

  const worktrees = program.command('worktrees').description('Worktrees and branches of worktree isolation');
  worktrees
    .command('list')
    .description("List a project's feature worktrees and branches, with each feature's state")
    .argument('<project>', 'project id', projectIdArg())
    .option('--json', 'print JSON', false)
    .option('--max-retries <n>', 'failures after which a feature counts as failed (the run’s)', maxRetriesArg, 3)
    .action(async (projectId: string, opts: { json: boolean; maxRetries: number }) => {
      const [{ withRuntime }, { projectWorktrees }] = await Promise.all([
        import('../runtime.ts'),
        import('../../git/project-worktrees.ts'),
      ]);
      await withRuntime({}, async (rt) => {
        const { dir } = await projectGit(rt, projectId);
        const list = await projectWorktrees(rt.database.db, {
          projectId,
          projectDir: dir,
          stateDir: rt.config.home,
          maxRetries: opts.maxRetries,
        });
        if (opts.json) return out(JSON.stringify(list));
        if (list.length === 0) return out(`project ${projectId}: no worktrees or feature branches`);
        for (const w of list)
          out(`#${w.featureId ?? '?'}\t${w.state}\t${w.branch ?? '(detached)'}\t${w.path ?? '(no worktree)'}`);
      });
    });
  worktrees
    .command('prune')
    .description('Remove worktrees and branches of features that landed or are gone (--failed: also failed ones)')
    .argument('<project>', 'project id', projectIdArg())
    .option('--failed', 'also remove those of failed features (their branches were kept for inspection)', false)
    .option('--max-retries <n>', 'failures after which a feature counts as failed (the run’s)', maxRetriesArg, 3)
    .action(async (projectId: string, opts: { failed: boolean; maxRetries: number }) => {
      const [{ withRuntime }, { projectWorktrees, pruneWorktrees }] = await Promise.all([
        import('../runtime.ts'),
        import('../../git/project-worktrees.ts'),
      ]);
      await withRuntime({}, async (rt) => {
        const { dir } = await projectGit(rt, projectId);
        const where = { projectId, projectDir: dir, stateDir: rt.config.home, maxRetries: opts.maxRetries };
        const removed = await pruneWorktrees(await projectWorktrees(rt.database.db, where), where, opts);
        out(removed.length === 0 ? 'nothing to prune' : removed.map((r) => `removed ${r}`).join('\n'));
      });
    });
}

/** For `stop`: the worktrees isolation leaves in place for unfinished features (empty when none). */
export async function worktreesLeft(rt: Runtime, projectId: string): Promise<string[]> {
  const [{ getProject }, { repoInfo }, { projectWorktrees }] = await Promise.all([
    import('../../db/projects.ts'),
    import('../../git/worktrees.ts'),
    import('../../git/project-worktrees.ts'),
  ]);
  const project = await getProject(rt.database.db, projectId);
  if (!project || !(await repoInfo(project.dir)).usable) return [];
  const list = await projectWorktrees(rt.database.db, { projectId, projectDir: project.dir, stateDir: rt.config.home });
  return list
    .filter((w) => w.path !== null && w.kind === 'feature')
    .map((w) => `  #${w.featureId ?? '?'} (${w.state}) ${w.path ?? ''}`);
}
