/**
 * Claude Code's PreToolUse hook protocol, our side: the input it writes on stdin and our answer.
 * Claude Code runs the hook command with JSON like
 *   {"session_id":"…","transcript_path":"…","cwd":"/dir","permission_mode":"acceptEdits",
 *    "hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test",
 *    "description":"…"},"tool_use_id":"toolu_…"}
 * and reads the exit code: 0 lets the call go on, 2 blocks it and shows stderr to the model, any
 * other code is a non-blocking error (the call goes on), so every failure here must end in 2.
 * (Hooks reference, code.claude.com/docs/en/hooks, "Hook input" and "Exit code output";
 * sample: test/fixtures/fake-claude/hook-input-bash.json.)
 */
import { isAbsolute, normalize, resolve, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { z } from 'zod';
import { checkCommand, type PolicyAdditions } from './policy.ts';
import type { Verdict } from './rules.ts';

export const hookInputSchema = z.looseObject({
  hook_event_name: z.string().optional(),
  tool_name: z.string().min(1),
  tool_input: z.record(z.string(), z.unknown()),
  cwd: z.string().optional(),
  session_id: z.string().optional(),
  tool_use_id: z.string().optional(),
});
export type HookInput = z.infer<typeof hookInputSchema>;

/** The Claude Code tools that write files, and the field naming the file. */
const FILE_TOOLS: Record<string, string> = {
  Write: 'file_path',
  Edit: 'file_path',
  MultiEdit: 'file_path',
  NotebookEdit: 'notebook_path',
};
/** What the hook is registered for (the settings file's matcher). */
export const GUARDED_TOOLS = ['Bash', ...Object.keys(FILE_TOOLS)];

export type GuardContext = {
  policy: 'strict' | 'original';
  dir: string;
  home: string;
  additions: PolicyAdditions;
  allowHosts: string[];
};

export function decide(input: HookInput, ctx: GuardContext): Verdict {
  const cwd = input.cwd && isAbsolute(input.cwd) ? input.cwd : ctx.dir;
  if (input.tool_name === 'Bash') {
    const command = input.tool_input.command;
    if (typeof command !== 'string') return { ok: false, reason: 'Bash tool input has no command string' };
    return checkCommand(command, { ...ctx, cwd });
  }
  const field = FILE_TOOLS[input.tool_name];
  if (!field) return { ok: true };
  const file = input.tool_input[field];
  if (typeof file !== 'string' || file === '') return { ok: false, reason: `${input.tool_name} without ${field}` };
  const path = normalize(resolve(cwd, file));
  const under = (root: string) => path === root || path.startsWith(normalize(root) + sep);
  for (const own of ['.claude', '.autocoder']) {
    if (under(resolve(ctx.dir, own)))
      return {
        ok: false,
        reason: `Writing ${own}/ in the agent's dir is not allowed: it holds the agent's own settings and policy`,
      };
  }
  if (ctx.policy === 'strict' && !under(ctx.dir) && !under(tmpdir()) && !under('/tmp')) {
    return { ok: false, reason: `${input.tool_name} outside the project dir (${path}) is not allowed` };
  }
  return { ok: true };
}
