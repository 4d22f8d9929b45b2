/**
 * `autocoder features import FILE --project ID [--dir DIR] [--reset]` and
 * `autocoder features import --from-autocoder PATH/features.db --project ID`: load a feature list
 * into a project, in one transaction (a rejected file changes nothing).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import { escapeForTerminal, loadFeatureFile } from '../../features/index.ts';
import { featuresCommand } from './features-group.ts';

type ImportOptions = { project: string; dir?: string; reset?: boolean; fromAutocoder?: string; json?: boolean };

export function register(program: Command): void {
  featuresCommand(program)
    .command('import')
    .description('Import a feature file (or an AutoCoder features.db) into a project; re-import updates features by id')
    .argument('[file]', 'feature file: {"features": [...]} or a bare JSON list (see schema/feature-file.schema.json)')
    .requiredOption('--project <id>', 'project id: lower-case letters, digits and dashes')
    .option(
      '--dir <dir>',
      'project directory; required the first time (default with --from-autocoder: the directory of features.db)',
    )
    .option('--reset', "take the file's passes as the truth, even for passing features, and clear failure counts")
    .option('--from-autocoder <path>', "read an AutoCoder project's features.db (SQLite) instead of a file")
    .option('--json', 'print the counts as JSON')
    .addHelpText(
      'after',
      `
Examples:
  autocoder features import features.json --project todo-app --dir ~/code/todo-app
  autocoder features import features.json --project todo-app           # update by id
  autocoder features import features.json --project todo-app --reset   # file's passes win
  autocoder features import --from-autocoder ~/code/todo-app/features.db --project todo-app

Features are matched by id. A passing feature stays passing unless --reset; features missing
from the file are kept. Uses DATABASE_URL. Exit 2 when the file is rejected (every problem is
listed, nothing is changed) or the project is unknown and --dir is not given.`,
    )
    .action(async (file: string | undefined, options: ImportOptions) => {
      // The database modules load only when the command runs (the CLI starts fast for --help).
      const [
        { readAutoCoderFeatures },
        { connectForCli },
        { featureCounts },
        { importFeatures },
        { assertProjectId, getProject },
      ] = await Promise.all([
        import('../../db/autocoder-sqlite.ts'),
        import('../../db/connect-cli.ts'),
        import('../../db/features.ts'),
        import('../../db/import.ts'),
        import('../../db/projects.ts'),
      ]);
      assertProjectId(options.project);
      if ((file === undefined) === (options.fromAutocoder === undefined)) {
        throw new UserError(
          file === undefined
            ? 'features import needs a feature FILE or --from-autocoder PATH'
            : `give either FILE (${showValue(file)}) or --from-autocoder, not both`,
          { hint: 'e.g. `autocoder features import features.json --project ID`' },
        );
      }
      const source = file ?? (options.fromAutocoder as string);
      const entries = file !== undefined ? await loadFeatureFile(file) : readAutoCoderFeatures(source);
      const defaultDir = options.fromAutocoder === undefined ? undefined : dirname(resolve(options.fromAutocoder));
      const dir = options.dir === undefined ? undefined : resolve(options.dir);

      const { db, close } = await connectForCli();
      try {
        const existing = await getProject(db, options.project);
        const projectDir = dir ?? (existing ? undefined : defaultDir);
        if (!existing && projectDir === undefined) {
          throw new UserError(`unknown project ${showValue(options.project)}`, {
            hint: `add --dir DIR to create it, e.g. \`autocoder features import ${file ?? '--from-autocoder PATH'} --project ${options.project} --dir .\``,
          });
        }
        const counts = await importFeatures(db, options.project, entries, {
          reset: options.reset ?? false,
          dir: projectDir,
        });
        const state = await featureCounts(db, options.project);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ project: options.project, ...counts, states: state })}\n`);
          return;
        }
        const created = existing ? '' : ` (created, dir ${escapeForTerminal(projectDir ?? '')})`;
        process.stdout.write(
          `imported ${entries.length} features from ${escapeForTerminal(source)} into ${options.project}${created}: ` +
            `${counts.inserted} new, ${counts.updated} updated, ${counts.unchanged} unchanged` +
            (counts.notInFile > 0 ? `; ${counts.notInFile} not in the file, kept` : '') +
            `\nnow: ${state.total} features, ${state.passing} passing, ${state.pending} ready, ${state.running} running, ` +
            `${state.blocked} blocked, ${state.failed} failed\n`,
        );
      } finally {
        await close();
      }
    });
}
