/**
 * What every feature tool works with, and the one way tools are defined: a name, a description
 * (AutoCoder's meaning, in our words), a zod input shape (validated by the SDK and listed as JSON
 * Schema), and a function whose result becomes JSON text. Failures become tool errors.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { Database } from '../db/tables.ts';
import type { AgentScope } from './env.ts';
import { describeFailure, ok, toolError } from './tool-kit.ts';
import type { Wake } from './wake.ts';

export type ToolContext = {
  db: Kysely<Database>;
  scope: AgentScope;
  /** Failures after which a feature counts as given up (the run's setting; AutoCoder's 3). */
  maxRetries: number;
  wake: Wake;
};

export type FeatureTool = {
  name: string;
  register: (server: McpServer, ctx: ToolContext, before: () => Promise<void>) => void;
};

/**
 * Defines a tool. `before` runs ahead of every call (the server checks once that the project
 * exists, so a wrong AUTOCODER_PROJECT_ID reads as such rather than as "0 features").
 */
export function defineTool<Shape extends z.ZodRawShape>(
  name: string,
  spec: { description: string; input: Shape; annotations?: ToolAnnotations },
  run: (args: z.output<z.ZodObject<Shape>>, ctx: ToolContext) => Promise<unknown>,
): FeatureTool {
  return {
    name,
    register(server, ctx, before) {
      const call = async (args: unknown) => {
        try {
          await before();
          return ok(await run(args as z.output<z.ZodObject<Shape>>, ctx));
        } catch (error) {
          return toolError(describeFailure(name, error, ctx.scope));
        }
      };
      server.registerTool(
        name,
        { description: spec.description, inputSchema: spec.input, annotations: spec.annotations ?? {} },
        call as never,
      );
    },
  };
}

export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
export const WRITES: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };
