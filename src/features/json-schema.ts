import { z } from 'zod';
import { featureFileSchema } from './schema.ts';

/**
 * The JSON Schema of the feature file, generated from the zod schema (input side: fields with
 * defaults are optional). Committed as schema/feature-file.schema.json by
 * `bin/node scripts/gen-schemas.ts`; a test fails when the committed copy is stale.
 */
export function featureFileJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(featureFileSchema, { io: 'input', target: 'draft-2020-12' });
  const { $schema, ...rest } = generated;
  return { $schema, title: 'autocoder feature file', ...rest };
}
