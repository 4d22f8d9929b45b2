import type { Command } from 'commander';
import { register as up } from './up.ts';
import { register as down } from './down.ts';
import { register as doctor } from './doctor.ts';
import { register as demo } from './demo.ts';
import { register as run } from './run.ts';
import { register as status } from './status.ts';
import { register as control } from './control.ts';
import { register as merge } from './merge.ts';
import { register as worker } from './worker.ts';
import { register as ui } from './ui.ts';
import { register as logs } from './logs.ts';
import { register as featuresPlan } from './features-plan.ts';
import { register as featuresImport } from './features-import.ts';
import { register as featuresList } from './features-list.ts';
import { register as featuresShow } from './features-show.ts';
import { register as mcp } from './mcp.ts';
import { register as feature } from './feature.ts';
import { register as guard } from './guard.ts';
import { register as spend } from './spend.ts';
import { register as quota } from './quota.ts';
import { register as human } from './human.ts';
import { register as schedule } from './schedule.ts';
import { register as db } from './db.ts';
import { register as gc } from './gc.ts';

/** Each command file exports one `register(program)`; the order here is the order in --help. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  up,
  down,
  doctor,
  demo,
  run,
  status,
  control,
  spend,
  quota,
  human,
  schedule,
  merge,
  logs,
  worker,
  db,
  gc,
  ui,
  featuresPlan,
  featuresImport,
  featuresList,
  featuresShow,
  mcp,
  feature,
  guard,
];
