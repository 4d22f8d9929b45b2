/**
 * The command policy: is this Bash command allowed for an agent working in `dir`?
 *
 * - `original`: AutoCoder's rules (src/guard/rules.ts) on every command the parser finds,
 *   nested ones included; a command it cannot parse, or whose name is not known before it runs
 *   (`$(echo rm) -rf /`), is blocked.
 * - `strict` (the default) adds what the original lets through: destructive or write targets
 *   outside the dir (`rm -rf /`, `> ~/.bashrc`), a pipe into a shell (`curl … | sh`), reads of
 *   the sensitive directories (`cat ~/.ssh/id_rsa`), `bash -c` strings it checks like any command,
 *   curl to hosts other than localhost and the run's `--allow-host` hosts, and write paths it
 *   cannot know (`rm -rf $X`). It allows `cd` within the dir and a few harmless builtins.
 * - Both block writes to `.claude/`, `.autocoder/` and the prompt templates in the dir: an agent
 *   must not rewrite its own hooks, settings or policy files.
 */
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, normalize, resolve, sep } from 'node:path';
import { analyse, type SimpleCommand, type Word } from './shell.ts';
import {
  ALLOWED_COMMANDS,
  BLOCKED_COMMANDS,
  checkChmod,
  checkInitScript,
  checkPkill,
  checkPlaywright,
  DANGEROUS_COMMANDS,
  DEFAULT_PKILL_PROCESSES,
  matchesPattern,
  SENSITIVE_DIRECTORIES,
  STRICT_EXTRA_COMMANDS,
  type Verdict,
} from './rules.ts';

export const agentPolicies = ['strict', 'original', 'off'] as const;
export type AgentPolicy = (typeof agentPolicies)[number];

/** What policy files added (src/guard/policy-files.ts), already checked against the blocked lists. */
export type PolicyAdditions = { commands: string[]; pkillProcesses: string[]; blocked: string[] };
export const NO_ADDITIONS: PolicyAdditions = { commands: [], pkillProcesses: [], blocked: [] };

export type PolicyContext = {
  policy: Exclude<AgentPolicy, 'off'>;
  /** The agent's dir (worktree or project dir): writes stay inside it. */
  dir: string;
  /** Where the command runs (the hook's `cwd`); default `dir`. */
  cwd?: string;
  home?: string;
  additions?: PolicyAdditions;
  /** Hosts curl may reach besides localhost (the run's `--allow-host`). */
  allowHosts?: readonly string[];
};

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish']);
/** Commands whose path operands are written (or removed). */
const WRITERS = new Set(['rm', 'rmdir', 'mv', 'touch', 'mkdir', 'chmod', 'tee', 'ln', 'truncate']);
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '0.0.0.0', '::1', '[::1]']);
const DEV_WRITES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty']);
/** Variables that change what a command loads or runs. */
const RISKY_ASSIGNS = /^(LD_\w+|DYLD_\w+|BASH_ENV|ENV|PATH|NODE_OPTIONS|PROMPT_COMMAND|GIT_SSH_COMMAND)$/;
const PROTECTED_IN_DIR = ['.claude', '.autocoder'];

const ok: Verdict = { ok: true };
const no = (reason: string): Verdict => ({ ok: false, reason });
const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

export function checkCommand(command: string, ctx: PolicyContext, depth = 0): Verdict {
  const parsed = analyse(command);
  if (!parsed.ok) return no(`Could not parse command for security validation (${parsed.error}): ${command}`);
  const strict = ctx.policy === 'strict';
  const home = ctx.home ?? homedir();
  const additions = ctx.additions ?? NO_ADDITIONS;
  const blocked = new Set([...BLOCKED_COMMANDS, ...DANGEROUS_COMMANDS, ...additions.blocked]);
  const allowed = [...ALLOWED_COMMANDS, ...(strict ? STRICT_EXTRA_COMMANDS : []), ...additions.commands].filter(
    (c) => !blocked.has(c),
  );
  const pkill = new Set([...DEFAULT_PKILL_PROCESSES, ...additions.pkillProcesses]);
  // Every directory a `cd` in this command may have moved to: relative paths are checked against each.
  const cwds = new Set([ctx.cwd ?? ctx.dir]);
  const paths = { home, dir: ctx.dir, cwds };

  for (const cmd of parsed.commands) {
    for (const r of cmd.redirects) {
      const verdict =
        r.op === 'write'
          ? checkWritePath(r.target, paths, strict, 'redirect')
          : strict && r.op === 'read'
            ? checkReadPath(r.target, paths)
            : ok;
      if (!verdict.ok) return verdict;
    }
    if (cmd.name.value === '') continue; // assignments or a compound statement's redirects only
    if (cmd.name.value === null) return no(`Command name ${cmd.name.text} is not known before it runs; write it out`);
    const name = base(cmd.name.value);
    if (blocked.has(name)) return no(`Command '${name}' is blocked and cannot be approved.`);
    if (!allowed.some((p) => name === p || matchesPattern(name, p) || matchesPattern(cmd.name.value!, p))) {
      return no(
        `Command '${name}' is not allowed. To allow it, add it to .autocoder/allowed-commands.yaml in the project (the operator's file, read at run start); blocked commands cannot be added.`,
      );
    }
    const args = cmd.args.map((a) => a.value ?? a.text);
    const extra =
      name === 'pkill'
        ? checkPkill(args, pkill)
        : name === 'chmod'
          ? checkChmod(args)
          : name === 'init.sh'
            ? checkInitScript(cmd.name.value)
            : name === 'playwright-cli'
              ? checkPlaywright(args)
              : ok;
    if (!extra.ok) return extra;
    const own = protectedWrite(cmd, name, paths);
    if (!own.ok) return own;
    if (!strict) continue;
    const verdict = checkStrict(cmd, name, ctx, paths, depth);
    if (!verdict.ok) return verdict;
  }
  return ok;
}

