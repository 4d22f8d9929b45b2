import type { Command } from 'commander';
import { register as up } from './up.ts';
import { register as down } from './down.ts';
import { register as doctor } from './doctor.ts';
import { register as featuresPlan } from './features-plan.ts';

/** Each command file exports one `register(program)`; the order here is the order in --help. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [up, down, doctor, featuresPlan];
