/**
 * The local stack as one API: `stackUp` (idempotent), `stackDown` (only what up started),
 * `stackDoctor` (each component's version, address, health and fix) and `ensureStack` for commands
 * that need Temporal and Postgres. External servers (TEMPORAL_ADDRESS, DATABASE_URL) are checked,
 * never started.
 */
import { existsSync } from 'node:fs';
import { InfraError } from '../errors.ts';
import { loadEnvConfig, redactUrl, type ConfigOverrides, type EnvConfig } from '../config/env.ts';
import { postgresHostPort, probePostgres, probeTemporal } from './health.ts';
import { stackPaths, withStackLock } from './paths.ts';
import { embeddedDatabaseUrl, ensurePostgres, runningPostgres, stopPostgres } from './postgres.ts';
import { findFreePorts, portAnswers, type StopResult } from './process.ts';
import { resolveTemporalCli } from './temporal-cli.ts';
import {
  LOCAL_HOST,
  assertPortFree,
  ensureTemporalServer,
  runningTemporalServer,
  stopTemporalServer,
  temporalAddressOf,
  temporalUiUrlOf,
} from './temporal-server.ts';

export { findFreePort, findFreePorts } from './process.ts';
export { stackPaths } from './paths.ts';
export { stackDoctor, type DoctorComponent } from './doctor.ts';

export type StackLog = (line: string) => void;

export type StackInfo = {
  temporal: { address: string; uiUrl: string | null; namespace: string; managed: boolean; pid?: number };
  databaseUrl: string;
  postgres: { managed: boolean; pid?: number; dataDir?: string };
};

export type StackUpOptions = {
  log?: StackLog;
  /** per server; default 60 s */
  startTimeoutMs?: number;
};

/** Starts what is not running (Temporal dev server, embedded Postgres) and checks external ones. */
export async function stackUp(cfg: EnvConfig, options: StackUpOptions = {}): Promise<StackInfo> {
  const log = options.log ?? (() => {});
  const paths = stackPaths(cfg);
  const manageTemporal = cfg.temporalAddress === undefined;
  const managePostgres = cfg.databaseUrl === undefined;

  // External servers are checked before anything local starts; both problems are reported together.
  const checks = await Promise.allSettled([
    manageTemporal ? undefined : checkExternalTemporal(cfg.temporalAddress!),
    managePostgres ? undefined : checkExternalPostgres(cfg.databaseUrl!),
  ]);
  const failed = checks.flatMap((c) => (c.status === 'rejected' ? [c.reason as InfraError] : []));
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) {
    throw new InfraError(failed.map((e) => e.message).join('\n  and '), { hint: failed.map((e) => e.hint).join('; ') });
  }

  if (!manageTemporal && !managePostgres) {
    // Both external: leave the state dir alone (it may not even be writable, e.g. in a container).
    return {
      temporal: { address: cfg.temporalAddress!, uiUrl: null, namespace: cfg.temporalNamespace, managed: false },
      databaseUrl: cfg.databaseUrl!,
      postgres: { managed: false },
    };
  }
  return withStackLock(
    paths,
    async () => {
      // Check every port we are about to bind first, so a conflict starts nothing.
      if (manageTemporal && !runningTemporalServer(paths)) {
        await assertPortFree(cfg.temporalPort, 'Temporal frontend', 'AUTOCODER_TEMPORAL_PORT', '--temporal-port');
        await assertPortFree(cfg.temporalUiPort, 'Temporal UI', 'AUTOCODER_TEMPORAL_UI_PORT', '--ui-port');
      }
      if (managePostgres && !runningPostgres(paths)) {
        await assertPortFree(cfg.pgPort, 'Postgres', 'AUTOCODER_PG_PORT', '--pg-port');
      }
      const [temporal, postgres] = await Promise.all([
        manageTemporal ? startTemporal(cfg, log, options.startTimeoutMs) : undefined,
        managePostgres ? startPostgres(cfg, log) : undefined,
      ]);
      return {
        temporal: temporal ?? {
          address: cfg.temporalAddress!,
          uiUrl: null,
          namespace: cfg.temporalNamespace,
          managed: false,
        },
        databaseUrl: postgres?.databaseUrl ?? cfg.databaseUrl!,
        postgres: postgres ? { managed: true, pid: postgres.pid, dataDir: postgres.dataDir } : { managed: false },
      };
    },
    { log },
  );
}

