/**
 * What a simulated agent does, chosen per feature: the demo, tests and benchmarks drive real
 * processes with it. A plan is JSON (the workflow input's `simulate` field, or `--simulate`).
 */
import { z } from 'zod';

export const simulateActions = [
  'pass',
  'fail',
  'crash',
  'hang',
  'ignore-sigterm',
  'grandchildren',
  'exit0-no-pass',
  'flood',
  'resolve',
] as const;

const delaySchema = z.union([z.number().int().min(0), z.tuple([z.number().int().min(0), z.number().int().min(0)])]);

export const behaviourSchema = z.object({
  action: z.enum(simulateActions).default('pass'),
  delayMs: delaySchema
    .optional()
    .describe('time the agent "works" before acting: ms, or [min, max] picked by feature id'),
  failAttempts: z.number().int().min(0).optional().describe('fail this many attempts first, then act'),
  floodBytes: z.number().int().min(0).optional(),
});
export type SimulateBehaviour = z.output<typeof behaviourSchema>;

export const simulatePlanSchema = z.object({
  default: behaviourSchema.optional(),
  features: z.record(z.string().regex(/^\d+$/, 'keys must be feature ids'), behaviourSchema).optional(),
  testing: behaviourSchema.optional().describe('what testing agents do (default: pass after the delay)'),
  merge: behaviourSchema
    .optional()
    .describe('what resolver agents do (default: resolve, keeping both sides of each conflict)'),
  initializerFeatures: z
    .array(z.record(z.string(), z.unknown()))
    .optional()
    .describe('features the initializer agent creates'),
});
export type SimulatePlan = z.output<typeof simulatePlanSchema>;

const DEFAULT_DELAY: [number, number] = [300, 1200];

export function behaviourFor(plan: SimulatePlan, kind: string, featureId: number | null): SimulateBehaviour {
  if (kind === 'testing') return plan.testing ?? { action: 'pass', delayMs: plan.default?.delayMs ?? DEFAULT_DELAY };
  if (kind === 'merge') return plan.merge ?? { action: 'resolve', delayMs: 0 };
  const specific = featureId === null ? undefined : plan.features?.[String(featureId)];
  return specific ?? plan.default ?? { action: 'pass', delayMs: DEFAULT_DELAY };
}

/** A delay in range, fixed per feature id, so a demo run is repeatable. */
export function delayFor(behaviour: SimulateBehaviour, featureId: number | null): number {
  const delay = behaviour.delayMs ?? DEFAULT_DELAY;
  if (typeof delay === 'number') return delay;
  const [min, max] = delay;
  const spread = Math.max(0, max - min);
  const hash = (((featureId ?? 0) * 2654435761) >>> 0) % 1000;
  return min + Math.round((spread * hash) / 999);
}
