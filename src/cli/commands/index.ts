import type { Command } from 'commander';

/** Each command file exports one `register(program)`; the order here is the order in --help. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
