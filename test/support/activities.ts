/**
 * Activities under test with real parts: a cloned test database, a client of the test stack's
 * Temporal server and a scratch state directory, set up before the file's tests and torn down after.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActivities } from '../../src/activities/index.ts';
import { connectTemporal, type TemporalClient } from '../../src/client.ts';
import { createTestDb, type TestDb } from './db.ts';

export type ActivityEnv = {
  dir: string;
  t: TestDb;
  temporal: TemporalClient;
  activities: (extra?: { killGraceMs?: number }) => ReturnType<typeof createActivities>;
};

export function withActivityEnv(prefix: string): ActivityEnv {
  const env = { dir: mkdtempSync(join(tmpdir(), `ac-${prefix}-`)) } as ActivityEnv;
  env.activities = (extra = {}) =>
    createActivities({
      db: env.t.db,
      temporal: env.temporal.client,
      databaseUrl: env.t.url,
      stateDir: env.dir,
      host: hostname(),
      log: () => undefined,
      ...extra,
    });
  before(async () => {
    env.t = await createTestDb();
    const address = process.env.TEMPORAL_ADDRESS;
    assert.ok(address, 'run through scripts/test.ts (it provides TEMPORAL_ADDRESS)');
    env.temporal = await connectTemporal({ address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  });
  after(async () => {
    await env.temporal?.close();
    await env.t?.close();
    rmSync(env.dir, { recursive: true, force: true });
  });
  return env;
}
