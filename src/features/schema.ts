/**
 * The feature file format: `{ "features": [ ... ] }` or a bare array of features, each a SPEC.md
 * "Feature row". This schema is the documentation (every field is described) and the source of
 * schema/feature-file.schema.json (`bin/node scripts/gen-schemas.ts`).
 */
import { z } from 'zod';
import { MAX_DEPENDENCIES_PER_FEATURE } from '../graph/index.ts';

/** Ids and priorities are stored in Postgres `integer` columns. */
export const INT32_MAX = 2_147_483_647;
/** Files larger than this are refused before they are read (a feature list is kilobytes). */
export const MAX_FEATURE_FILE_BYTES = 20 * 1024 * 1024;

const featureId = z.int().min(1).max(INT32_MAX);

export const featureEntrySchema = z
  .strictObject({
    id: featureId.describe('Unique id of the feature, an integer from 1 to 2147483647. Dependencies refer to it.'),
    priority: z
      .int()
      .min(-INT32_MAX - 1)
      .max(INT32_MAX)
      .default(999)
      .describe(
        'Lower runs first among features with the same scheduling score; only 0..10 change the score. AutoCoder default: 999.',
      ),
    category: z.string().default('').describe('Free-form group such as "setup", "api", "ui", "auth" or "testing".'),
    name: z
      .string()
      .min(1)
      .regex(/\S/)
      .describe('Short title shown in status, logs and the Temporal UI. Must not be blank.'),
    description: z.string().default('').describe('What to build, for the coding agent.'),
    steps: z.array(z.string()).default([]).describe('How to verify the feature, one step per string, in order.'),
    dependencies: z
      .array(featureId)
      .max(MAX_DEPENDENCIES_PER_FEATURE)
      .nullable()
      .default([])
      .describe(
        `Ids of the features that must pass before this one starts (at most ${MAX_DEPENDENCIES_PER_FEATURE}; not its own id). null means none. An id that names no feature blocks this one and is reported by "features plan".`,
      ),
    passes: z.boolean().default(false).describe('true once the feature is implemented and verified.'),
    in_progress: z
      .boolean()
      .default(false)
      .describe('true while an agent works on it (set by the orchestrator; leave false in new files).'),
    testing_in_progress: z
      .boolean()
      .optional()
      .describe('Accepted for AutoCoder exports: a testing agent holds the feature. Cleared at every start.'),
    last_tested_at: z
      .string()
      .nullable()
      .optional()
      .describe('Accepted for AutoCoder exports: when a testing agent last re-tested the feature (ISO 8601).'),
  })
  .meta({ id: 'Feature', description: 'One feature: a unit of work for one coding agent.' });

export const featureListSchema = z.array(featureEntrySchema).describe('The features of a project.');

/** Other top-level keys (a project name, notes, test expectations) are allowed and ignored. */
export const featureFileObjectSchema = z
  .object({
    $schema: z.string().optional().describe('Optional: path or URL of this JSON Schema, for editors.'),
    features: featureListSchema,
  })
  .describe('A feature file: an object with a "features" list; other top-level keys are ignored.');

export const featureFileSchema = z
  .union([featureFileObjectSchema, featureListSchema])
  .describe('An autocoder feature file: { "features": [ ... ] } or a bare list of features.');

/** One feature as read from a file, defaults filled in. */
export type FeatureFileEntry = z.output<typeof featureEntrySchema>;

export const FEATURE_FIELDS = Object.keys(featureEntrySchema.shape);
