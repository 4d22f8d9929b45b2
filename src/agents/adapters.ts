/**
 * Agent adapters (DESIGN.md §5): turn an agent spec into an argv, an environment and a cwd.
 * Never a shell: every argument is passed as is, placeholders are substituted per argument.
 */
import { fileURLToPath } from 'node:url';
import type { AgentSpec } from '../activities/types.ts';

export type AgentLaunch = { argv: string[]; env: Record<string, string>; cwd: string };
export type LaunchContext = { runId: string; databaseUrl: string };

const simulateAgentPath = fileURLToPath(new URL('./simulate-agent.ts', import.meta.url));

/** The variables every agent gets (DESIGN.md §5). */
export function agentEnvironment(spec: AgentSpec, ctx: LaunchContext): Record<string, string> {
  return {
    AUTOCODER_PROJECT_ID: spec.projectId,
    AUTOCODER_PROJECT_DIR: spec.projectDir,
    ...(spec.featureId === null ? {} : { AUTOCODER_FEATURE_ID: String(spec.featureId) }),
    AUTOCODER_AGENT_KIND: spec.kind,
    AUTOCODER_RUN_ID: ctx.runId,
    AUTOCODER_ATTEMPT: String(spec.attempt),
    DATABASE_URL: ctx.databaseUrl,
  };
}

/** `{featureId}`, `{projectDir}`, `{kind}` in each argument of a command template. */
export function substitutePlaceholders(template: readonly string[], spec: AgentSpec): string[] {
  const values: Record<string, string> = { featureId: spec.featureId === null ? '' : String(spec.featureId), projectDir: spec.projectDir, kind: spec.kind };
  return template.map((arg) => arg.replace(/\{(featureId|projectDir|kind)\}/g, (_, name: string) => values[name] ?? ''));
}

export function buildLaunch(spec: AgentSpec, ctx: LaunchContext): AgentLaunch {
  const env = agentEnvironment(spec, ctx);
  switch (spec.adapter) {
    case 'simulate':
      return { argv: [process.execPath, simulateAgentPath], env: { ...env, AUTOCODER_SIMULATE: JSON.stringify(spec.simulate ?? {}) }, cwd: spec.projectDir };
    case 'command':
      if (!spec.agentCmd?.length) throw new TypeError('the command adapter needs agentCmd (an argv template)');
      return { argv: substitutePlaceholders(spec.agentCmd, spec), env, cwd: spec.projectDir };
    case 'claude':
      throw new TypeError('the claude adapter is not available yet; use --agent simulate or --agent command');
  }
}
