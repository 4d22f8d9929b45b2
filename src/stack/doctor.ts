/**
 * `autocoder doctor`: each stack component's health, version, address and, when it is down, the
 * command that fixes it. It reads records and probes ports; it starts nothing.
 */
import type { EnvConfig } from '../config/env.ts';
import { postgresHostPort, probePostgres, probeTemporal } from './health.ts';
import { stackPaths } from './paths.ts';
import { embeddedDatabaseUrl, runningPostgres } from './postgres.ts';
import { portAnswers } from './process.ts';
import { findTemporalCli, temporalVersion } from './temporal-cli.ts';
import { LOCAL_HOST, runningTemporalServer, temporalAddressOf, temporalUiUrlOf } from './temporal-server.ts';

export type DoctorComponent = {
  name: 'temporal-cli' | 'temporal' | 'temporal-ui' | 'postgres';
  health: 'ok' | 'down';
  version: string | null;
  address: string | null;
  /** started by `autocoder up` (true) or external/not ours (false) */
  managed: boolean;
  detail: string | null;
  fix: string | null;
};

/** Each component's health, version, address and (when down) the fix. Starts nothing. */
export async function stackDoctor(cfg: EnvConfig): Promise<DoctorComponent[]> {
  const paths = stackPaths(cfg);
  const up = 'autocoder up';
  return Promise.all([
    doctorCli(cfg),
    doctorTemporal(cfg, paths, up),
    doctorUi(cfg, paths, up),
    doctorPostgres(cfg, paths, up),
  ]).then((list) => list.filter((c): c is DoctorComponent => c !== undefined));
}

async function doctorCli(cfg: EnvConfig): Promise<DoctorComponent> {
  const base = { name: 'temporal-cli' as const, managed: cfg.temporalAddress === undefined };
  try {
    const found = findTemporalCli(cfg);
    if (!found) {
      // Only the local stack needs it; with TEMPORAL_ADDRESS it is a convenience.
      const needed = cfg.temporalAddress === undefined;
      return {
        ...base,
        health: needed ? 'down' : 'ok',
        version: null,
        address: null,
        detail: needed ? 'not installed' : 'not installed (not needed with TEMPORAL_ADDRESS)',
        fix: needed ? 'autocoder up (installs it)' : null,
      };
    }
    return {
      ...base,
      health: 'ok',
      version: await temporalVersion(found.path),
      address: found.path,
      detail: `from ${found.source}`,
      fix: null,
    };
  } catch (error) {
    return {
      ...base,
      health: 'down',
      version: null,
      address: cfg.temporalCli ?? null,
      detail: (error as Error).message,
      fix: 'set TEMPORAL_CLI to a working temporal binary, or unset it',
    };
  }
}

async function doctorTemporal(
  cfg: EnvConfig,
  paths: ReturnType<typeof stackPaths>,
  fix: string,
): Promise<DoctorComponent> {
  if (cfg.temporalAddress !== undefined) {
    const probe = await probeTemporal(cfg.temporalAddress, { useEnvConfig: true });
    return probe.ok
      ? {
          name: 'temporal',
          health: 'ok',
          version: probe.version,
          address: cfg.temporalAddress,
          managed: false,
          detail: 'TEMPORAL_ADDRESS',
          fix: null,
        }
      : {
          name: 'temporal',
          health: 'down',
          version: null,
          address: cfg.temporalAddress,
          managed: false,
          detail: probe.error,
          fix: 'start that server or fix TEMPORAL_ADDRESS (unset it to use the local dev server)',
        };
  }
  const record = runningTemporalServer(paths);
  const address = record ? temporalAddressOf(record) : `${LOCAL_HOST}:${cfg.temporalPort}`;
  if (!record)
    return { name: 'temporal', health: 'down', version: null, address, managed: true, detail: 'not running', fix };
  const probe = await probeTemporal(address);
  return probe.ok
    ? {
        name: 'temporal',
        health: 'ok',
        version: probe.version,
        address,
        managed: true,
        detail: `pid ${record.pid}, db ${paths.temporalDb}`,
        fix: null,
      }
    : {
        name: 'temporal',
        health: 'down',
        version: null,
        address,
        managed: true,
        detail: `pid ${record.pid} runs but ${probe.error}`,
        fix: `autocoder down && autocoder up (log: ${paths.temporalLog})`,
      };
}

async function doctorUi(
  cfg: EnvConfig,
  paths: ReturnType<typeof stackPaths>,
  fix: string,
): Promise<DoctorComponent | undefined> {
  if (cfg.temporalAddress !== undefined) return undefined;
  const record = runningTemporalServer(paths);
  const port = record?.ports.ui ?? cfg.temporalUiPort;
  const address = record ? temporalUiUrlOf(record) : `http://localhost:${port}`;
  const ok = record !== undefined && (await portAnswers(LOCAL_HOST, port, 1000));
  return {
    name: 'temporal-ui',
    health: ok ? 'ok' : 'down',
    version: null,
    address,
    managed: true,
    detail: ok ? null : 'not answering',
    fix: ok ? null : fix,
  };
}

async function doctorPostgres(
  cfg: EnvConfig,
  paths: ReturnType<typeof stackPaths>,
  fix: string,
): Promise<DoctorComponent> {
  if (cfg.databaseUrl !== undefined) {
    const address = postgresHostPort(cfg.databaseUrl);
    const probe = await probePostgres(cfg.databaseUrl);
    return probe.ok
      ? {
          name: 'postgres',
          health: 'ok',
          version: probe.version,
          address,
          managed: false,
          detail: 'DATABASE_URL',
          fix: null,
        }
      : {
          name: 'postgres',
          health: 'down',
          version: null,
          address,
          managed: false,
          detail: probe.error,
          fix: 'start that Postgres or fix DATABASE_URL (unset it to use the embedded Postgres)',
        };
  }
  const record = runningPostgres(paths);
  const port = record?.ports.postgres ?? cfg.pgPort;
  const address = `${LOCAL_HOST}:${port}`;
  if (!record)
    return { name: 'postgres', health: 'down', version: null, address, managed: true, detail: 'not running', fix };
  const probe = await probePostgres(embeddedDatabaseUrl(paths, port));
  return probe.ok
    ? {
        name: 'postgres',
        health: 'ok',
        version: probe.version,
        address,
        managed: true,
        detail: `pid ${record.pid}, data ${record.details?.dataDir ?? '?'}`,
        fix: null,
      }
    : {
        name: 'postgres',
        health: 'down',
        version: null,
        address,
        managed: true,
        detail: `pid ${record.pid} runs but ${probe.error}`,
        fix: `autocoder down && autocoder up (log: ${record.details?.log ?? paths.postgresDir})`,
      };
}
