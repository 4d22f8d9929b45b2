/**
 * The MCP feature server as agents meet it: `bin/autocoder mcp` spawned over stdio with the agent
 * environment, driven by the MCP SDK client. Results are parsed from the JSON text the tools return.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const autocoderBin = `${repoRoot}bin/autocoder`;

export type McpSession = {
  client: Client;
  /** Calls a tool; the raw result (content, isError). */
  call: (name: string, args?: Record<string, unknown>) => Promise<ToolResult>;
  /** Calls a tool that must succeed; its JSON result. */
  ok: <T = Record<string, unknown>>(name: string, args?: Record<string, unknown>) => Promise<T>;
  /** Calls a tool that must fail; the error text. */
  fails: (name: string, args?: Record<string, unknown>) => Promise<string>;
  stderr: () => string;
  /** The server process (bin/autocoder execs node, so this is the server itself). */
  pid: number | null;
  close: () => Promise<void>;
};

export type ToolResult = { isError: boolean; text: string };

/** Spawns `autocoder mcp` with `env` (the agent environment) and connects an SDK client. */
export async function openMcp(env: Record<string, string>): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: autocoderBin,
    args: ['mcp'],
    env,
    stderr: 'pipe',
    cwd: repoRoot,
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: 'autocoder-test', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => {
    const result = await client.callTool({ name, arguments: args });
    const content = result.content as Array<{ type: string; text?: string }>;
    return { isError: result.isError === true, text: content.map((c) => c.text ?? '').join('') };
  };
  return {
    client,
    call,
    ok: async <T>(name: string, args?: Record<string, unknown>) => {
      const r = await call(name, args);
      assert.equal(r.isError, false, `${name} failed: ${r.text}`);
      return JSON.parse(r.text) as T;
    },
    fails: async (name, args) => {
      const r = await call(name, args);
      assert.equal(r.isError, true, `${name} should have failed, got ${r.text}`);
      return r.text;
    },
    stderr: () => stderr,
    pid: transport.pid,
    close: () => client.close(),
  };
}

/** CPU seconds (user + system) a live process has used so far, from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100;
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** The agent environment for a project in the test database. */
export function agentEnv(
  databaseUrl: string,
  projectId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { AUTOCODER_PROJECT_ID: projectId, DATABASE_URL: databaseUrl, ...extra };
}
