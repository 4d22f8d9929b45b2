/**
 * The production path in infra/, checked without a cluster: every Kubernetes manifest is valid
 * against the Kubernetes API schemas (kubernetes-models), the pieces agree with each other (the
 * Secret's keys and the pods' references, mounts and the paths in DATABASE_URL and the Temporal
 * profiles, the migration Job's image and the workers'), the workers' environment is one our
 * config accepts, and the Temporal profiles load through @temporalio/envconfig as the workers do.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClientConfig, loadClientConnectConfig } from '@temporalio/envconfig';
import { parse, parseAllDocuments } from 'yaml';
import { connectionExtras } from '../src/client.ts';
import { loadEnvConfig } from '../src/config/env.ts';
import { knownEnvNames, validateKubernetesObject } from './support/infra-schemas.ts';

const k8sDir = fileURLToPath(new URL('../infra/k8s/', import.meta.url));
const temporalDir = fileURLToPath(new URL('../infra/temporal/', import.meta.url));
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const manifests = readdirSync(k8sDir)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .sort();
const objects: { file: string; doc: Obj }[] = manifests.flatMap((file) =>
  parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((d) => ({ file, doc: d.toJS() as Obj })),
);
const find = (kind: string, name: string): Obj => {
  const found = objects.find(
    ({ doc }) => doc.kind === kind && (doc.metadata?.name ?? doc.metadata?.generateName) === name,
  );
  assert.ok(found, `${kind} ${name} in infra/k8s`);
  return found.doc;
};
const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as Obj;
const config = find('ConfigMap', 'autocoder-config');
const secret = find('Secret', 'autocoder-secrets');
const workers = find('StatefulSet', 'autocoder-worker');
const migrateJob = find('Job', 'autocoder-db-migrate-');
const pod = workers.spec.template.spec;
const worker = pod.containers[0];
const envOf = (container: Obj, name: string): Obj | undefined => container.env?.find((e: Obj) => e.name === name);
const mountOf = (container: Obj, volume: string): string | undefined =>
  container.volumeMounts?.find((m: Obj) => m.name === volume)?.mountPath;

test('every manifest is valid against the Kubernetes API schema', () => {
  assert.ok(objects.length >= 7, manifests.join(' '));
  for (const { file, doc } of objects) assert.doesNotThrow(() => validateKubernetesObject(doc), file);
});

test('the schema check catches a wrong type, a missing field and an unknown kind', () => {
  const wrongType = structuredClone(workers);
  wrongType.spec.template.spec.terminationGracePeriodSeconds = '120';
  assert.throws(() => validateKubernetesObject(wrongType), /terminationGracePeriodSeconds must be integer/);
  const noName = structuredClone(migrateJob);
  delete noName.spec.template.spec.containers[0].name;
  assert.throws(() => validateKubernetesObject(noName), /containers\/0 must have required property name/);
  assert.throws(() => validateKubernetesObject({ apiVersion: 'apps/v1', kind: 'Deploymnet' }), /no schema/);
});

test('the kustomization applies the long-lived objects; Jobs and the example Secret are created by hand', () => {
  const listed = new Set<string>(kustomization.resources);
  for (const file of listed) assert.ok(existsSync(join(k8sDir, file)), file);
  const byHand = ['migrate-job.yaml', 'secret.example.yaml', 'temporal-search-attributes-job.yaml'];
  assert.deepEqual(
    manifests.filter((f) => !listed.has(f)),
    byHand,
  );
  for (const generator of kustomization.configMapGenerator)
    for (const file of generator.files) assert.ok(existsSync(join(k8sDir, file)), file);
  const [image] = kustomization.images;
  assert.equal(worker.image, image.name);
  assert.equal(migrateJob.spec.template.spec.containers[0].image, `${image.newName}:${image.newTag}`, 'one release');
});

test('workers: host id from the pod name, readiness on the metrics port, time to drain on SIGTERM', () => {
  assert.deepEqual(envOf(worker, 'AUTOCODER_HOST_ID')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  // A StatefulSet's pod names (<name>-<ordinal>) stay host ids across restarts: a letter or digit first, <= 63.
  for (const ordinal of [0, 99])
    assert.match(`${workers.metadata.name}-${ordinal}`, /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/);
  assert.ok(pod.terminationGracePeriodSeconds >= 60, 'SIGTERM gets time to drain the agents');
  const metricsPort = worker.ports.find((p: Obj) => p.name === 'metrics');
  assert.equal(worker.readinessProbe.httpGet.port, 'metrics');
  assert.equal(worker.readinessProbe.httpGet.path, '/metrics');
  const flag = worker.args.indexOf('--metrics');
  assert.equal(worker.args[0], 'worker');
  assert.equal(
    worker.args[flag + 1],
    `0.0.0.0:${metricsPort.containerPort}`,
    'the probe reaches what --metrics serves',
  );
  const service = find('Service', workers.spec.serviceName);
  assert.deepEqual(service.spec.selector, workers.spec.template.metadata.labels);
  assert.deepEqual(workers.spec.selector.matchLabels, workers.spec.template.metadata.labels);
  assert.equal(mountOf(worker, 'state'), config.data.AUTOCODER_HOME);
  assert.deepEqual(
    workers.spec.volumeClaimTemplates.map((c: Obj) => c.metadata.name),
    ['state'],
    'each pod keeps its own state dir',
  );
  const volumes = new Set([...pod.volumes.map((v: Obj) => v.name), 'state']);
  for (const m of worker.volumeMounts) assert.ok(volumes.has(m.name), m.name);
});

test('secrets come from the Secret, and its DATABASE_URL names the CA where the pods mount it', () => {
  for (const [container, names] of [
    [worker, ['DATABASE_URL', 'TEMPORAL_API_KEY']],
    [migrateJob.spec.template.spec.containers[0], ['DATABASE_URL']],
  ] as const) {
    for (const name of names) {
      const ref = envOf(container, name)?.valueFrom?.secretKeyRef;
      assert.equal(ref?.name, secret.metadata.name, name);
      assert.ok(ref.key in secret.stringData, `${name}: key ${ref.key} is in the Secret`);
    }
  }
  assert.equal(envOf(worker, 'TEMPORAL_API_KEY')?.valueFrom.secretKeyRef.optional, true, 'self-hosted has no API key');
  const url = new URL(secret.stringData.DATABASE_URL);
  assert.equal(url.searchParams.get('sslmode'), 'verify-full');
  const caPath = url.searchParams.get('sslrootcert') ?? '';
  for (const spec of [pod, migrateJob.spec.template.spec]) {
    const tls = spec.volumes.find((v: Obj) => v.name === 'db-tls');
    const mounted = posix.join(mountOf(spec.containers[0], 'db-tls') ?? '', tls.secret.items[0].path);
    assert.equal(mounted, caPath, 'sslrootcert is the mounted CA');
    assert.ok(tls.secret.items[0].key in secret.stringData);
  }
  assert.equal(migrateJob.spec.template.spec.restartPolicy, 'Never');
  assert.deepEqual(migrateJob.spec.template.spec.containers[0].args.slice(0, 2), ['db', 'migrate']);
});

test("the workers' environment uses names we read, and our config accepts it", () => {
  const known = knownEnvNames();
  const env: Record<string, string> = { ...config.data };
  for (const e of worker.env) env[e.name] = e.value ?? '';
  for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is read by neither env.ts nor envconfig`);
  const loaded = loadEnvConfig({
    ...env,
    DATABASE_URL: secret.stringData.DATABASE_URL,
    AUTOCODER_HOST_ID: `${workers.metadata.name}-0`,
  });
  assert.equal(loaded.temporalAddress, config.data.TEMPORAL_ADDRESS, 'an external Temporal, never a local dev server');
  assert.equal(loaded.temporalNamespace, config.data.TEMPORAL_NAMESPACE);
  assert.equal(loaded.home, config.data.AUTOCODER_HOME);
});

const scratch = mkdtempSync(join(tmpdir(), 'ac-infra-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const profileFile = join(k8sDir, 'temporal.toml');

test('Temporal Cloud profile: the API key from the environment, TLS on, the address the workers dial', async () => {
  const cloud = loadClientConnectConfig({
    profile: 'cloud',
    configSource: { path: profileFile },
    overrideEnvVars: { TEMPORAL_API_KEY: 'test-key' },
  });
  assert.equal(cloud.connectionOptions.apiKey, 'test-key');
  assert.equal(cloud.connectionOptions.tls, true);
  assert.equal(cloud.connectionOptions.address, config.data.TEMPORAL_ADDRESS);
  assert.equal(cloud.namespace, config.data.TEMPORAL_NAMESPACE);
  assert.equal(config.data.TEMPORAL_PROFILE, 'cloud');
  const profileMount = mountOf(worker, 'temporal-profile');
  assert.equal(posix.join(profileMount ?? '', 'temporal.toml'), config.data.TEMPORAL_CONFIG_FILE);

  // The code path the workers take (src/client.ts), with the pod's variables.
  const saved = { ...process.env };
  try {
    Object.assign(process.env, {
      TEMPORAL_CONFIG_FILE: profileFile,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_API_KEY: 'pod-key',
    });
    const extras = await connectionExtras({ address: 'x:7233', namespace: 'n', useEnvConfig: true });
    assert.equal(extras.apiKey, 'pod-key');
    assert.equal(extras.tls, true);
  } finally {
    for (const key of ['TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE', 'TEMPORAL_API_KEY']) delete process.env[key];
    Object.assign(process.env, saved);
  }
});

test('self-hosted profile: TLS with the CA where the pods mount the temporal-tls Secret', () => {
  const raw = loadClientConfig({ configSource: { path: profileFile } }).profiles['self-hosted'];
  const caPath = (raw?.tls as { serverCACert?: { path?: string } } | undefined)?.serverCACert?.path ?? '';
  assert.equal(posix.dirname(caPath), mountOf(worker, 'temporal-tls'));
  const ca = join(scratch, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const loaded = loadClientConnectConfig({
    profile: 'self-hosted',
    configSource: { path: profileFile },
    overrideEnvVars: { TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca },
  });
  const tls = loaded.connectionOptions.tls as { serverNameOverride?: string; serverRootCACertificate?: Uint8Array };
  assert.ok(tls.serverRootCACertificate && tls.serverRootCACertificate.length > 0);
  assert.equal(tls.serverNameOverride, 'temporal-frontend.temporal.svc.cluster.local');
});

test('self-hosted Temporal values: Postgres persistence with TLS, the CA mounted for server and schema jobs', () => {
  const values = parse(readFileSync(join(temporalDir, 'helm-values.yaml'), 'utf8')) as Obj;
  const { persistence } = values.server.config;
  assert.deepEqual(
    Object.keys(persistence.datastores).sort(),
    [persistence.defaultStore, persistence.visibilityStore].sort(),
  );
  for (const [name, store] of Object.entries(persistence.datastores) as [string, Obj][]) {
    assert.equal(store.sql.pluginName, 'postgres12', name);
    assert.equal(store.sql.tls.enabled, true, name);
    assert.equal(store.sql.password, undefined, `${name}: the password comes from existingSecret`);
    assert.ok(store.sql.existingSecret, name);
    for (const part of [values.server, values.admintools]) {
      const mount = part.additionalVolumeMounts.find((m: Obj) => store.sql.tls.caFile.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${name}: the CA file is mounted`);
      assert.ok(part.additionalVolumes.some((v: Obj) => v.name === mount.name));
    }
  }
});

test('the worker image has git (worktree isolation, the merge queue and gc run it) and runs the CLI', () => {
  const dockerfile = readFileSync(fileURLToPath(new URL('../infra/Dockerfile', import.meta.url)), 'utf8');
  assert.match(dockerfile, /apt-get install -y --no-install-recommends git\b/);
  assert.match(dockerfile, /^ENTRYPOINT \["bin\/autocoder"\]$/m);
});
