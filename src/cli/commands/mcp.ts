/** `autocoder mcp`: the MCP feature server on stdio, for agents (Claude Code starts it). */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('mcp')
    .description("Serve the project's feature tools over MCP on stdin/stdout (AutoCoder's feature_* tools)")
    .addHelpText(
      'after',
      `
The project and database come from the agent environment: AUTOCODER_PROJECT_ID and DATABASE_URL
(required), AUTOCODER_RUN_ID (the agent run: writes are fenced by its claim), AUTOCODER_FEATURE_ID,
TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE (to wake the run when a feature passes). The claude adapter
writes an MCP config that starts this command; you rarely run it by hand.

Examples:
  AUTOCODER_PROJECT_ID=todo-app DATABASE_URL=postgres://… autocoder mcp
  claude -p "…" --mcp-config '{"mcpServers":{"features":{"command":"autocoder","args":["mcp"]}}}'`,
    )
    .action(async () => {
      // Loaded here, not at the top: agents start this command often and wait for it.
      const { serveFeatureTools } = await import('../../mcp/server.ts');
      await serveFeatureTools();
    });
}