type Paths = { home: string; dir: string; cwds: Set<string> };

function checkStrict(cmd: SimpleCommand, name: string, ctx: PolicyContext, paths: Paths, depth: number): Verdict {
  const risky = cmd.assigns.find((a) => RISKY_ASSIGNS.test(a));
  if (risky) return no(`Setting ${risky} for a command is not allowed`);
  for (const arg of cmd.args) {
    const verdict = checkReadPath(arg, paths);
    if (!verdict.ok) return verdict;
  }
  if (SHELLS.has(name)) {
    if (cmd.pipedInto)
      return no(`Piping into ${name} is not allowed: save the script to a file in the project and read it first`);
    const c = cmd.args.findIndex((a) => a.value !== null && /^-[a-z]*c[a-z]*$/.test(a.value));
    if (c >= 0) {
      const script = cmd.args[c + 1];
      if (!script || script.value === null)
        return no(`${name} -c with a script not known before it runs is not allowed`);
      if (depth >= 3) return no(`${name} -c nested too deep`);
      return checkCommand(script.value, { ...ctx, cwd: [...paths.cwds][0]! }, depth + 1);
    }
    const script = cmd.args.find((a) => !(a.value ?? '').startsWith('-'));
    if (script && script.value === null) return no(`${name} running a script not known before it runs is not allowed`);
  }
  if (name === 'cd') {
    const target = cmd.args.find((a) => a.value === null || !a.value.startsWith('-'));
    if (!target) return no('cd without a directory would leave the project dir');
    if (target.value === null) return no('cd to a directory not known before it runs is not allowed');
    for (const cwd of [...paths.cwds]) {
      const to = resolvePath(target.value, cwd, paths.home);
      if (!inside(to, paths.dir)) return no(`cd outside the project dir (${to}) is not allowed`);
      paths.cwds.add(to);
    }
    return ok;
  }
  const writes = writeOperands(cmd, name);
  for (const word of writes) {
    const verdict = checkWritePath(word, paths, true, name);
    if (!verdict.ok) return verdict;
  }
  if (name === 'curl') return checkCurl(cmd, ctx.allowHosts ?? []);
  if (name === 'git' && cmd.args.some((a) => a.value === '--global' || a.value === '--system'))
    return no('git config outside the project (--global, --system) is not allowed');
  if (
    (name === 'npm' || name === 'pnpm') &&
    cmd.args.some((a) => ['-g', '--global', '--location=global'].includes(a.value ?? ''))
  )
    return no(`${name} global installs write outside the project and are not allowed`);
  if (name === 'docker') return checkDocker(cmd, paths);
  return ok;
}

/** Path operands a command writes: all of a writer's, cp's last, curl's -o, tee's files. */
function writeOperands(cmd: SimpleCommand, name: string): Word[] {
  const operands = cmd.args.filter((a) => a.value === null || !a.value.startsWith('-'));
  if (WRITERS.has(name)) return name === 'chmod' ? operands.slice(1) : operands;
  if (name === 'cp') return operands.slice(-1);
  if (name === 'curl' || name === 'wget') {
    const out: Word[] = [];
    cmd.args.forEach((a, i) => {
      if (['-o', '--output', '-O', '--output-document'].includes(a.value ?? '') && cmd.args[i + 1])
        out.push(cmd.args[i + 1]!);
    });
    return out;
  }
  return [];
}

