/**
 * No Docker engine runs here, so docker-compose.yml is checked statically: it parses, it has the
 * services the README names, and every environment variable given to our worker is one the code
 * reads (src/config/env.ts), so a rename cannot leave the compose file behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { envSchema, loadEnvConfig } from '../src/config/env.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
type Service = {
  image?: string;
  build?: { dockerfile?: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
};
const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8')) as { services: Record<string, Service> };

test('compose has postgres, temporal, its UI and the worker', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), [
    'postgres',
    'temporal',
    'temporal-setup',
    'temporal-ui',
    'worker',
  ]);
  assert.ok(
    compose.services.worker?.build?.dockerfile && existsSync(`${root}${compose.services.worker.build.dockerfile}`),
  );
});

test('the worker environment uses exactly the names the config schema reads, with valid values', () => {
  const env = compose.services.worker?.environment ?? {};
  const known = new Set(Object.keys(envSchema.shape));
  for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is not read by src/config/env.ts`);
  for (const required of ['DATABASE_URL', 'TEMPORAL_ADDRESS']) assert.ok(required in env, `worker needs ${required}`);
  const config = loadEnvConfig(env);
  assert.equal(config.temporalAddress, 'temporal:7233');
  assert.match(config.databaseUrl ?? '', /@postgres:5432\//);
});

test('the search attributes the workflows set are registered by compose', () => {
  const setup = JSON.stringify(compose.services['temporal-setup']);
  for (const attribute of ['AutocoderProject:Keyword', 'AutocoderKind:Keyword', 'AutocoderFeature:Int'])
    assert.ok(setup.includes(attribute), attribute);
});
