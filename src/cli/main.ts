/**
 * The autocoder CLI: one program, one command per file under ./commands, and one error boundary
 * that turns typed errors into exit codes (0 ok, 1 run failed/blocked, 2 bad input,
 * 3 infrastructure unreachable). User mistakes never print a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { InfraError, UserError } from '../errors.ts';
import { commands } from './commands/index.ts';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('autocoder')
    .description("AutoCoder's parallel orchestrator on Temporal and Postgres")
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    return reportError(error);
  }
}

export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander already printed the message; help and version exit 0
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof UserError || error instanceof InfraError) {
    process.stderr.write(`autocoder: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  fix: ${error.hint}\n`);
    return error.exitCode;
  }
  process.stderr.write(
    `autocoder: internal error (please report): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 70;
}

// `autocoder logs | head`: a closed pipe ends the command quietly, as it does for cat.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/** Exit code of a finished command; the process exits once stdout has drained. */
process.exitCode = await main(process.argv.slice(2));
