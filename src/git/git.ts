/**
 * Running git: argv only (spawn, never a shell), no prompts, a fixed identity when the
 * repository has none, and errors that carry the command and its output. Nothing here knows of
 * features or runs; src/git/worktrees.ts builds the product's steps on it.
 */
import { spawn } from 'node:child_process';

export class GitError extends Error {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly code: number | null;
  readonly output: string;
  constructor(args: readonly string[], cwd: string, code: number | null, output: string) {
    super(`git ${args.join(' ')} (in ${cwd}) exited ${code}: ${output.trim().slice(-2000)}`);
    this.name = 'GitError';
    this.args = args;
    this.cwd = cwd;
    this.code = code;
    this.output = output;
  }
}

export type GitResult = { code: number; stdout: string; stderr: string };

function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_EDITOR: 'true', ...extra };
  // A git hook or GIT_DIR inherited from a parent git process would point us at another repository.
  delete env.GIT_DIR;
  delete env.GIT_WORK_TREE;
  delete env.GIT_INDEX_FILE;
  return env;
}

/** Runs git in `cwd`; resolves with the exit code (never rejects on a non-zero one). */
export function gitRaw(
  cwd: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: gitEnv(),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 5 * 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs git in `cwd` and returns its stdout; a non-zero exit is a GitError. */
export async function git(cwd: string, args: readonly string[], options: { input?: string } = {}): Promise<string> {
  const result = await gitRaw(cwd, args, options);
  if (result.code !== 0) throw new GitError(args, cwd, result.code, `${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** True when git exits 0 (for the predicates: is-ancestor, rev-parse --verify, diff --quiet). */
export async function gitOk(cwd: string, args: readonly string[]): Promise<boolean> {
  return (await gitRaw(cwd, args)).code === 0;
}

/**
 * `-c user.name=… -c user.email=…` when the repository has no identity configured (a fresh CI box),
 * so the orchestrator's own commits never fail there; a configured identity is left alone.
 */
export async function identityArgs(cwd: string): Promise<string[]> {
  // One git process for both (each costs 10-50 ms on a loaded machine, on the merge path).
  const { stdout } = await gitRaw(cwd, ['config', '--get-regexp', '^user\\.(name|email)$']);
  const has = (key: string) => stdout.split('\n').some((line) => line.startsWith(`${key} `) && line.trim() !== key);
  return [
    ...(has('user.name') ? [] : ['-c', 'user.name=autocoder']),
    ...(has('user.email') ? [] : ['-c', 'user.email=autocoder@localhost']),
  ];
}

/** NUL-separated output as a list (the -z forms), without the empty tail. */
export const nulList = (out: string): string[] => out.split('\0').filter((s) => s.length > 0);
