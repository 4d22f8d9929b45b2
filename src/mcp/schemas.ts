/**
 * Input schemas of the feature tools: AutoCoder's parameter names and limits (mcp_server/
 * feature_mcp.py), with the messages an agent reads when it gets one wrong. The descriptions are
 * what `tools/list` shows as JSON Schema, so they are the tools' documentation.
 */
import { z } from 'zod';
import { MAX_DEPENDENCIES_PER_FEATURE } from '../graph/index.ts';

/** Largest id the table holds (Postgres integer). */
const MAX_ID = 2_147_483_647;

export function featureIdSchema(description: string, name = 'feature_id') {
  return z
    .number({ error: `${name} must be a number (a feature id, an integer ≥ 1)` })
    .int({ error: `${name} must be an integer ≥ 1` })
    .min(1, { error: `${name} must be ≥ 1` })
    .max(MAX_ID, { error: `${name} must be at most ${MAX_ID}` })
    .describe(description);
}

export function limitSchema(max: number, fallback: number, description: string) {
  return z
    .number({ error: `limit must be a number 1..${max}` })
    .int({ error: `limit must be an integer 1..${max}` })
    .min(1, { error: `limit must be 1..${max}` })
    .max(max, { error: `limit must be 1..${max}` })
    .default(fallback)
    .describe(description);
}

const text = (field: string, max?: number) => {
  const base = z.string({ error: `${field} must be a string` }).min(1, { error: `${field} must not be empty` });
  return max === undefined ? base : base.max(max, { error: `${field} must be at most ${max} characters` });
};

/** One feature to create, as feature_create takes it (AutoCoder's FeatureCreateItem). */
export const featureFields = {
  category: text('category', 100).describe(
    "Feature category for grouping (e.g. 'Authentication', 'API', 'UI'), 1-100 characters",
  ),
  name: text('name', 255).describe('Short descriptive name of the feature, 1-255 characters'),
  description: text('description').describe('What the feature does, in enough detail to implement and verify it'),
  steps: z
    .array(z.string({ error: 'each step must be a string' }), { error: 'steps must be a list of strings' })
    .min(1, { error: 'steps must list at least one step' })
    .describe('Steps to implement or verify the feature, in order'),
};

export const bulkFeatureSchema = z.object({
  ...featureFields,
  depends_on_indices: z
    .array(
      z
        .number()
        .int({ error: 'depends_on_indices must hold integers' })
        .min(0, { error: 'depends_on_indices must hold indices ≥ 0' }),
    )
    .max(MAX_DEPENDENCIES_PER_FEATURE, {
      error: `depends_on_indices may list at most ${MAX_DEPENDENCIES_PER_FEATURE} features`,
    })
    .optional()
    .describe(
      '0-based positions, in THIS list, of earlier features this one depends on (ids are not known before creation). ' +
        `Only backward references; at most ${MAX_DEPENDENCIES_PER_FEATURE}. Example: [0, 2].`,
    ),
});

export const dependencyIdsSchema = z
  .array(featureIdSchema('A feature id', 'dependency_ids[]'), { error: 'dependency_ids must be a list of feature ids' })
  .max(MAX_DEPENDENCIES_PER_FEATURE, {
    error: `a feature may have at most ${MAX_DEPENDENCIES_PER_FEATURE} dependencies`,
  })
  .describe(
    `Ids of the features that must pass before this one can start (replaces the current list; at most ${MAX_DEPENDENCIES_PER_FEATURE}; [] clears it)`,
  );

const FIELD_TYPES = ['text', 'textarea', 'select', 'boolean'] as const;

/** One input field of feature_request_human_input (AutoCoder's field dicts). */
export const humanFieldSchema = z
  .object({
    id: z.string().trim().min(1, { error: 'field id must not be empty' }).describe('Unique field identifier'),
    label: z.string().trim().min(1, { error: 'field label must not be empty' }).describe('Label shown to the person'),
    type: z
      .enum(FIELD_TYPES, { error: `field type must be one of ${FIELD_TYPES.join(', ')}` })
      .default('text')
      .describe('Kind of input (default text)'),
    required: z.boolean().default(true).describe('Whether an answer is required (default true)'),
    placeholder: z.string().optional().describe('Placeholder text'),
    options: z
      .array(z.object({ value: z.string(), label: z.string() }))
      .optional()
      .describe('Choices for type select: [{value, label}]'),
  })
  .refine((f) => f.type !== 'select' || (f.options?.length ?? 0) > 0, {
    error: "a field of type 'select' needs an options list",
  });

export const humanFieldsSchema = z
  .array(humanFieldSchema)
  .min(1, { error: 'fields must list at least one field' })
  .refine((fields) => new Set(fields.map((f) => f.id)).size === fields.length, { error: 'field ids must be unique' })
  .describe('Inputs to collect from the person');

/** One question of ask_user (AutoCoder's: question, header, 2-4 options, multiSelect). */
export const questionSchema = z.object({
  question: text('question').describe('The question to ask'),
  header: z.string({ error: 'header must be a string' }).describe('Short label for the question (about 12 characters)'),
  options: z
    .array(z.object({ label: text('option label'), description: z.string().default('') }))
    .min(2, { error: 'each question needs 2-4 options' })
    .max(4, { error: 'each question needs 2-4 options' })
    .describe('2-4 choices, each {label, description}'),
  multiSelect: z.boolean().default(false).describe('Whether several options may be chosen (default false)'),
});
