/** Feature edits from the dashboard: add, set dependencies, skip (the MCP feature tools' functions and checks). */
import type { Client } from '@temporalio/client';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { createFeatures, setDependencies, skipFeature } from '../db/feature-edits.ts';
import { refreshSignal } from '../workflows/messages.ts';
import { projectRunHandle } from '../client.ts';
import { idParam, parse, UI_ACTOR, type ApiDeps, type body } from './api.ts';

export type Helpers = {
  project: (c: Context) => Promise<string>;
  route: (work: (c: Context) => Promise<Response>) => (c: Context) => Promise<Response>;
  body: typeof body;
  done: (c: Context, projectId: string, extra?: Record<string, unknown>) => Promise<Response>;
};

/** Add a feature, set its dependencies, skip it: the MCP feature tools' functions and checks. */
export function registerEdits(app: Hono, deps: ApiDeps, { project, route, body, done }: Helpers): void {
  const { db, client } = deps;
  const text = (max: number) => z.string().trim().min(1).max(max);
  app.post(
    '/api/projects/:project/features',
    route(async (c) => {
      const projectId = await project(c);
      const input = await body(
        c,
        z
          .object({
            name: text(500),
            category: text(200).default('functional'),
            description: z.string().max(20_000).default(''),
            steps: z.array(text(2000)).max(100).default([]),
            dependencies: z.array(z.number().int().min(1)).max(20).default([]),
          })
          .strict(),
      );
      const created = await createFeatures(db, {
        projectId,
        runId: UI_ACTOR,
        features: [{ name: input.name, category: input.category, description: input.description, steps: input.steps }],
      });
      const id = created.ids[0]!;
      if (input.dependencies.length > 0) {
        try {
          await setDependencies(db, { projectId, featureId: id, runId: UI_ACTOR, dependencyIds: input.dependencies });
        } catch (err) {
          await db.deleteFrom('features').where('project_id', '=', projectId).where('id', '=', id).execute();
          throw err;
        }
      }
      await wake(client, projectId);
      return done(c, projectId, { id });
    }),
  );
  app.post(
    '/api/projects/:project/features/:feature/dependencies',
    route(async (c) => {
      const projectId = await project(c);
      const featureId = parse(idParam, c.req.param('feature'), 'feature');
      const { dependencies } = await body(
        c,
        z.object({ dependencies: z.array(z.number().int().min(1)).max(20) }).strict(),
      );
      const now = await setDependencies(db, { projectId, featureId, runId: UI_ACTOR, dependencyIds: dependencies });
      await wake(client, projectId);
      return done(c, projectId, { featureId, dependencies: now });
    }),
  );
  app.post(
    '/api/projects/:project/features/:feature/skip',
    route(async (c) => {
      const projectId = await project(c);
      const featureId = parse(idParam, c.req.param('feature'), 'feature');
      await body(c, z.object({}).strict());
      const result = await skipFeature(db, { projectId, featureId, runId: UI_ACTOR });
      await wake(client, projectId);
      return done(c, projectId, { ...result });
    }),
  );
}

/** Tells a running run that its features changed (as the CLI does after an edit); no run, no-op. */
export async function wake(client: Client, projectId: string): Promise<void> {
  try {
    await projectRunHandle(client, projectId).signal(refreshSignal);
  } catch {
    // No run in progress: the next run reads the change anyway.
  }
}
