import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generatedSchemas, REGENERATE_COMMAND, renderSchema } from '../../scripts/gen-schemas.ts';
import { repoRoot } from './run-cli.ts';

test('the committed JSON Schemas are what the zod schemas generate', () => {
  assert.ok(generatedSchemas.some((s) => s.path === 'schema/feature-file.schema.json'));
  for (const { path, build } of generatedSchemas) {
    let committed = '';
    try {
      committed = readFileSync(repoRoot + path, 'utf8');
    } catch {
      assert.fail(`${path} is missing: run \`${REGENERATE_COMMAND}\` and commit it`);
    }
    assert.ok(
      committed === renderSchema(build()),
      `${path} is stale: run \`${REGENERATE_COMMAND}\` and commit the result`,
    );
  }
});

test('the feature file schema describes every field and requires only id and name', () => {
  const schema = JSON.parse(readFileSync(`${repoRoot}schema/feature-file.schema.json`, 'utf8')) as {
    $defs: {
      Feature: {
        properties: Record<string, { description?: string }>;
        required: string[];
        additionalProperties: boolean;
      };
    };
  };
  const feature = schema.$defs.Feature;
  assert.deepEqual(feature.required, ['id', 'name']);
  assert.equal(feature.additionalProperties, false);
  for (const [name, property] of Object.entries(feature.properties))
    assert.ok(property.description, `${name} has no description`);
});
