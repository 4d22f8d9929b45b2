/**
 * The run's agent safety flags: `--agent-policy strict|original|off`, `--allow-host HOST`,
 * `--max-turns KIND=N` and `--agent-env NAME` (each repeatable), checked here, with the policy
 * files read from the project dir (and $AUTOCODER_HOME) at run start. A bad value or a bad policy
 * file stops the run before anything is written: exit 2 naming the input, the value and the fix.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentSafety } from '../activities/types.ts';
import { DEFAULT_MAX_TURNS } from '../agents/claude-safety.ts';
import { UserError, showValue } from '../errors.ts';
import { loadPolicyAdditions } from '../guard/policy-files.ts';
import { agentKinds, agentPolicies, ENV_NAME_PATTERN } from '../workflows/messages.ts';

export type SafetyFlags = { agentPolicy: string; allowHost: string[]; maxTurns: string[]; agentEnv: string[] };

const HOST = /^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const KINDS: readonly string[] = [...agentKinds, 'merge'];

export function agentSafetyFromFlags(flags: SafetyFlags, projectDir: string): AgentSafety {
  if (!(agentPolicies as readonly string[]).includes(flags.agentPolicy)) {
    throw new UserError(
      `--agent-policy must be one of ${agentPolicies.join(', ')}, got ${showValue(flags.agentPolicy)}`,
      {
        hint: 'strict is the default; original is AutoCoder’s allowlist as it was',
      },
    );
  }
  for (const host of flags.allowHost) {
    if (!HOST.test(host)) {
      throw new UserError(`--allow-host must be a host name, got ${showValue(host)}`, {
        hint: 'give the host alone, without scheme, port or path: --allow-host registry.npmjs.org',
      });
    }
  }
  const maxTurns: Record<string, number> = { ...DEFAULT_MAX_TURNS };
  for (const entry of flags.maxTurns) {
    const match = /^([a-z]+)=(\d+)$/.exec(entry);
    const n = match ? Number(match[2]) : NaN;
    if (!match || !KINDS.includes(match[1]!) || !(n >= 1 && n <= 10_000)) {
      throw new UserError(
        `--max-turns must be KIND=N with KIND one of ${KINDS.join(', ')} and N in 1..10000, got ${showValue(entry)}`,
        {
          hint: 'e.g. --max-turns coding=200 --max-turns testing=50',
        },
      );
    }
    maxTurns[match[1]!] = n;
  }
  for (const name of flags.agentEnv) {
    if (!ENV_NAME_PATTERN.test(name)) {
      throw new UserError(`--agent-env must be a variable name, got ${showValue(name)}`, {
        hint: 'give the name only (its value is read from the worker’s environment): --agent-env GITHUB_TOKEN',
      });
    }
  }
  const home = process.env.AUTOCODER_HOME || join(homedir(), '.autocoder');
  const additions = loadPolicyAdditions(resolve(projectDir), home);
  return {
    policy: flags.agentPolicy as AgentSafety['policy'],
    allowHosts: [...new Set(flags.allowHost)],
    maxTurns,
    env: [...new Set(flags.agentEnv)],
    additions,
  };
}

/** What `run` and `status` print when agents run with no command policy and no sandbox. */
export const POLICY_OFF_WARNING =
  'WARNING: --agent-policy off: claude agents run any shell command, unsandboxed, with no hook checking them. Use it only on a machine you can throw away.';
