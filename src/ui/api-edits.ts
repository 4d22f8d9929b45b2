/**
 * Feature edits from the dashboard: add, edit the text, set dependencies, skip. The functions and
 * checks are the MCP feature tools' and the CLI's (src/db/feature-edits.ts), so an edit here is
 * validated as `features import` validates a file.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { createFeatures } from '../db/feature-create.ts';
import { editFeature, featureTextEdit, setDependencies, skipFeature } from '../db/feature-edits.ts';
import { body, idParam, parse, routeHelpers, UI_ACTOR, wake, type ApiDeps } from './api-http.ts';

export function registerEdits(app: Hono, deps: ApiDeps): void {
  const { db, client } = deps;
  const { project, route, done } = routeHelpers(deps);
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
      // One transaction with its dependencies: a run never sees the feature without them.
      const created = await createFeatures(db, {
        projectId,
        runId: UI_ACTOR,
        features: [
          {
            name: input.name,
            category: input.category,
            description: input.description,
            steps: input.steps,
            dependencyIds: input.dependencies,
          },
        ],
      });
      const id = created.ids[0]!;
      await wake(client, projectId);
      return done(c, projectId, { id });
    }),
  );
  app.post(
    '/api/projects/:project/features/:feature/edit',
    route(async (c) => {
      const projectId = await project(c);
      const featureId = parse(idParam, c.req.param('feature'), 'feature');
      const changes = await body(c, featureTextEdit);
      const result = await editFeature(db, { projectId, featureId, runId: UI_ACTOR, changes });
      await wake(client, projectId);
      return done(c, projectId, result);
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
