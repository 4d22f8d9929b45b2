/**
 * The dashboard's JSON API. Reads come from the same status query and tables as the CLI's
 * `status`, `features show` and `logs`; every control is the same signal or update the CLI sends
 * (src/cli/commands/control.ts), so the run's history records each one. Every body, path and
 * query parameter is validated with zod; a problem is a 400 naming the field.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Hono } from 'hono';
import { sql } from 'kysely';
import { z } from 'zod';
import { projectRunHandle, readRunStatus, startOrJoinRun, workflowUiUrl, type ProjectRunHandle } from '../client.ts';
import { listAgentRuns } from '../db/agent-runs.ts';
import { getFeature } from '../db/features.ts';
import { answerHumanRequest, listHumanRequests } from '../db/human-requests.ts';
import { getProject } from '../db/projects.ts';
import {
  drainSignal,
  limits,
  pauseSignal,
  resumeSignal,
  retryFeatureSignal,
  setConcurrencyUpdate,
  setTestingRatioUpdate,
  stopFeatureSignal,
  stopSignal,
} from '../workflows/messages.ts';
import { registerEdits } from './api-edits.ts';
import { body, HttpProblem, idParam, parse, routeHelpers, wake, type ApiDeps } from './api-http.ts';
import { listProjects } from './projects.ts';

export function registerApi(app: Hono, deps: ApiDeps): void {
  const { db, client } = deps;
  const { project, route, done } = routeHelpers(deps);
  const running = async (projectId: string): Promise<ProjectRunHandle> => {
    const handle = projectRunHandle(client, projectId);
    try {
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING')
        throw new HttpProblem(
          409,
          `project ${projectId} has no run in progress (its last run is ${d.status.name.toLowerCase()})`,
        );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpProblem(409, `project ${projectId} has never run`);
      throw err;
    }
    return handle;
  };

  app.get(
    '/api/projects',
    route(async (c) => c.json(await listProjects(deps))),
  );

  app.get(
    '/api/projects/:project',
    route(async (c) => c.json(await deps.feeds.of(await project(c)).snapshot())),
  );

  app.get(
    '/api/projects/:project/graph',
    route(async (c) => {
      const projectId = await project(c);
      const rows = await db
        .selectFrom('features')
        .select(['id', 'dependencies', 'passes'])
        .where('project_id', '=', projectId)
        .orderBy('id')
        .execute();
      return c.json(await deps.layouts.get(projectId, rows));
    }),
  );

  app.get(
    '/api/projects/:project/features/:feature',
    route(async (c) => {
      const projectId = await project(c);
      const featureId = parse(idParam, c.req.param('feature'), 'feature');
      const feature = await getFeature(db, projectId, featureId);
      if (!feature) throw new HttpProblem(404, `project ${projectId} has no feature #${featureId}`);
      const [attempts, requests, dependents] = await Promise.all([
        listAgentRuns(db, { projectId, featureId, limit: 50 }),
        listHumanRequests(db, { projectId, featureId, limit: 20 }),
        db
          .selectFrom('features')
          .select(['id', 'name'])
          .where('project_id', '=', projectId)
          .where(sql<boolean>`${featureId}::int = ANY(dependencies)`)
          .orderBy('id')
          .execute(),
      ]);
      const names = await db
        .selectFrom('features')
        .select(['id', 'name'])
        .where('project_id', '=', projectId)
        .where('id', 'in', feature.dependencies.length ? feature.dependencies : [0])
        .execute();
      return c.json({
        feature,
        dependencies: feature.dependencies.map((id) => ({ id, name: names.find((n) => n.id === id)?.name ?? null })),
        dependents,
        attempts: attempts.map((a) => ({
          id: a.id,
          kind: a.kind,
          attempt: a.attempt,
          outcome: a.outcome,
          startedAt: a.started_at,
          endedAt: a.ended_at,
          exitCode: a.exit_code,
          signal: a.signal,
          error: a.error,
          costUsd: a.cost_usd === null ? null : Number(a.cost_usd),
          hasLog: a.log_path !== null,
          temporalUrl: deps.temporalUiUrl ? workflowUiUrl(deps.temporalUiUrl, deps.namespace, a.id) : null,
        })),
        requests: requests.map((r) => ({
          id: r.id,
          kind: r.kind,
          question: r.question,
          options: r.options,
          answer: r.answer,
          createdAt: r.created_at,
          answeredAt: r.answered_at,
        })),
      });
    }),
  );

  // Controls of the run: the CLI's signals (stop, stop --drain, pause, resume).
  const runActions = { pause: pauseSignal, resume: resumeSignal, drain: drainSignal, stop: stopSignal } as const;
  app.post(
    '/api/projects/:project/control',
    route(async (c) => {
      const projectId = await project(c);
      const { action } = await body(c, z.object({ action: z.enum(['pause', 'resume', 'drain', 'stop']) }).strict());
      await (await running(projectId)).signal(runActions[action]);
      return done(c, projectId, { action });
    }),
  );

  for (const [action, signal] of [
    ['stop', stopFeatureSignal],
    ['retry', retryFeatureSignal],
  ] as const) {
    app.post(
      `/api/projects/:project/features/:feature/${action}`,
      route(async (c) => {
        const projectId = await project(c);
        const featureId = parse(idParam, c.req.param('feature'), 'feature');
        await body(c, z.object({}).strict());
        if (!(await getFeature(db, projectId, featureId)))
          throw new HttpProblem(404, `project ${projectId} has no feature #${featureId}`);
        await (await running(projectId)).signal(signal, featureId);
        return done(c, projectId, { featureId, action });
      }),
    );
  }

  app.post(
    '/api/projects/:project/settings',
    route(async (c) => {
      const projectId = await project(c);
      const input = await body(
        c,
        z
          .object({
            concurrency: z.number().int().min(limits.concurrency.min).max(limits.concurrency.max).optional(),
            testingRatio: z.number().int().min(limits.testingRatio.min).max(limits.testingRatio.max).optional(),
          })
          .strict()
          .refine(
            (v) => v.concurrency !== undefined || v.testingRatio !== undefined,
            'give concurrency or testingRatio',
          ),
      );
      const handle = await running(projectId);
      // The run's own validator judges the value (its maxConcurrency may differ from the default).
      let settings;
      if (input.concurrency !== undefined)
        settings = await handle.executeUpdate(setConcurrencyUpdate, { args: [input.concurrency] });
      if (input.testingRatio !== undefined)
        settings = await handle.executeUpdate(setTestingRatioUpdate, { args: [input.testingRatio] });
      return done(c, projectId, { settings });
    }),
  );

  app.post(
    '/api/projects/:project/requests/:request/answer',
    route(async (c) => {
      const projectId = await project(c);
      const requestId = parse(idParam, c.req.param('request'), 'request');
      const { answer } = await body(
        c,
        z
          .object({ answer: z.union([z.string().min(1).max(20_000), z.record(z.string(), z.string().max(20_000))]) })
          .strict(),
      );
      if (!(await answerHumanRequest(db, { projectId, requestId, answer })))
        throw new HttpProblem(409, `request #${requestId} of ${projectId} is not open (answered already, or unknown)`);
      await wake(client, projectId);
      return done(c, projectId, { requestId });
    }),
  );

  app.post(
    '/api/projects/:project/runs',
    route(async (c) => {
      const projectId = await project(c);
      const settings = await body(
        c,
        z
          .object({
            // No `command` adapter: a web page must not choose an executable to run.
            agent: z.enum(['claude', 'simulate']).default('claude'),
            concurrency: z.number().int().min(limits.concurrency.min).max(limits.concurrency.max).default(3),
            maxConcurrency: z
              .number()
              .int()
              .min(limits.maxConcurrency.min)
              .max(limits.maxConcurrency.max)
              .default(limits.maxConcurrency.default),
            testingRatio: z.number().int().min(limits.testingRatio.min).max(limits.testingRatio.max).default(1),
            maxRetries: z.number().int().min(1).max(100).default(3),
            yolo: z.boolean().default(false),
            model: z.string().min(1).max(200).optional(),
          })
          .strict()
          .refine((v) => v.concurrency <= v.maxConcurrency, {
            path: ['concurrency'],
            message: `must not exceed maxConcurrency (raise maxConcurrency, up to ${limits.maxConcurrency.max})`,
          }),
      );
      const status = await readRunStatus(client, projectId);
      if (status && status.outcome === null)
        throw new HttpProblem(409, `project ${projectId} already has a run in progress`);
      const row = (await getProject(db, projectId))!;
      const home = deps.homeHost ? { homeHost: deps.homeHost } : {};
      const { handle } = await startOrJoinRun(client, deps.taskQueue, {
        projectId,
        projectDir: row.dir,
        ...settings,
        ...home,
      });
      return done(c, projectId, { workflowId: handle.workflowId });
    }),
  );

  registerEdits(app, deps);
}
