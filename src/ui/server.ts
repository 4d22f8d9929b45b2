/**
 * The dashboard's HTTP server (`autocoder ui`): Hono on Node's http module. It serves the page
 * (src/ui/web, plain ES modules read once at start: nothing from a CDN), the JSON API (api.ts),
 * and two event streams (server-sent events): a project's feed (feed.ts, one per project shared by
 * every page) and an agent's log. Access control (security.ts) comes before every route.
 */
import { readFileSync, readdirSync, createReadStream } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { serve, type ServerType } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/tables.ts';
import { parseAgentRunId } from '../workflows/run-ids.ts';
import { agentRunOf, followLog } from './agents.ts';
import { registerApi } from './api.ts';
import { HttpProblem, problemResponse } from './api-http.ts';
import { Feeds } from './feed.ts';
import { LayoutCache } from './graph-cache.ts';
import { accessControl, type UiAccess } from './security.ts';

export type UiServerOptions = {
  db: Kysely<Database>;
  client: Client;
  namespace: string;
  taskQueue: string;
  /** The host the dashboard runs on: runs it starts have their project dir here (messages.ts homeHost). */
  homeHost?: string;
  temporalUiUrl: string | null;
  access: UiAccess;
  /** How often a watched project is read (default 500 ms: a change shows within a second). */
  feedIntervalMs?: number;
};

export type UiServer = { url: string; port: number; feeds: Feeds; close: () => Promise<void> };

type UiApp = { app: Hono; feeds: Feeds; layouts: LayoutCache };

const webDir = new URL('./web/', import.meta.url);
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page's files, read once: a fixed map, so no request path ever reaches the file system. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(webDir)) {
    const type = types[name.slice(name.lastIndexOf('.'))];
    if (type) assets.set(`/${name}`, { body: readFileSync(new URL(name, webDir)), type });
  }
  return assets;
}

const runQuery = z.object({ run: z.string().min(1).max(500) });

export function createUiApp(options: UiServerOptions): UiApp {
  const layouts = new LayoutCache();
  const feeds = new Feeds({
    layouts,
    db: options.db,
    client: options.client,
    namespace: options.namespace,
    temporalUiUrl: options.temporalUiUrl,
    ...(options.feedIntervalMs === undefined ? {} : { intervalMs: options.feedIntervalMs }),
  });
  const app = new Hono();
  app.use('*', accessControl(options.access));
  registerApi(app, { ...options, feeds, layouts });

  app.get('/api/projects/:project/events', async (c) => {
    const projectId = c.req.param('project');
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(projectId)) return c.json({ error: 'project: must be a project id' }, 400);
    c.header('Cache-Control', 'no-store');
    return streamSSE(c, async (stream) => {
      let queue = Promise.resolve();
      const unsubscribe = feeds.of(projectId).subscribe((message) => {
        queue = queue.then(() => stream.writeSSE({ event: message.type, data: JSON.stringify(message.data) }));
      });
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      unsubscribe();
    });
  });

  /** The agent run a log request names, checked against the project; its path comes from agent_runs. */
  const logOf = async (projectId: string, raw: Record<string, string>) => {
    const { run } = runQuery.parse(raw);
    const parsed = parseAgentRunId(run);
    if (!parsed || parsed.projectId !== projectId) throw new HttpProblem(400, `run: not an agent run of ${projectId}`);
    const row = await agentRunOf(options.db, projectId, run);
    if (!row) throw new HttpProblem(404, `run: no agent run ${run}`);
    return row;
  };

  app.get('/api/projects/:project/log', async (c) => {
    try {
      const row = await logOf(c.req.param('project'), c.req.query());
      if (!row.log_path) throw new HttpProblem(404, 'this agent run has no log yet');
      c.header('Content-Type', 'text/plain; charset=utf-8');
      c.header('Cache-Control', 'no-store');
      return c.body(Readable.toWeb(createReadStream(row.log_path)) as ReadableStream);
    } catch (err) {
      return problemResponse(
        c,
        err instanceof z.ZodError ? new HttpProblem(400, 'run: give ?run=<agent run id>') : err,
      );
    }
  });

  app.get('/api/projects/:project/log/stream', async (c) => {
    let row;
    try {
      row = await logOf(c.req.param('project'), c.req.query());
    } catch (err) {
      return problemResponse(
        c,
        err instanceof z.ZodError ? new HttpProblem(400, 'run: give ?run=<agent run id>') : err,
      );
    }
    const projectId = c.req.param('project');
    return streamSSE(c, async (stream) => {
      const aborted = new AbortController();
      stream.onAbort(() => aborted.abort());
      // The row may have no path yet (spawning): look again until it does.
      let path = row.log_path;
      while (!path && !aborted.signal.aborted) {
        await stream.sleep(500);
        path = (await agentRunOf(options.db, projectId, row.id))?.log_path ?? null;
      }
      if (!path) return;
      await followLog(path, {
        initialBytes: 32 * 1024,
        pollMs: 250,
        signal: aborted.signal,
        onLines: (lines) => stream.writeSSE({ event: 'lines', data: JSON.stringify(lines) }),
      });
    });
  });

  const assets = loadAssets();
  app.get('*', (c) => {
    const path = new URL(c.req.url).pathname;
    const asset = assets.get(path === '/' ? '/index.html' : path);
    if (!asset) return c.json({ error: `not found: ${path}` }, 404);
    c.header('Content-Type', asset.type);
    c.header('Cache-Control', 'no-cache');
    return c.body(new Uint8Array(asset.body));
  });
  return { app, feeds, layouts };
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const { app, feeds, layouts } = createUiApp(options);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.access.port, hostname: options.access.host }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.access.host.includes(':') ? `[${options.access.host}]` : options.access.host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    feeds,
    close: () =>
      new Promise<void>((resolve) => {
        // Event streams stay open for ever: end them rather than wait.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }).then(() => layouts.close()),
  };
}