function protectedWrite(cmd: SimpleCommand, name: string, paths: Paths): Verdict {
  for (const word of [
    ...writeOperands(cmd, name),
    ...cmd.redirects.filter((r) => r.op === 'write').map((r) => r.target),
  ]) {
    if (word.value === null) continue;
    for (const cwd of paths.cwds) {
      const path = resolvePath(word.value, cwd, paths.home);
      const hit = PROTECTED_IN_DIR.find((p) => inside(path, resolve(paths.dir, p)));
      if (hit)
        return no(`Writing ${hit}/ in the agent's dir is not allowed: it holds the agent's own settings and policy`);
    }
  }
  return ok;
}

function checkWritePath(word: Word, paths: Paths, strict: boolean, what: string): Verdict {
  if (word.value === null) {
    return strict ? no(`${what} writes to ${word.text}, a path not known before it runs; write the path out`) : ok;
  }
  for (const cwd of paths.cwds) {
    const path = resolvePath(word.value, cwd, paths.home);
    const own = PROTECTED_IN_DIR.find((p) => inside(path, resolve(paths.dir, p)));
    if (own)
      return no(`Writing ${own}/ in the agent's dir is not allowed: it holds the agent's own settings and policy`);
    if (!strict || DEV_WRITES.has(path) || inside(path, paths.dir) || inside(path, tmpdir()) || inside(path, '/tmp'))
      continue;
    return no(`${what} writes outside the project dir (${path}); agents write only in ${paths.dir} and temp`);
  }
  return ok;
}

/** Strict: no argument may name a sensitive directory (`~/.ssh`, `$HOME/.aws/…`, `/root/.netrc`). */
function checkReadPath(word: Word, paths: Paths): Verdict {
  const text = word.value ?? word.text;
  for (const sensitive of SENSITIVE_DIRECTORIES) {
    const pattern = new RegExp(`(^|[/=~:@'"])${sensitive.replaceAll('.', '\\.')}(/|$)`);
    if (pattern.test(text) || (word.value !== null && isSensitive(word.value, paths, sensitive))) {
      return no(`Reading ${sensitive} (credentials) is not allowed`);
    }
  }
  return ok;
}

function isSensitive(value: string, paths: Paths, sensitive: string): boolean {
  const target = resolve(paths.home, sensitive);
  return [...paths.cwds].some((cwd) => inside(resolvePath(value, cwd, paths.home), target));
}

function checkCurl(cmd: SimpleCommand, allowHosts: readonly string[]): Verdict {
  for (const arg of cmd.args) {
    const value = arg.value ?? arg.text;
    if (value.startsWith('-')) continue;
    const match = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(\[[^\]]+\]|[^/:?#\s]+)(?::\d+)?(?:[/?#]|$)/i.exec(value);
    if (!match || !/^[a-z]+:\/\//i.test(value)) continue; // not a URL: a header or data value
    const host = match[1]!.toLowerCase();
    if (LOCAL_HOSTS.has(host) || allowHosts.some((h) => h.toLowerCase() === host)) continue;
    return no(`curl to ${host} is not allowed: only localhost and the run's --allow-host hosts`);
  }
  return ok;
}

function checkDocker(cmd: SimpleCommand, paths: Paths): Verdict {
  for (let i = 0; i < cmd.args.length; i++) {
    const value = cmd.args[i]!.value;
    if (value === null) continue;
    if (value === '--privileged' || value.startsWith('--pid=host') || value.startsWith('--network=host'))
      return no(`docker ${value} is not allowed`);
    const mount = ['-v', '--volume'].includes(value) ? cmd.args[i + 1]?.value : /^--volume=(.*)$/.exec(value)?.[1];
    if (mount === undefined) continue;
    if (mount === null) return no('docker volume not known before it runs is not allowed');
    const host = mount.split(':')[0]!;
    if (host.startsWith('/') || host.startsWith('.') || host.startsWith('~')) {
      const verdict = checkWritePath({ value: host, text: host }, paths, true, 'docker volume');
      if (!verdict.ok) return verdict;
    }
  }
  return ok;
}

function resolvePath(value: string, cwd: string, home: string): string {
  const expanded = value === '~' ? home : value.startsWith('~/') ? `${home}${value.slice(1)}` : value;
  return normalize(isAbsolute(expanded) ? expanded : resolve(cwd, expanded));
}

function inside(path: string, root: string): boolean {
  const r = normalize(root);
  return path === r || path.startsWith(r.endsWith(sep) ? r : r + sep);
}
