/**
 * What most commands need: validated config, the stack (started on demand unless external), the
 * feature store and a Temporal client, opened once and closed once.
 */
import { loadEnvConfig, type ConfigOverrides, type EnvConfig } from '../config/env.ts';
import { connectTemporal, type TemporalClient, type TemporalTarget } from '../client.ts';
import { createDb, type DbHandle } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { ensureStack, runningStack, type StackInfo } from '../stack/index.ts';

export type Runtime = {
  config: EnvConfig;
  stack: StackInfo;
  temporalTarget: TemporalTarget;
  database: DbHandle;
  temporal: TemporalClient;
  close: () => Promise<void>;
};

export type RuntimeOptions = {
  overrides?: ConfigOverrides;
  log?: (line: string) => void;
  /** Start the local stack when it is down (run, demo, worker); otherwise a down stack is an error. */
  start?: boolean;
};

export type StackRuntime = Pick<Runtime, 'config' | 'stack' | 'temporalTarget'>;

/** The configuration and the stack, with no connection of our own: what `autocoder worker` needs. */
export async function openStack(options: RuntimeOptions = {}): Promise<StackRuntime> {
  const config = loadEnvConfig(process.env, options.overrides);
  const stack = options.start
    ? await ensureStack(config, { log: options.log ?? (() => undefined) })
    : await runningStack(config);
  const temporalTarget: TemporalTarget = {
    address: stack.temporal.address,
    namespace: stack.temporal.namespace,
    uiUrl: stack.temporal.uiUrl ?? undefined,
    useEnvConfig: !stack.temporal.managed,
  };
  return { config, stack, temporalTarget };
}

export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const { config, stack, temporalTarget } = await openStack(options);
  const database = createDb(stack.databaseUrl, { applicationName: 'autocoder-cli' });
  let temporal: TemporalClient;
  try {
    await migrateToLatest(database.db);
    temporal = await connectTemporal(temporalTarget);
  } catch (err) {
    await database.close();
    throw err;
  }
  return {
    config,
    stack,
    temporalTarget,
    database,
    temporal,
    close: async () => {
      await Promise.allSettled([temporal.close(), database.close()]);
    },
  };
}

/** Runs `work` with a runtime and always closes it. */
export async function withRuntime<T>(
  options: Parameters<typeof openRuntime>[0],
  work: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const rt = await openRuntime(options);
  try {
    return await work(rt);
  } finally {
    await rt.close();
  }
}
