/**
 * What the dashboard's API routes share (api.ts, api-edits.ts): their dependencies, zod parsing
 * with a 400 that names the field, errors turned into statuses, and the per-request helpers.
 */
import { projectRunHandle } from '../client.ts';
import type { Client } from '@temporalio/client';
import type { Context } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { getProject } from '../db/projects.ts';
import type { Database } from '../db/tables.ts';
import { InfraError, UserError } from '../errors.ts';
import { PROJECT_ID_PATTERN, refreshSignal } from '../workflows/messages.ts';
import type { Feeds } from './feed.ts';
import type { LayoutCache } from './graph-cache.ts';

export type ApiDeps = {
  db: Kysely<Database>;
  client: Client;
  namespace: string;
  temporalUiUrl: string | null;
  taskQueue: string;
  homeHost?: string;
  feeds: Feeds;
  layouts: LayoutCache;
};

/** The actor recorded in feature_events for edits made from the dashboard. */
export const UI_ACTOR = 'operator:ui';

const projectParam = z.string().regex(PROJECT_ID_PATTERN, 'must be a project id (a slug such as todo-app)');
export const idParam = z.coerce.number().int().min(1).max(2_147_483_647);

export class HttpProblem extends Error {
  readonly status: 400 | 404 | 409 | 503;
  constructor(status: 400 | 404 | 409 | 503, message: string) {
    super(message);
    this.status = status;
  }
}

export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`);
  throw new HttpProblem(400, problems.join('; '));
}

export async function body<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new HttpProblem(400, 'the request body must be JSON');
  }
  return parse(schema, json, 'body');
}

/** Turns our typed errors into statuses; the message is what a person can act on. */
export function problemResponse(c: Context, err: unknown): Response {
  if (err instanceof HttpProblem) return c.json({ error: err.message }, err.status);
  if (err instanceof UserError) return c.json({ error: err.message, ...(err.hint ? { hint: err.hint } : {}) }, 400);
  if (err instanceof InfraError) return c.json({ error: err.message }, 503);
  // An update validator's rejection arrives as the failure's cause (as in `autocoder set`).
  const cause = (err as { cause?: Error }).cause;
  if (cause?.message && /update/i.test(String((err as Error).name) + String((err as Error).message)))
    return c.json({ error: cause.message }, 400);
  return c.json({ error: `internal error: ${err instanceof Error ? err.message : String(err)}` }, 500);
}

/** The helpers every route uses, bound to the server's dependencies. */
export function routeHelpers(deps: ApiDeps) {
  return {
    /** The project named by the path, which must exist. */
    project: async (c: Context): Promise<string> => {
      const id = parse(projectParam, c.req.param('project'), 'project');
      if (!(await getProject(deps.db, id))) throw new HttpProblem(404, `unknown project ${JSON.stringify(id)}`);
      return id;
    },
    /** A handler whose errors become statuses. */
    route:
      (work: (c: Context) => Promise<Response>) =>
      async (c: Context): Promise<Response> => {
        try {
          return await work(c);
        } catch (err) {
          return problemResponse(c, err);
        }
      },
    /** A control's answer; the project's feed reads at once, so the page shows the effect. */
    done: async (c: Context, projectId: string, extra: Record<string, unknown> = {}) => {
      deps.feeds.of(projectId).poke();
      return c.json({ ok: true, ...extra });
    },
  };
}

/** Tells a running run that its features changed (as the CLI does after an edit); no run, no-op. */
export async function wake(client: Client, projectId: string): Promise<void> {
  try {
    await projectRunHandle(client, projectId).signal(refreshSignal);
  } catch {
    // No run in progress: the next run reads the change anyway.
  }
}
