/**
 * The agent's environment: a few variables every program expects, taken from the worker, plus the
 * agent variables the caller passes (DESIGN.md §5). Nothing else of the worker leaks through
 * (no DATABASE_URL unless given, no Temporal settings, no NODE_OPTIONS of the worker).
 */

/** Worker variables an agent inherits unless the caller overrides or removes them. */
export const INHERITED_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
];

/**
 * Builds the environment for the launcher. `env` entries win over inherited ones; an `undefined`
 * value removes a variable. The agent's NODE_OPTIONS is passed under another name so that it does
 * not apply to the launcher, which restores it for the agent.
 */
export function buildAgentEnv(
  env: Readonly<Record<string, string | undefined>>,
  inherit: readonly string[] = INHERITED_ENV_NAMES,
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of inherit) {
    const value = from[name];
    if (value !== undefined) out[name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new TypeError(`Expected agent env names without '=' or NUL, got ${JSON.stringify(name)}`);
    }
    if (value === undefined) {
      delete out[name];
      continue;
    }
    if (typeof value !== 'string' || value.includes('\0')) {
      throw new TypeError(`Expected agent env ${name} to be a string without NUL, got ${JSON.stringify(value)}`);
    }
    out[name] = value;
  }
  if (out.NODE_OPTIONS !== undefined) {
    out.AUTOCODER_AGENT_NODE_OPTIONS = out.NODE_OPTIONS;
    delete out.NODE_OPTIONS;
  }
  return out;
}