/** What `run` and `demo` call: the stack's addresses, starting what is needed (quietly by default). */
export async function ensureStack(cfg: EnvConfig, options: StackUpOptions = {}): Promise<StackInfo> {
  return stackUp(cfg, options);
}

/**
 * The stack as it runs now, starting nothing: for commands that read or steer a run (status,
 * stop, logs, …), where starting servers would only hide that the run's stack is down.
 */
export async function runningStack(cfg: EnvConfig): Promise<StackInfo> {
  const paths = stackPaths(cfg);
  const down: string[] = [];
  let temporal: StackInfo['temporal'] | undefined;
  if (cfg.temporalAddress !== undefined) {
    await checkExternalTemporal(cfg.temporalAddress);
    temporal = { address: cfg.temporalAddress, uiUrl: null, namespace: cfg.temporalNamespace, managed: false };
  } else {
    const record = runningTemporalServer(paths);
    if (record && (await portAnswers(LOCAL_HOST, record.ports.frontend!, 1000))) {
      temporal = {
        address: temporalAddressOf(record),
        uiUrl: temporalUiUrlOf(record),
        namespace: cfg.temporalNamespace,
        managed: true,
        pid: record.pid,
      };
    } else down.push(`temporal (${LOCAL_HOST}:${cfg.temporalPort})`);
  }
  let databaseUrl: string | undefined;
  if (cfg.databaseUrl !== undefined) {
    await checkExternalPostgres(cfg.databaseUrl);
    databaseUrl = cfg.databaseUrl;
  } else {
    const record = runningPostgres(paths);
    if (record && (await portAnswers(LOCAL_HOST, record.ports.postgres!, 1000)))
      databaseUrl = embeddedDatabaseUrl(paths, record.ports.postgres!);
    else down.push(`postgres (${LOCAL_HOST}:${cfg.pgPort})`);
  }
  if (!temporal || !databaseUrl) {
    throw new InfraError(
      `the local stack is not running: ${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} down (state ${cfg.home})`,
      {
        hint: 'start it with `autocoder up` (or set TEMPORAL_ADDRESS and DATABASE_URL to servers that run)',
      },
    );
  }
  return { temporal, databaseUrl, postgres: { managed: cfg.databaseUrl === undefined } };
}

/**
 * Only the database: DATABASE_URL when set (checked), else the embedded Postgres, started if it
 * is not running. For commands that never talk to Temporal (features import/list/show).
 */
export async function ensureDatabase(cfg: EnvConfig, options: { log?: StackLog } = {}): Promise<string> {
  if (cfg.databaseUrl !== undefined) {
    await checkExternalPostgres(cfg.databaseUrl);
    return cfg.databaseUrl;
  }
  const log = options.log ?? (() => {});
  const paths = stackPaths(cfg);
  return withStackLock(
    paths,
    async () => {
      if (!runningPostgres(paths)) await assertPortFree(cfg.pgPort, 'Postgres', 'AUTOCODER_PG_PORT', '--pg-port');
      return (await startPostgres(cfg, log)).databaseUrl;
    },
    { log },
  );
}

async function startTemporal(
  cfg: EnvConfig,
  log: StackLog,
  startTimeoutMs: number | undefined,
): Promise<StackInfo['temporal']> {
  const paths = stackPaths(cfg);
  const started = Date.now();
  let cliVersion = '';
  const server = await ensureTemporalServer({
    // Only needed (and installed if missing) when a server has to be started.
    resolveCli: async () => {
      const cli = await resolveTemporalCli(cfg, { log });
      cliVersion = cli.version;
      return cli.path;
    },
    paths,
    port: cfg.temporalPort,
    uiPort: cfg.temporalUiPort,
    namespace: cfg.temporalNamespace,
    log,
    ...(startTimeoutMs === undefined ? {} : { startTimeoutMs }),
  });
  log(
    server.reused
      ? `temporal: running at ${server.address}, UI ${server.uiUrl} (pid ${server.record.pid}, reused)`
      : `temporal: started at ${server.address}, UI ${server.uiUrl} (pid ${server.record.pid}, ${seconds(started)}; temporal ${cliVersion})`,
  );
  return {
    address: server.address,
    uiUrl: server.uiUrl,
    namespace: cfg.temporalNamespace,
    managed: true,
    pid: server.record.pid,
  };
}

