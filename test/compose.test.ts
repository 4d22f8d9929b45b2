/**
 * docker-compose.yml, checked statically: it is valid against the Compose Specification's JSON
 * schema (as shipped in the dclint package, so nothing is downloaded), it has the services the
 * README names, its two workers have distinct host ids and state dirs and wait for the migration,
 * and every environment variable given to our containers is one the code reads. Where a Docker
 * engine exists, `docker compose config` must accept it as well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadEnvConfig } from '../src/config/env.ts';
import { composeSchemaValidator, knownEnvNames, problemsOf } from './support/infra-schemas.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
type Service = {
  image?: string;
  build?: { dockerfile?: string };
  hostname?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  volumes?: string[];
  stop_grace_period?: string;
};
const text = readFileSync(`${root}docker-compose.yml`, 'utf8');
// Compose resolves YAML merge keys (<<: *anchor); so does this parse.
const compose = parse(text, { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const workers = ['worker-a', 'worker-b'] as const;

test('the compose file is valid against the Compose Specification schema', () => {
  const validate = composeSchemaValidator();
  assert.ok(validate(compose), problemsOf(validate.errors));
});

test('the schema check catches a misspelt key and a wrong type', () => {
  const validate = composeSchemaValidator();
  const typo = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
  typo.services['worker-a']!.restart_policy = 'always';
  assert.equal(validate(typo), false);
  assert.match(problemsOf(validate.errors), /restart_policy/);
  const wrongType = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
  wrongType.services['worker-b']!.depends_on = 'postgres';
  assert.equal(validate(wrongType), false);
});

test('compose has postgres, temporal, its UI, the migration, two workers and the CLI', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), [
    'cli',
    'migrate',
    'postgres',
    'temporal',
    'temporal-setup',
    'temporal-ui',
    ...workers,
  ]);
  for (const name of ['migrate', 'cli', ...workers]) {
    const dockerfile = compose.services[name]?.build?.dockerfile;
    assert.ok(dockerfile && existsSync(`${root}${dockerfile}`), name);
  }
  assert.deepEqual(compose.services.migrate?.command?.slice(0, 2), ['db', 'migrate']);
  // The operators' CLI only runs when asked, and never as a worker host.
  const cli = compose.services.cli as Service & { profiles?: string[] };
  assert.deepEqual(cli.profiles, ['cli']);
  assert.equal(cli.environment?.AUTOCODER_HOST_ID, undefined);
  assert.ok(!cli.volumes?.some((v) => v.includes('-state:')), 'no worker state volume');
});

test('the two workers: distinct host ids and state volumes, both wait for the migration', () => {
  const hostIds = workers.map((w) => compose.services[w]?.environment?.AUTOCODER_HOST_ID);
  assert.deepEqual(hostIds, ['worker-a', 'worker-b']);
  const stateVolumes = workers.map((w) => compose.services[w]?.volumes?.find((v) => v.endsWith(':/state')));
  assert.equal(new Set(stateVolumes).size, 2, `state volumes ${String(stateVolumes)}`);
  for (const volume of stateVolumes) assert.ok(volume && volume.split(':')[0]! in compose.volumes, volume);
  for (const w of workers) {
    const service = compose.services[w]!;
    assert.equal(service.hostname, service.environment?.AUTOCODER_HOST_ID);
    assert.equal(service.command?.[0], 'worker');
    assert.equal(service.depends_on?.migrate?.condition, 'service_completed_successfully', w);
    assert.ok(service.stop_grace_period, `${w} gives SIGTERM time to drain`);
  }
});

test('the containers use exactly the names the config schema reads, with valid values', () => {
  const known = knownEnvNames();
  for (const name of ['migrate', 'cli', ...workers]) {
    const env = compose.services[name]?.environment ?? {};
    for (const variable of Object.keys(env)) assert.ok(known.has(variable), `${name}: ${variable} is not read by us`);
    assert.ok('DATABASE_URL' in env, `${name} needs DATABASE_URL`);
    const config = loadEnvConfig(env);
    assert.match(config.databaseUrl ?? '', /@postgres:5432\//);
  }
  for (const w of workers)
    assert.equal(loadEnvConfig(compose.services[w]?.environment ?? {}).temporalAddress, 'temporal:7233');
});

test('the search attributes the workflows set are registered by compose', () => {
  const setup = JSON.stringify(compose.services['temporal-setup']);
  for (const attribute of ['AutocoderProject:Keyword', 'AutocoderKind:Keyword', 'AutocoderFeature:Int'])
    assert.ok(setup.includes(attribute), attribute);
});

const docker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const noDocker =
  docker.error || docker.status !== 0
    ? `no Docker engine with the compose plugin here (docker compose version: ${(docker.error?.message ?? docker.stderr).trim().split('\n')[0]})`
    : false;

test('docker compose config accepts the file', { skip: noDocker }, async () => {
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile('docker', ['compose', '-f', `${root}docker-compose.yml`, 'config', '--quiet'], (error, _out, err) =>
      resolve({ code: error ? 1 : 0, stderr: err }),
    ),
  );
  assert.equal(code, 0, stderr);
});
