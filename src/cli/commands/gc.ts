import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { durationFlag, out, projectIdArg } from '../options.ts';

type GcOptions = { olderThan: number; dryRun: boolean; project?: string; json: boolean };

export type GcSummary = {
  dryRun: boolean;
  cutoff: string;
  logs: { files: number; bytes: number };
  featureEvents: { rows: number; bytes: number };
  branches: { deleted: string[]; kept: { branch: string; reason: string }[]; skipped: string[] };
};

const DEFAULT_OLDER_THAN = '30d';

/**
 * `autocoder gc`: retention for runs that go on for weeks. Removes this host's agent logs (and
 * their status and MCP files) last written before the cutoff, feature events created before it,
 * and the kept branches of landed features whose last commit is older than it.
 */
export function register(program: Command): void {
  program
    .command('gc')
    .description('Remove old agent logs, old feature events and kept branches of landed features')
    .option(
      '--older-than <duration>',
      'what is older than this goes (e.g. 30d, 12h)',
      durationFlag('--older-than'),
      durationFlag('--older-than')(DEFAULT_OLDER_THAN),
    )
    .option('--dry-run', 'list what would be removed, remove nothing', false)
    .option('--project <id>', 'only this project (default: every project)', projectIdArg())
    .option('--json', 'print the summary as JSON: { dryRun, cutoff, logs, featureEvents, branches }', false)
    .addHelpText(
      'after',
      `
Files are those of this host's state dir (AUTOCODER_HOME): logs/ (with their status files), mcp/,
guard/ and settings/ of agent runs; run gc on every worker host. Those of
agents still running are never removed, whatever their age. A branch autocoder/<project>/<feature>
goes only when its feature passes, its tip is in another branch's history (it landed), it is
checked out nowhere, and its last commit is older than the cutoff. Postgres reuses the space of
deleted events after autovacuum.

Examples:
  $ autocoder gc --dry-run
  $ autocoder gc --older-than 14d
  $ autocoder gc --project todo-app --json`,
    )
    .action(async (opts: GcOptions) => {
      const summary = await collectGarbage(opts, opts.json ? () => undefined : out);
      if (opts.json) out(JSON.stringify(summary));
    });
}

export async function collectGarbage(opts: GcOptions, say: (line: string) => void): Promise<GcSummary> {
  const [
    { loadEnvConfig },
    { connectForCli },
    gcDb,
    { requireProject },
    { listFeatures },
    files,
    { landedBranchesBefore, deleteBranchAt },
    { projectRunId },
  ] = await Promise.all([
    import('../../config/env.ts'),
    import('../../db/connect-cli.ts'),
    import('../../db/gc.ts'),
    import('../../db/projects.ts'),
    import('../../db/features.ts'),
    import('../state-files.ts'),
    import('../../git/landed-branches.ts'),
    import('../../workflows/run-ids.ts'),
  ]);
  const { home } = loadEnvConfig(process.env);
  const cutoff = new Date(Date.now() - opts.olderThan);
  const size = files.formatBytes;
  const verb = opts.dryRun ? 'would remove' : 'removed';
  const { db, close } = await connectForCli();
  try {
    if (opts.project !== undefined) await requireProject(db, opts.project);
    say(`gc${opts.dryRun ? ' --dry-run' : ''}: what is older than ${cutoff.toISOString()} (state dir ${home})`);

    // 1. Agent logs, status files and MCP configs of this host's state dir.
    const prefix = opts.project === undefined ? null : `${projectRunId(opts.project)}/`;
    const old = files
      .oldRunFiles(home, cutoff, await gcDb.liveAgentRunIds(db))
      .filter((f) => prefix === null || f.runId.startsWith(prefix));
    const logs = { files: 0, bytes: 0 };
    for (const file of old) {
      if (opts.dryRun) say(`  would remove ${file.path} (${size(file.bytes)})`);
      else rmSync(file.path, { force: true });
      logs.files += 1;
      logs.bytes += file.bytes;
      if (!opts.dryRun && logs.files % 500 === 0) say(`  logs: ${logs.files}/${old.length} files removed`);
    }
    say(`logs: ${verb} ${logs.files} files (${size(logs.bytes)})`);

    // 2. Feature events, in batches.
    let featureEvents;
    if (opts.dryRun) featureEvents = await gcDb.oldFeatureEvents(db, cutoff, opts.project);
    else {
      featureEvents = await gcDb.deleteOldFeatureEvents(db, cutoff, {
        ...(opts.project === undefined ? {} : { projectId: opts.project }),
        onBatch: (done) => say(`  feature events: ${done.rows} deleted so far`),
      });
    }
    say(`feature events: ${verb} ${featureEvents.rows} rows (${size(featureEvents.bytes)})`);

    // 3. Kept branches of landed features, in each project's repository on this host.
    const branches: GcSummary['branches'] = { deleted: [], kept: [], skipped: [] };
    for (const project of await gcDb.projectDirs(db, opts.project)) {
      if (!existsSync(project.dir)) {
        branches.skipped.push(`${project.id}: ${project.dir} is not on this host`);
        continue;
      }
      const passing = new Set((await listFeatures(db, project.id, { state: 'passing' })).map((f) => f.id));
      let found;
      try {
        found = await landedBranchesBefore({ repo: project.dir, projectId: project.id, passing, before: cutoff });
      } catch (error) {
        branches.skipped.push(
          `${project.id}: ${project.dir} is not a git repository (${(error as Error).message.split('\n')[0]})`,
        );
        continue;
      }
      branches.kept.push(...found.kept);
      for (const b of found.removable) {
        const line = `${b.branch} (feature #${b.featureId}, last commit ${b.committedAt.toISOString().slice(0, 10)})`;
        if (opts.dryRun) say(`  would delete branch ${line}`);
        else if (await deleteBranchAt(project.dir, b.branch, b.tip)) say(`  deleted branch ${line}`);
        else {
          branches.kept.push({ branch: b.branch, reason: 'it moved while gc ran' });
          continue;
        }
        branches.deleted.push(b.branch);
      }
    }
    for (const s of branches.skipped) say(`  branches of ${s}: skipped`);
    say(
      `branches: ${opts.dryRun ? 'would delete' : 'deleted'} ${branches.deleted.length}, kept ${branches.kept.length}`,
    );

    const freed = logs.bytes + featureEvents.bytes;
    say(
      `${opts.dryRun ? 'would free' : 'freed'} ${size(freed)}: ${logs.files} log files, ${featureEvents.rows} feature events, ${branches.deleted.length} branches`,
    );
    if (!opts.dryRun && (logs.files > 0 || featureEvents.rows > 0)) files.forgetStateSize(home);
    return { dryRun: opts.dryRun, cutoff: cutoff.toISOString(), logs, featureEvents, branches };
  } finally {
    await close();
  }
}
