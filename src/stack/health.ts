/**
 * Health probes that work for our own servers and for external ones (TEMPORAL_ADDRESS,
 * DATABASE_URL): a gRPC health check through the Temporal SDK, and a Postgres round trip.
 * The SDK is imported lazily: it costs about 0.3 s, and most commands never need it here.
 */
import { connect } from 'node:net';
import type { Connection as TemporalConnection } from '@temporalio/client';
import pg from 'pg';
import { redactUrl } from '../config/env.ts';

export type Probe = { ok: true; version: string } | { ok: false; error: string };

/**
 * gRPC health (SERVING) and server version of a Temporal frontend. With `useEnvConfig`, TLS, API
 * key and metadata come from @temporalio/envconfig (env vars and profile file), as for Cloud.
 */
export async function probeTemporal(
  address: string,
  options: { timeoutMs?: number; useEnvConfig?: boolean } = {},
): Promise<Probe> {
  // A plain TCP connect first: it fails in milliseconds where the SDK would retry until its timeout.
  const tcp = await probeTcp(address, options.timeoutMs ?? 5000);
  if (!tcp.ok) return tcp;
  const { Connection } = await import('@temporalio/client');
  let extra: { tls?: unknown; apiKey?: unknown; metadata?: unknown } = {};
  if (options.useEnvConfig) {
    try {
      const { loadClientConnectConfig } = await import('@temporalio/envconfig');
      const { connectionOptions } = loadClientConnectConfig();
      extra = { tls: connectionOptions.tls, apiKey: connectionOptions.apiKey, metadata: connectionOptions.metadata };
    } catch (error) {
      return { ok: false, error: `could not load the Temporal client config: ${(error as Error).message}` };
    }
  }
  // The port answers, so a gRPC deadline is a busy server or machine: one more try before we say so.
  const first = await grpcProbe(Connection, address, options.timeoutMs ?? 5000, extra);
  if (first.ok || !/deadline/i.test(first.error)) return first;
  return grpcProbe(Connection, address, options.timeoutMs ?? 5000, extra);
}

async function grpcProbe(
  Connection: typeof TemporalConnection,
  address: string,
  timeoutMs: number,
  extra: Record<string, unknown>,
): Promise<Probe> {
  let connection: Awaited<ReturnType<typeof Connection.connect>> | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs, ...(extra as Record<string, never>) });
    const health = await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection!.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' }),
    );
    // grpc.health.v1 ServingStatus: 1 = SERVING
    if (health.status !== 1) return { ok: false, error: `health status ${String(health.status)} (not SERVING)` };
    const info = await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection!.workflowService.getSystemInfo({}),
    );
    return { ok: true, version: `server ${info.serverVersion ?? 'unknown'}` };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Connects to Postgres and asks its version; the error names host:port, never the password. */
export async function probePostgres(databaseUrl: string, options: { timeoutMs?: number } = {}): Promise<Probe> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: options.timeoutMs ?? 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return { ok: true, version: `PostgreSQL ${result.rows[0]?.server_version ?? 'unknown'}` };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether host:port (IPv6 in brackets) accepts a TCP connection; the error names the reason. */
export function probeTcp(address: string, timeoutMs: number): Promise<{ ok: true } | { ok: false; error: string }> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: { ok: true } | { ok: false; error: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ ok: false, error: `TCP connect to ${address} timed out after ${timeoutMs} ms` }),
    );
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (error) => done({ ok: false, error: `TCP connect failed: ${describeError(error)}` }));
  });
}

/** "host:port" of a postgres URL, for messages. */
export function postgresHostPort(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}`;
  } catch {
    return redactUrl(databaseUrl);
  }
}

function describeError(error: unknown): string {
  const err = error as { code?: string; message?: string; errors?: unknown[] };
  // AggregateError (e.g. localhost resolving to ::1 and 127.0.0.1) has an empty message.
  if (!err.message && Array.isArray(err.errors) && err.errors.length > 0) return describeError(err.errors[0]);
  const message = (err.message ?? String(error)).split('\n')[0] ?? '';
  return err.code && !message.includes(err.code) ? `${err.code}: ${message}` : message;
}
