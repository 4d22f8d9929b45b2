/**
 * CPU time by component over a benchmark run, from /proc (Linux; elsewhere every figure is null):
 * the Temporal dev server, Postgres (postmaster, its live backends and the ones it has reaped),
 * the spawn helper (part of the worker) and the agents (children this process or the spawn
 * helper reaped: the launchers and the agents under them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { statFields } from '../src/supervisor/proc.ts';

const TICK_MS = 10; // USER_HZ is 100 on every Linux this runs on

type Ticks = { own: number; reaped: number; ppid: number };

function ticksOf(pid: number | 'self'): Ticks | null {
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    if (!fields) return null;
    const field = (n: number): number => Number(fields[n - 3]);
    return { own: field(14) + field(15), reaped: field(16) + field(17), ppid: field(4) };
  } catch {
    return null;
  }
}

export type CpuSnapshot = {
  serverMs: number | null;
  postgresMs: number | null;
  agentsMs: number | null;
  spawnHelperMs: number | null;
};

export function cpuSnapshot(pids: {
  temporal?: number | undefined;
  postgres?: number | undefined;
  spawnHelper?: number | null;
}): CpuSnapshot {
  if (process.platform !== 'linux') return { serverMs: null, postgresMs: null, agentsMs: null, spawnHelperMs: null };
  const server = pids.temporal === undefined ? null : ticksOf(pids.temporal);
  let postgres: number | null = null;
  if (pids.postgres !== undefined) {
    const postmaster = ticksOf(pids.postgres);
    if (postmaster) {
      postgres = postmaster.own + postmaster.reaped;
      for (const name of readdirSync('/proc')) {
        const backend = /^\d+$/.test(name) ? ticksOf(Number(name)) : null;
        if (backend?.ppid === pids.postgres) postgres += backend.own;
      }
    }
  }
  const self = ticksOf('self');
  const helper = pids.spawnHelper ? ticksOf(pids.spawnHelper) : null;
  return {
    serverMs: server ? (server.own + server.reaped) * TICK_MS : null,
    postgresMs: postgres === null ? null : postgres * TICK_MS,
    agentsMs: self ? (self.reaped + (helper?.reaped ?? 0)) * TICK_MS : null,
    spawnHelperMs: (helper?.own ?? 0) * TICK_MS,
  };
}

/** Milliseconds per feature spent by each component between two snapshots. */
export function cpuPerFeature(
  before: CpuSnapshot,
  after: CpuSnapshot,
  features: number,
): Record<string, number | null> {
  const per = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : Math.round(((b - a) / features) * 10) / 10;
  return {
    serverCpuMsPerFeature: per(before.serverMs, after.serverMs),
    postgresCpuMsPerFeature: per(before.postgresMs, after.postgresMs),
    agentCpuMsPerFeature: per(before.agentsMs, after.agentsMs),
    spawnHelperCpuMsPerFeature: per(before.spawnHelperMs, after.spawnHelperMs),
  };
}
