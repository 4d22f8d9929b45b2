import type { Command } from 'commander';

/**
 * The `features` command group (plan, import, list, show, add), shared by several command
 * files: each calls this and adds its subcommand, whichever registers first creates the group.
 */
export function featuresCommand(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'features');
  if (existing) return existing;
  return program
    .command('features')
    .description('Work with feature lists: plan a file, import it into a project, list and show features')
    .addHelpText(
      'after',
      '\nExamples:\n  autocoder features plan examples/todo-app/features.json\n  autocoder features plan features.json --json\n',
    );
}
