/**
 * Writes the JSON Schemas generated from our zod schemas, so editors and other tools can check
 * files without running our code. Run `bin/node scripts/gen-schemas.ts` after changing a schema
 * and commit the result; test/features/json-schema.test.ts fails while a committed copy is stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { featureFileJsonSchema } from '../src/features/json-schema.ts';

export const REGENERATE_COMMAND = 'bin/node scripts/gen-schemas.ts';

/** Each generated file, relative to the repository root, with the function that builds it. */
export const generatedSchemas: { path: string; build: () => unknown }[] = [
  { path: 'schema/feature-file.schema.json', build: featureFileJsonSchema },
];

export function renderSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (import.meta.main) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const { path, build } of generatedSchemas) {
    const target = root + path;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, renderSchema(build()));
    process.stdout.write(`wrote ${path}\n`);
  }
}
