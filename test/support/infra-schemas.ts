/**
 * Schemas for the deployment files, all from installed registry packages (nothing is downloaded
 * at test time): the Compose Specification's JSON schema as the dclint package ships it, checked
 * with Ajv, and the Kubernetes API's schemas compiled into kubernetes-models' `validate()`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { envSchema } from '../../src/config/env.ts';

const require = createRequire(import.meta.url);

/** An Ajv validator of the Compose Specification (draft-07 JSON schema). */
export function composeSchemaValidator(): ValidateFunction {
  const path = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
  const schema = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  // Its $schema names draft-07 by an https URL, which Ajv's built-in meta-schema is not keyed by.
  delete schema.$schema;
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

export function problemsOf(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
}

type Model = { validate: () => void };
const kinds: Record<string, new (data: never) => Model> = {
  'apps/v1 StatefulSet': StatefulSet,
  'batch/v1 Job': Job,
  'v1 ConfigMap': ConfigMap,
  'v1 Secret': Secret,
  'v1 Service': Service,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
};

/**
 * Validates one Kubernetes object against its API schema; throws naming the kind and the problem.
 * Only the kinds our manifests use are known: another kind is an error, so a new manifest gets a
 * schema here before it ships.
 */
export function validateKubernetesObject(doc: { apiVersion?: string; kind?: string }): void {
  const key = `${doc.apiVersion} ${doc.kind}`;
  const Model = kinds[key];
  if (!Model) throw new Error(`no schema for ${key}: add its kubernetes-models class in test/support/infra-schemas.ts`);
  new Model(doc as never).validate();
}

/**
 * Environment names our containers may be given: those src/config/env.ts reads, those
 * @temporalio/envconfig reads (src/client.ts connectionExtras: TLS, API key, profiles).
 */
export function knownEnvNames(): Set<string> {
  return new Set([
    ...Object.keys(envSchema.shape),
    'TEMPORAL_CONFIG_FILE',
    'TEMPORAL_PROFILE',
    'TEMPORAL_API_KEY',
    'TEMPORAL_TLS',
    'TEMPORAL_TLS_CLIENT_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_KEY_PATH',
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    'TEMPORAL_TLS_SERVER_NAME',
  ]);
}
