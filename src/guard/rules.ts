/**
 * The command rules of AutoCoder's `security.py` (upstream HEAD 69d9313), ported: the allowlist,
 * the blocked and dangerous lists, the sensitive directories and the extra checks of `pkill`,
 * `chmod`, `init.sh` and `playwright-cli`. The values are the original's; the code is ours.
 * src/guard/policy.ts applies them (and, under `strict`, the checks the original lacks).
 */

/** What a coding agent may run (security.py ALLOWED_COMMANDS). */
export const ALLOWED_COMMANDS: readonly string[] = [
  'ls',
  'cat',
  'head',
  'tail',
  'wc',
  'grep',
  'cp',
  'mkdir',
  'chmod',
  'pwd',
  'echo',
  'npm',
  'npx',
  'pnpm',
  'node',
  'git',
  'docker',
  'ps',
  'lsof',
  'sleep',
  'kill',
  'pkill',
  'curl',
  'mv',
  'rm',
  'touch',
  'sh',
  'bash',
  'init.sh',
  'playwright-cli',
];

/** Commands strict adds: builtins a coding agent needs whose effect the policy can check. */
export const STRICT_EXTRA_COMMANDS: readonly string[] = ['cd', 'true', 'false', 'test', '[', 'printf', 'which'];

/** Never allowed, whatever a policy file says (security.py BLOCKED_COMMANDS). */
export const BLOCKED_COMMANDS: readonly string[] = [
  'dd',
  'mkfs',
  'fdisk',
  'parted',
  'shutdown',
  'reboot',
  'poweroff',
  'halt',
  'init',
  'chown',
  'chgrp',
  'systemctl',
  'service',
  'launchctl',
  'iptables',
  'ufw',
];

/** Blocked like BLOCKED_COMMANDS (security.py DANGEROUS_COMMANDS: its approval flow never came). */
export const DANGEROUS_COMMANDS: readonly string[] = [
  'sudo',
  'su',
  'doas',
  'aws',
  'gcloud',
  'az',
  'kubectl',
  'docker-compose',
];

/** Credential directories under $HOME (security.py SENSITIVE_DIRECTORIES). */
export const SENSITIVE_DIRECTORIES: readonly string[] = [
  '.ssh',
  '.aws',
  '.azure',
  '.kube',
  '.gnupg',
  '.gpg',
  '.password-store',
  '.docker',
  '.config/gcloud',
  '.config/gh',
  '.npmrc',
  '.pypirc',
  '.netrc',
  '.terraform',
];

/** Processes `pkill` may target without a policy file (security.py DEFAULT_PKILL_PROCESSES). */
export const DEFAULT_PKILL_PROCESSES: readonly string[] = ['node', 'npm', 'npx', 'vite', 'next'];

/** A pkill name a policy file may add: no regex metacharacters (security.py VALID_PROCESS_NAME_PATTERN). */
export const PROCESS_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/**
 * Whether a command matches an allowlist entry: exact, a prefix wildcard (`swift*`) or a script
 * path (`./scripts/build.sh` matches `build.sh`, `scripts/build.sh`, `/abs/scripts/build.sh`).
 * A bare `*` matches nothing.
 */
export function matchesPattern(command: string, pattern: string): boolean {
  if (pattern === '*' || pattern === '') return false;
  if (command === pattern) return true;
  if (pattern.endsWith('*')) return command.startsWith(pattern.slice(0, -1));
  if (pattern.includes('/')) {
    const name = base(pattern);
    return command === name || command.endsWith(`/${name}`);
  }
  return false;
}

export type Verdict = { ok: true } | { ok: false; reason: string };
const ok: Verdict = { ok: true };
const no = (reason: string): Verdict => ({ ok: false, reason });

/** pkill only for dev processes; every pattern must be allowed (BSD pkill takes several). */
export function checkPkill(args: readonly string[], processes: ReadonlySet<string>): Verdict {
  const targets = args.filter((a) => !a.startsWith('-')).map((a) => a.trim().split(/\s+/)[0] ?? '');
  if (targets.length === 0) return no('pkill requires a process name');
  if (targets.every((t) => processes.has(t))) return ok;
  return no(`pkill only allowed for processes: ${[...processes].sort().join(', ')}`);
}

/** chmod only to make files executable: `[ugoa]*+x`, no flags, at least one file. */
export function checkChmod(args: readonly string[]): Verdict {
  if (args.some((a) => a.startsWith('-'))) return no('chmod flags are not allowed');
  const [mode, ...files] = args;
  if (mode === undefined) return no('chmod requires a mode');
  if (files.length === 0) return no('chmod requires at least one file');
  if (!/^[ugoa]*\+x$/.test(mode)) return no(`chmod only allowed with +x mode, got: ${mode}`);
  return ok;
}

/** Only a script named init.sh (`./init.sh`, `path/to/init.sh`). */
export function checkInitScript(command: string): Verdict {
  return command === './init.sh' || command.endsWith('/init.sh')
    ? ok
    : no(`Only ./init.sh is allowed, got: ${command}`);
}

/** playwright-cli without `run-code` and `eval` (arbitrary code in the browser's Node). */
export function checkPlaywright(args: readonly string[]): Verdict {
  const sub = args.find((a) => !a.startsWith('-'));
  return sub === 'run-code' || sub === 'eval' ? no(`playwright-cli '${sub}' is not allowed`) : ok;
}
