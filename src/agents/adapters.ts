/**
 * Agent adapters (DESIGN.md §5): turn an agent spec into an argv, an environment and a cwd.
 * Never a shell: every argument is passed as is, placeholders are substituted per argument.
 */
import { fileURLToPath } from 'node:url';
import type { AgentSpec } from '../activities/types.ts';
import { INHERITED_ENV_NAMES } from '../supervisor/env.ts';
import { buildClaudeLaunch } from './claude.ts';
import { CLAUDE_ENV_NAMES } from './claude-safety.ts';

export type AgentLaunch = {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** claude: the Claude Code session id of this run (record it, so the next attempt can resume it). */
  sessionId?: string;
  /** Worker variables the agent inherits by name (the supervisor's defaults when absent). */
  inheritEnv?: readonly string[];
};
export type LaunchContext = {
  runId: string;
  databaseUrl: string;
  /** Passed to agents (and their MCP server) so that marking a feature passing wakes the run. */
  temporalAddress?: string;
  temporalNamespace?: string;
  /** claude: where the run's MCP config is written (`<stateDir>/mcp/`); default AUTOCODER_HOME or ~/.autocoder. */
  stateDir?: string;
  /** claude: the session of the feature's previous attempt (agent_runs.session_id), resumed with --resume. */
  resumeSessionId?: string;
  /** claude: what is left of the budget, as --max-budget-usd. */
  maxBudgetUsd?: number;
  /** claude: the executable (default `claude` on PATH). */
  claudeCommand?: string;
  /** The feature's latest answered question to a person: in the environment and the prompt. */
  humanAnswer?: { question: string; answer: string } | undefined;
};

const simulateAgentPath = fileURLToPath(new URL('./simulate-agent.ts', import.meta.url));

/** The variables every agent gets (DESIGN.md §5). */
export function agentEnvironment(spec: AgentSpec, ctx: LaunchContext): Record<string, string> {
  return {
    AUTOCODER_PROJECT_ID: spec.projectId,
    AUTOCODER_PROJECT_DIR: spec.projectDir,
    ...(spec.featureId === null ? {} : { AUTOCODER_FEATURE_ID: String(spec.featureId) }),
    // Every feature of the agent's batch, in order, the first first (AUTOCODER_FEATURE_ID is that first).
    ...(spec.featureId === null ? {} : { AUTOCODER_FEATURE_IDS: (spec.featureIds ?? [spec.featureId]).join(',') }),
    AUTOCODER_AGENT_KIND: spec.kind,
    AUTOCODER_RUN_ID: ctx.runId,
    AUTOCODER_ATTEMPT: String(spec.attempt),
    ...(spec.reviewNote ? { AUTOCODER_REVIEW_NOTE: spec.reviewNote } : {}),
    ...(spec.isolation?.mode === 'worktree'
      ? { AUTOCODER_ISOLATION: 'worktree', AUTOCODER_INTEGRATION_BRANCH: spec.isolation.branch }
      : {}),
    DATABASE_URL: ctx.databaseUrl,
    ...(ctx.temporalAddress ? { TEMPORAL_ADDRESS: ctx.temporalAddress } : {}),
    ...(ctx.temporalAddress && ctx.temporalNamespace ? { TEMPORAL_NAMESPACE: ctx.temporalNamespace } : {}),
    ...(ctx.humanAnswer
      ? { AUTOCODER_HUMAN_QUESTION: ctx.humanAnswer.question, AUTOCODER_HUMAN_ANSWER: ctx.humanAnswer.answer }
      : {}),
  };
}

/** `{featureId}`, `{featureIds}` (comma-separated, a batch), `{projectDir}`, `{kind}` in each argument of a command template. */
export function substitutePlaceholders(template: readonly string[], spec: AgentSpec): string[] {
  const values: Record<string, string> = {
    featureId: spec.featureId === null ? '' : String(spec.featureId),
    featureIds: spec.featureId === null ? '' : (spec.featureIds ?? [spec.featureId]).join(','),
    projectDir: spec.projectDir,
    kind: spec.kind,
  };
  return template.map((arg) =>
    arg.replace(/\{(featureIds|featureId|projectDir|kind)\}/g, (_, name: string) => values[name] ?? ''),
  );
}

/**
 * Worker variables an agent inherits by name: the supervisor's few, the run's `--agent-env`
 * names, and for claude the auth, provider and proxy variables Claude Code documents. Names only:
 * the values are read from the worker's environment at spawn and never logged.
 */
export function inheritedNames(spec: AgentSpec): string[] {
  return [
    ...new Set([
      ...INHERITED_ENV_NAMES,
      ...(spec.adapter === 'claude' ? CLAUDE_ENV_NAMES : []),
      ...(spec.safety?.env ?? []),
    ]),
  ];
}

export function buildLaunch(spec: AgentSpec, ctx: LaunchContext): AgentLaunch {
  const env = agentEnvironment(spec, ctx);
  const inheritEnv = inheritedNames(spec);
  switch (spec.adapter) {
    case 'simulate':
      return {
        argv: [process.execPath, simulateAgentPath],
        env: { ...env, AUTOCODER_SIMULATE: JSON.stringify(spec.simulate ?? {}) },
        cwd: spec.projectDir,
        inheritEnv,
      };
    case 'command':
      if (!spec.agentCmd?.length) throw new TypeError('the command adapter needs agentCmd (an argv template)');
      return { argv: substitutePlaceholders(spec.agentCmd, spec), env, cwd: spec.projectDir, inheritEnv };
    case 'claude': {
      const claude = buildClaudeLaunch(spec, ctx.runId, env, ctx);
      return { argv: claude.argv, env, cwd: spec.projectDir, sessionId: claude.sessionId, inheritEnv };
    }
  }
}