async function startPostgres(
  cfg: EnvConfig,
  log: StackLog,
): Promise<{ databaseUrl: string; pid: number; dataDir: string }> {
  const started = Date.now();
  const pg = await ensurePostgres({ paths: stackPaths(cfg), port: cfg.pgPort, log });
  const address = `${LOCAL_HOST}:${pg.record.ports.postgres}`;
  log(
    pg.reused
      ? `postgres: running at ${address} (pid ${pg.record.pid}, reused)`
      : `postgres: started at ${address} (pid ${pg.record.pid}, ${seconds(started)}; data ${pg.dataDir})`,
  );
  return { databaseUrl: pg.databaseUrl, pid: pg.record.pid, dataDir: pg.dataDir };
}

async function checkExternalTemporal(address: string): Promise<void> {
  const probe = await probeTemporal(address, { useEnvConfig: true });
  if (!probe.ok) {
    throw new InfraError(
      `Temporal at ${address} (TEMPORAL_ADDRESS) is unreachable: tried a gRPC health check, got ${probe.error}`,
      {
        hint: 'start that server or fix TEMPORAL_ADDRESS; unset TEMPORAL_ADDRESS to use the local dev server (autocoder up)',
      },
    );
  }
}

async function checkExternalPostgres(databaseUrl: string): Promise<void> {
  const probe = await probePostgres(databaseUrl);
  if (!probe.ok) {
    throw new InfraError(
      `Postgres at ${postgresHostPort(databaseUrl)} (DATABASE_URL) is unreachable: tried to connect to ${redactUrl(databaseUrl)}, got ${probe.error}`,
      {
        hint: 'start that Postgres or fix DATABASE_URL; unset DATABASE_URL to use the embedded Postgres (autocoder up)',
      },
    );
  }
}

export type StackDownResult = { temporal: StopResult; postgres: StopResult };

/** Stops only the servers this state dir's `up` started (by recorded pid + start time). */
export async function stackDown(cfg: EnvConfig, options: { log?: StackLog } = {}): Promise<StackDownResult> {
  const log = options.log ?? (() => {});
  const paths = stackPaths(cfg);
  if (!existsSync(paths.temporalPidFile) && !existsSync(paths.pgPidFile)) {
    // Nothing was started from this state dir: do not even create it.
    log('temporal: was not running (nothing to stop)');
    log('postgres: was not running (nothing to stop)');
    return { temporal: 'not-running', postgres: 'not-running' };
  }
  return withStackLock(
    paths,
    async () => {
      const [temporal, postgres] = await Promise.all([stopTemporalServer(paths), stopPostgres(paths)]);
      log(`temporal: ${describeStop(temporal)}`);
      log(`postgres: ${describeStop(postgres)}`);
      return { temporal, postgres };
    },
    { log },
  );
}

function describeStop(result: StopResult): string {
  return {
    stopped: 'stopped',
    killed: 'killed (did not stop in time)',
    'not-running': 'was not running (nothing to stop)',
  }[result];
}

/**
 * Config for a private stack (tests, benchmarks): its own state dir, free ports, and no external
 * servers even when the caller's environment names some. Tools (the Temporal CLI) may be shared.
 */
export async function privateStackConfig(home: string, overrides: ConfigOverrides = {}): Promise<EnvConfig> {
  const [temporalPort, temporalUiPort, pgPort] = await findFreePorts(3);
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['AUTOCODER_TOOLS_DIR', 'TEMPORAL_CLI', 'PATH'] as const) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return loadEnvConfig(env, { home, temporalPort, temporalUiPort, pgPort, ...overrides });
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
