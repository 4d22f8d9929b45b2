/**
 * The MCP feature server (`autocoder mcp`): AutoCoder's feature tools over stdio, scoped to the
 * project of the agent environment, backed by Postgres through src/db. One server per agent
 * session; Claude Code starts it from the MCP config the claude adapter writes.
 *
 * Start-up is kept short (the agent waits for it): no migration (the worker migrated), the pool
 * connects on the first call, and the Temporal client loads only when a feature passes.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createDb } from '../db/create-db.ts';
import { DEFAULT_MAX_RETRIES } from '../db/features.ts';
import { requireProject } from '../db/projects.ts';
import type { FeatureTool, ToolContext } from './context.ts';
import { readAgentScope } from './env.ts';
import { editTools } from './tools-edit.ts';
import { humanTools } from './tools-human.ts';
import { readTools } from './tools-read.ts';
import { stateTools } from './tools-state.ts';
import { temporalWake } from './wake.ts';

/** The server's name in MCP configs: Claude Code calls its tools `mcp__features__<tool>`. */
export const FEATURE_SERVER_NAME = 'features';

/** Every tool, in the order AutoCoder lists them. */
export const featureTools: readonly FeatureTool[] = [...readTools, ...stateTools, ...editTools, ...humanTools];
export const FEATURE_TOOL_NAMES: readonly string[] = featureTools.map((t) => t.name);

const INSTRUCTIONS =
  'Feature tools of an autocoder project: read progress and features, claim the feature you work on, mark it passing ' +
  'once implemented and verified (or failing on a regression), and create features or edit dependencies. Results are JSON.';

/** An McpServer with every feature tool registered (not connected to a transport yet). */
export function createFeatureServer(ctx: ToolContext): McpServer {
  const server = new McpServer({ name: FEATURE_SERVER_NAME, version: '1.0.0' }, { instructions: INSTRUCTIONS });
  let projectChecked: Promise<void> | undefined;
  const before = (): Promise<void> => {
    projectChecked ??= requireProject(ctx.db, ctx.scope.projectId).then(
      () => undefined,
      (error: unknown) => {
        projectChecked = undefined; // a database that was down may be back next call
        throw error;
      },
    );
    return projectChecked;
  };
  for (const tool of featureTools) tool.register(server, ctx, before);
  return server;
}

/**
 * Serves the feature tools on stdin/stdout until stdin ends or a SIGTERM/SIGINT arrives.
 * Resolves once the server and its database pool are closed.
 */
export async function serveFeatureTools(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const scope = readAgentScope(env);
  const handle = createDb(scope.databaseUrl, {
    poolSize: 3,
    applicationName: `autocoder-mcp ${scope.projectId}`,
    connectTimeoutMs: 5000,
  });
  const server = createFeatureServer({
    db: handle.db,
    scope,
    maxRetries: DEFAULT_MAX_RETRIES,
    wake: temporalWake(scope.temporal),
  });
  const transport = new StdioServerTransport();
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    // Calls in flight finish first: the pool ends once their clients are released.
    void server
      .close()
      .catch(() => undefined)
      .then(() => handle.close())
      .catch(() => undefined)
      .then(stopped);
  };
  // A signal drains as above; a second one, or a drain stuck for 5 s, ends the process with that
  // signal's default action, so the exit status says how it ended.
  const onSignal = (signal: NodeJS.Signals): void => {
    const force = (): void => {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    };
    if (closing) return force();
    stop();
    setTimeout(force, 5000).unref();
  };
  process.stdin.once('end', stop);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await server.connect(transport);
  server.server.onclose = stop;
  await done;
}
