/**
 * The MCP server's scope, from the agent environment (DESIGN.md §5): which project, which
 * database, and which agent run is writing. Validated with zod; every problem is reported at once.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UserError, showValue } from '../errors.ts';

const PROJECT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

const agentEnvSchema = z.object({
  AUTOCODER_PROJECT_ID: z
    .string({ error: 'is not set' })
    .regex(PROJECT_ID, { error: (i) => `must match [a-z0-9][a-z0-9-]{0,62}, got ${showValue(i.input)}` }),
  DATABASE_URL: z.string({ error: 'is not set' }).min(1, { error: 'is empty' }),
  AUTOCODER_RUN_ID: z.string().min(1).optional(),
  AUTOCODER_FEATURE_ID: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, { error: (i) => `must be a feature id (an integer ≥ 1), got ${showValue(i.input)}` })
    .optional(),
  AUTOCODER_FEATURE_IDS: z
    .string()
    .regex(/^[1-9]\d{0,9}(,[1-9]\d{0,9})*$/, {
      error: (i) => `must be feature ids separated by commas (e.g. 4,5,7), got ${showValue(i.input)}`,
    })
    .optional(),
  AUTOCODER_AGENT_KIND: z.enum(['initializer', 'coding', 'testing']).optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
});

export type AgentScope = {
  projectId: string;
  databaseUrl: string;
  /** AUTOCODER_RUN_ID: fences claim-bound writes. Null in an operator's session (writes are unconditional). */
  runId: string | null;
  /** Who feature_events names: the run id, or this session's name when there is none. */
  actor: string;
  /** The feature the agent was given, if any (for messages and prompts). */
  featureId: number | null;
  /** AUTOCODER_FEATURE_IDS: every feature of the agent's batch, in order (the first is featureId). */
  featureIds: number[];
  kind: 'initializer' | 'coding' | 'testing' | null;
  /** Where to send the workflow's `refresh` signal; null when TEMPORAL_ADDRESS is not set. */
  temporal: { address: string; namespace: string } | null;
};

/** Reads the agent environment; a UserError lists every missing or bad variable. */
export function readAgentScope(env: NodeJS.ProcessEnv = process.env): AgentScope {
  // Empty values count as unset (a shell `VAR= cmd` or a blank line in a config file).
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = agentEnvSchema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new UserError(`the agent environment is incomplete: ${problems.join('; ')}`, {
      hint: 'run this as an agent started by autocoder, or set AUTOCODER_PROJECT_ID=<project> and DATABASE_URL=postgres://… (AUTOCODER_RUN_ID names the agent run)',
    });
  }
  const v = parsed.data;
  const runId = v.AUTOCODER_RUN_ID ?? null;
  return {
    projectId: v.AUTOCODER_PROJECT_ID,
    databaseUrl: v.DATABASE_URL,
    runId,
    actor: runId ?? `autocoder/${v.AUTOCODER_PROJECT_ID}/session/${randomUUID()}`,
    featureId: v.AUTOCODER_FEATURE_ID === undefined ? null : Number(v.AUTOCODER_FEATURE_ID),
    featureIds: v.AUTOCODER_FEATURE_IDS
      ? v.AUTOCODER_FEATURE_IDS.split(',').map(Number)
      : v.AUTOCODER_FEATURE_ID === undefined
        ? []
        : [Number(v.AUTOCODER_FEATURE_ID)],
    kind: v.AUTOCODER_AGENT_KIND ?? null,
    temporal:
      v.TEMPORAL_ADDRESS === undefined
        ? null
        : { address: v.TEMPORAL_ADDRESS, namespace: v.TEMPORAL_NAMESPACE ?? 'default' },
  };
}
