/**
 * The claude adapter: Claude Code headless (`claude -p`) with our prompt, our MCP feature server
 * and stream-json output (DESIGN.md §5). Flags as `claude --help` of @anthropic-ai/claude-code
 * 2.1.332 prints them; behaviour checked against that binary:
 * - `--mcp-config` and `--allowedTools` take several values, so the prompt comes last, after
 *   `--`: nothing in it (a leading `-`, a feature name) can be read as an option;
 * - stream-json with `-p` requires `--verbose`;
 * - `--session-id` together with `--resume` requires `--fork-session`: the next attempt resumes
 *   the earlier conversation under a session id of its own;
 * - `--dangerously-skip-permissions` is refused when running as root, so agents run in
 *   `acceptEdits` mode with the tools they need allowed (as AutoCoder's client does).
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentSpec } from '../activities/types.ts';
import { loadPromptTemplate, promptNameOf, promptVariables, renderPrompt } from './claude-prompts.ts';
import { DEFAULT_SAFETY, writeSafetyFiles } from './claude-safety.ts';

/** The MCP server name in the config: its tools appear to the model as `mcp__features__<tool>`. */
export const MCP_SERVER_NAME = 'features';

export const AUTOCODER_BIN = fileURLToPath(new URL('../../bin/autocoder', import.meta.url));

/** Built-in Claude Code tools every agent may use without asking (AutoCoder's list). */
export const BUILTIN_TOOLS = ['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Bash', 'WebFetch', 'WebSearch'] as const;

const READ_TOOLS = [
  'feature_get_stats',
  'feature_get_by_id',
  'feature_get_summary',
  'feature_get_ready',
  'feature_get_blocked',
  'feature_get_graph',
];

/** The feature tools each kind of agent sees (AutoCoder's per-agent lists). */
export const FEATURE_TOOLS_BY_KIND: Record<AgentSpec['kind'], readonly string[]> = {
  coding: [
    ...READ_TOOLS,
    'feature_claim_and_get',
    'feature_mark_in_progress',
    'feature_mark_passing',
    'feature_mark_failing',
    'feature_skip',
    'feature_clear_in_progress',
    'feature_request_human_input',
  ],
  testing: [...READ_TOOLS, 'feature_mark_passing', 'feature_mark_failing'],
  // A resolver finishes a rebase; the queue, not the agent, decides what happens to the feature.
  merge: READ_TOOLS,
  initializer: [
    'feature_get_stats',
    'feature_get_ready',
    'feature_get_blocked',
    'feature_get_graph',
    'feature_create_bulk',
    'feature_create',
    'feature_add_dependency',
    'feature_set_dependencies',
  ],
};

/** Every tool of the feature server (src/mcp), whichever kind may use it. */
export const ALL_FEATURE_TOOLS: readonly string[] = [
  ...READ_TOOLS,
  'feature_mark_passing',
  'feature_mark_failing',
  'feature_skip',
  'feature_mark_in_progress',
  'feature_claim_and_get',
  'feature_clear_in_progress',
  'feature_create_bulk',
  'feature_create',
  'feature_add_dependency',
  'feature_remove_dependency',
  'feature_set_dependencies',
  'feature_request_human_input',
  'ask_user',
];

export type ClaudeOptions = {
  /** `<stateDir>/mcp/<run>.json` holds the MCP config. Default AUTOCODER_HOME or ~/.autocoder. */
  stateDir?: string | undefined;
  /** The session of an earlier attempt at this feature: its conversation is resumed. */
  resumeSessionId?: string | undefined;
  /** What is left of the budget, passed as --max-budget-usd. */
  maxBudgetUsd?: number | undefined;
  /** The claude executable (default `claude` on the agent's PATH). */
  claudeCommand?: string | undefined;
  /** Session id to use (default a new random UUID). */
  sessionId?: string | undefined;
  /** The feature's latest answered question to a person. */
  humanAnswer?: { question: string; answer: string } | undefined;
};

