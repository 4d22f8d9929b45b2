/**
 * Whether Claude Code's OS sandbox can run here. On Linux it needs bubblewrap (`bwrap`) and
 * `socat` (code.claude.com/docs/en/sandboxing, "Prerequisites"); macOS has Seatbelt built in.
 * Our agents set `sandbox.failIfUnavailable`, so without them a claude agent refuses to start
 * rather than running unsandboxed: `doctor` says so before a run does.
 */
import { spawnSync } from 'node:child_process';

export type SandboxCheck = {
  ok: boolean;
  platform: string;
  tools: { name: string; found: string | null }[];
  fix?: string;
};

const version = (command: string, args: string[], env: NodeJS.ProcessEnv): string | null => {
  const ran = spawnSync(command, args, { encoding: 'utf8', timeout: 5000, env });
  if (ran.error || ran.status !== 0) return null;
  return (
    `${ran.stdout}${ran.stderr}`
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? 'found'
  );
};

export function checkSandboxTools(
  platform: string = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): SandboxCheck {
  if (platform !== 'linux') return { ok: platform === 'darwin', platform, tools: [] };
  const tools = [
    { name: 'bubblewrap', found: version('bwrap', ['--version'], env) },
    { name: 'socat', found: version('socat', ['-V'], env)?.replace(/^.*socat version /, 'socat ') ?? null },
  ];
  const missing = tools.filter((t) => t.found === null).map((t) => t.name);
  return missing.length === 0
    ? { ok: true, platform, tools }
    : {
        ok: false,
        platform,
        tools,
        fix: `apt-get install ${missing.join(' ')} (claude agents refuse to start without the sandbox; --agent-policy off runs them unsandboxed)`,
      };
}

/** "sandbox: ok (bubblewrap 0.11.0, socat 1.8.0.0)" or "sandbox: missing socat — fix: …". */
export function formatSandboxCheck(check: SandboxCheck): string {
  if (check.tools.length === 0) return `sandbox: ${check.ok ? 'ok (built in)' : `not supported on ${check.platform}`}`;
  if (check.ok) return `sandbox: ok (${check.tools.map((t) => t.found).join(', ')})`;
  const missing = check.tools.filter((t) => t.found === null).map((t) => t.name);
  return `sandbox: missing ${missing.join(', ')} — fix: ${check.fix}`;
}
