/**
 * What keeps a claude agent in bounds, passed to Claude Code per run (DESIGN.md §9 "Agent safety"):
 *
 * - a settings file, `--settings <stateDir>/settings/<run>.json` (a file we write, not a shell
 *   string; CLI reference: "--settings: path to a settings JSON file or a JSON string"). It holds
 *   the PreToolUse hook (`autocoder guard bash`) and the OS sandbox: writes only to the agent's
 *   dir, the repository's git dir and temp; network only to the run's `--allow-host` hosts;
 *   `failIfUnavailable` (Claude Code 2.1.83+; anthropics/claude-code#38557) so a missing
 *   bubblewrap/socat stops the agent instead of running it unsandboxed, and
 *   `allowUnsandboxedCommands: false` so the model cannot ask its way out
 *   (`dangerouslyDisableSandbox`). Keys as in the settings reference, code.claude.com/docs/en/settings
 *   ("Sandbox settings") and code.claude.com/docs/en/sandboxing;
 * - `--setting-sources user`: the project and local settings (`<dir>/.claude/settings*.json`)
 *   are files an agent could write, so they are not read (CLI reference: "--setting-sources:
 *   comma-separated list of setting sources to load (user, project, local)"); flag and managed
 *   settings always apply;
 * - `--max-turns N` per kind (CLI reference: "Limit the number of agentic turns (print mode
 *   only)"; hidden in `claude --help`); a run that reaches it ends with a result of subtype
 *   `error_max_turns`, which src/activities/supervise.ts makes a failed attempt;
 * - the environment: the variables Claude Code documents for auth, provider and proxy
 *   (code.claude.com/docs/en/env-vars, …/bedrock-vertex-proxies), passed by name, plus the run's
 *   `--agent-env` names. Values are never written into files we own or printed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { AgentSafety } from '../activities/types.ts';
import { GUARDED_TOOLS } from '../guard/hook.ts';
import { SENSITIVE_DIRECTORIES } from '../guard/rules.ts';

/** AutoCoder's max_turns per agent kind (client.py), and the merge kind to come. */
export const DEFAULT_MAX_TURNS: Readonly<Record<string, number>> = {
  coding: 300,
  testing: 100,
  initializer: 300,
  merge: 100,
};

/** Auth, provider and proxy variables Claude Code documents; passed to claude agents by name. */
export const CLAUDE_ENV_NAMES: readonly string[] = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_CUSTOM_HEADERS',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'CLAUDE_CONFIG_DIR',
  'CLAUDE_CODE_USE_BEDROCK',
  'ANTHROPIC_BEDROCK_BASE_URL',
  'CLAUDE_CODE_SKIP_BEDROCK_AUTH',
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_BEARER_TOKEN_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'ANTHROPIC_VERTEX_PROJECT_ID',
  'ANTHROPIC_VERTEX_BASE_URL',
  'CLOUD_ML_REGION',
  'CLAUDE_CODE_SKIP_VERTEX_AUTH',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLAUDE_CODE_USE_FOUNDRY',
  'ANTHROPIC_FOUNDRY_API_KEY',
  'ANTHROPIC_FOUNDRY_RESOURCE',
  'ANTHROPIC_FOUNDRY_BASE_URL',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'CLAUDE_CODE_CLIENT_CERT',
  'CLAUDE_CODE_CLIENT_KEY',
  'CLAUDE_CODE_CLIENT_KEY_PASSPHRASE',
];

/** A spec without safety settings (a history from before them): the defaults of a run. */
export const DEFAULT_SAFETY: AgentSafety = {
  policy: 'strict',
  allowHosts: [],
  maxTurns: {},
  env: [],
  additions: { commands: [], pkillProcesses: [], blocked: [] },
};

/** Setting sources an agent cannot write: the user's own (`~/.claude/settings.json`). */
export const SETTING_SOURCES = 'user';

/** POSIX single quotes: the hook command is run by a shell, and our paths may hold spaces. */
const quote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;

/** The repository's git dir (shared by all worktrees), so an agent in a worktree can commit. */
export function gitCommonDir(dir: string): string | null {
  const result = spawnSync('git', ['rev-parse', '--git-common-dir'], { cwd: dir, encoding: 'utf8', timeout: 5000 });
  if (result.status !== 0) return null;
  const out = result.stdout.trim();
  return out === '' ? null : isAbsolute(out) ? out : resolve(dir, out);
}

export type SafetyFiles = { settingsPath: string | null; rulesPath: string | null; argv: string[] };

/**
 * Writes the run's settings and guard rules under `<stateDir>` (outside the agent's dir, which the
 * sandbox lets it write) and returns the Claude Code flags that use them.
 */
export function writeSafetyFiles(input: {
  stateDir: string;
  runId: string;
  dir: string;
  kind: string;
  safety: AgentSafety;
  autocoderBin: string;
}): SafetyFiles {
  const { safety } = input;
  const turns = safety.maxTurns[input.kind] ?? DEFAULT_MAX_TURNS[input.kind];
  const argv = [...(turns ? ['--max-turns', String(turns)] : []), '--setting-sources', SETTING_SOURCES];
  if (safety.policy === 'off') return { settingsPath: null, rulesPath: null, argv };

  const flat = input.runId.replaceAll('/', '__');
  const rulesPath = join(input.stateDir, 'guard', `${flat}.json`);
  const settingsPath = join(input.stateDir, 'settings', `${flat}.json`);
  const rules = { additions: safety.additions, allowHosts: safety.allowHosts };
  const hook = [input.autocoderBin, 'guard', 'bash', '--policy', safety.policy, '--rules', rulesPath]
    .map(quote)
    .join(' ');
  const git = gitCommonDir(input.dir);
  const home = homedir();
  const settings = {
    permissions: { defaultMode: 'acceptEdits' },
    hooks: {
      PreToolUse: [{ matcher: GUARDED_TOOLS.join('|'), hooks: [{ type: 'command', command: hook, timeout: 60 }] }],
    },
    sandbox: {
      enabled: true,
      failIfUnavailable: true,
      allowUnsandboxedCommands: false,
      autoAllowBashIfSandboxed: true,
      filesystem: {
        allowWrite: [...new Set([input.dir, ...(git ? [git] : []), tmpdir(), '/tmp'])],
        denyWrite: [join(input.dir, '.claude'), join(input.dir, '.autocoder')],
        denyRead: SENSITIVE_DIRECTORIES.map((d) => join(home, d)),
      },
      network: { allowedDomains: ['localhost', '127.0.0.1', ...safety.allowHosts] },
    },
  };
  for (const [path, value] of [
    [rulesPath, rules],
    [settingsPath, settings],
  ] as const) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return { settingsPath, rulesPath, argv: [...argv, '--settings', settingsPath] };
}