/** What the next agent of a feature is told about the question asked for it and its answer. */
export function humanAnswerNote({ question, answer }: { question: string; answer: string }): string {
  return [
    '## A person answered the question asked for this feature',
    '',
    `Question: ${question}`,
    `Answer: ${answer}`,
    '',
    'Use this answer and go on with the feature (also in AUTOCODER_HUMAN_QUESTION and AUTOCODER_HUMAN_ANSWER).',
  ].join('\n');
}

export type ClaudeLaunch = {
  argv: string[];
  sessionId: string;
  mcpConfigPath: string;
  prompt: string;
  /** The run's `--settings` file (hook and sandbox); null under `--agent-policy off`. */
  settingsPath: string | null;
};

/** Where the MCP config of a run goes: one flat file name per run id. */
export const mcpConfigPathFor = (stateDir: string, runId: string): string =>
  join(stateDir, 'mcp', `${runId.replaceAll('/', '__')}.json`);

/**
 * Builds the argv of one Claude Code run and writes its MCP config, which starts
 * `bin/autocoder mcp` with the agent environment `env`. The file holds DATABASE_URL, so it is
 * readable by its owner only.
 */
export function buildClaudeLaunch(
  spec: AgentSpec,
  runId: string,
  env: Record<string, string>,
  options: ClaudeOptions = {},
): ClaudeLaunch {
  const stateDir = options.stateDir ?? process.env.AUTOCODER_HOME ?? join(homedir(), '.autocoder');
  const sessionId = options.sessionId ?? randomUUID();
  const resume = options.resumeSessionId;
  if (options.maxBudgetUsd !== undefined && !(Number.isFinite(options.maxBudgetUsd) && options.maxBudgetUsd > 0)) {
    throw new TypeError(
      `maxBudgetUsd must be a positive number of USD, got ${String(options.maxBudgetUsd)} (do not start an agent with no budget left)`,
    );
  }
  const rendered = renderPrompt(
    loadPromptTemplate(promptNameOf(spec), spec.projectDir),
    promptVariables(spec, runId, resume !== undefined),
  );
  // After the template, so a project's own prompt gets it too.
  const prompt = options.humanAnswer ? `${rendered}\n\n${humanAnswerNote(options.humanAnswer)}` : rendered;

  const mcpConfigPath = mcpConfigPathFor(stateDir, runId);
  const config = { mcpServers: { [MCP_SERVER_NAME]: { type: 'stdio', command: AUTOCODER_BIN, args: ['mcp'], env } } };
  mkdirSync(join(stateDir, 'mcp'), { recursive: true });
  writeFileSync(mcpConfigPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(mcpConfigPath, 0o600); // mode applies only when the file is created

  const safety = writeSafetyFiles({
    stateDir,
    runId,
    dir: spec.projectDir,
    kind: spec.kind,
    safety: spec.safety ?? DEFAULT_SAFETY,
    autocoderBin: AUTOCODER_BIN,
  });

  const mine = FEATURE_TOOLS_BY_KIND[spec.kind];
  const qualified = (tool: string) => `mcp__${MCP_SERVER_NAME}__${tool}`;
  const allowed = [...BUILTIN_TOOLS, ...mine.map(qualified)];
  // The other kinds' feature tools are hidden from the model altogether, as AutoCoder does.
  const hidden = ALL_FEATURE_TOOLS.filter((tool) => !mine.includes(tool)).map(qualified);
  const argv = [
    options.claudeCommand ?? 'claude',
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    '--session-id',
    sessionId,
    '--mcp-config',
    mcpConfigPath,
    '--strict-mcp-config',
    '--permission-mode',
    'acceptEdits',
    '--allowedTools',
    allowed.join(','),
    ...(hidden.length > 0 ? ['--disallowedTools', hidden.join(',')] : []),
    ...(spec.model ? ['--model', spec.model] : []),
    ...(resume ? ['--resume', resume, '--fork-session'] : []),
    ...(options.maxBudgetUsd !== undefined ? ['--max-budget-usd', String(options.maxBudgetUsd)] : []),
    ...safety.argv,
    '--',
    prompt,
  ];
  return { argv, sessionId, mcpConfigPath, prompt, settingsPath: safety.settingsPath };
}
