/**
 * Every migration, by name, in one static map: no folder scanning at run time, so the CLI,
 * the worker and the tests run exactly the migrations this checkout was built with.
 * Names sort in time order (Kysely runs them alphanumerically); append, never edit a shipped one.
 */
import type { Migration } from 'kysely/migration';
import * as initial from './20261129T1600_initial.ts';
import * as agentWrites from './20261129T1700_agent_writes.ts';
import * as readySet from './20261130T0900_ready_set.ts';
import * as mergeQueue from './20261205T1200_merge_queue.ts';
import * as mergeWith from './20261206T0300_merge_with.ts';

export const migrations: Record<string, Migration> = {
  '20261129T1600_initial': initial,
  '20261129T1700_agent_writes': agentWrites,
  '20261130T0900_ready_set': readySet,
  '20261205T1200_merge_queue': mergeQueue,
  '20261206T0300_merge_with': mergeWith,
};
