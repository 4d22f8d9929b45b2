/**
 * Policy files: what an operator adds to the allowlist (AutoCoder's project and org YAML, under
 * our names). `<project>/.autocoder/allowed-commands.yaml` and `$AUTOCODER_HOME/allowed-commands.yaml`:
 *
 *   version: 1
 *   commands:            # added to the allowlist: a name, a prefix pattern `swift*`, or a script path
 *     - name: swift
 *       description: Swift compiler
 *   pkill_processes: [python, uvicorn]   # more names pkill may target
 *   blocked_commands: [terraform]        # blocked on top of the built-in lists
 *
 * Both files have the same limits (AutoCoder's): at most 100 commands, no bare `*`, nothing on the
 * blocked or dangerous lists (a pattern that would match one counts), process names without regex
 * metacharacters. A file that breaks one is refused as a whole with its line named: the run does
 * not start (exit 2). They are read from the project dir at run start and handed to the hook
 * through the run's settings, never read from an agent's dir.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import type { PolicyAdditions } from './policy.ts';
import { BLOCKED_COMMANDS, DANGEROUS_COMMANDS, matchesPattern, PROCESS_NAME_PATTERN } from './rules.ts';

export const POLICY_FILE = 'allowed-commands.yaml';
export const MAX_POLICY_COMMANDS = 100;
export const projectPolicyPath = (projectDir: string): string => join(projectDir, '.autocoder', POLICY_FILE);
export const userPolicyPath = (autocoderHome: string): string => join(autocoderHome, POLICY_FILE);

const policyFileSchema = z
  .object({
    version: z.literal(1, 'must be 1'),
    commands: z
      .array(
        z.object({
          name: z
            .string()
            .trim()
            .min(1, 'must not be empty')
            .regex(/^[A-Za-z0-9._\/+-]+\*?$/, 'must be a command name, a prefix pattern `name*` or a script path'),
          description: z.string().optional(),
        }),
      )
      .max(MAX_POLICY_COMMANDS, `at most ${MAX_POLICY_COMMANDS} commands`)
      .default([]),
    pkill_processes: z
      .array(z.string().trim().regex(PROCESS_NAME_PATTERN, 'must be a process name (letters, digits, . _ -)'))
      .default([]),
    blocked_commands: z.array(z.string().trim().min(1)).default([]),
  })
  .strict();

const NEVER = [...BLOCKED_COMMANDS, ...DANGEROUS_COMMANDS];

/** Reads one policy file; a missing file adds nothing. Throws UserError naming the file and line. */
export function readPolicyFile(path: string): PolicyAdditions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { commands: [], pkillProcesses: [], blocked: [] };
    throw new UserError(`cannot read the policy file ${path}: ${(error as Error).message}`, {
      hint: 'fix its permissions, or remove it',
    });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (path: readonly (string | number)[]): number => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lines.linePos(node.range[0]).line : 1;
  };
  const fail = (line: number, message: string): never => {
    throw new UserError(`policy file ${path}, line ${line}: ${message}`, {
      hint: `fix or remove that line (the format is in the README, "Safety"); the run did not start`,
    });
  };
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    fail(lines.linePos(first.pos[0]).line, `not valid YAML (${first.message.split('\n')[0]})`);
  }
  const parsed = policyFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    fail(lineOf(at), `${at.length ? at.join('.') : '(file)'}: ${issue.message}`);
  }
  const file = parsed.data!;
  file.commands.forEach((entry, i) => {
    const name = entry.name;
    if (name === '*') fail(lineOf(['commands', i, 'name']), 'a bare `*` would allow every command');
    const hits = NEVER.filter((never) => name === never || name.endsWith(`/${never}`) || matchesPattern(never, name));
    if (hits.length > 0) {
      fail(
        lineOf(['commands', i, 'name']),
        `'${name}' is on the blocked list${hits[0] === name ? '' : ` (it would match ${hits.join(', ')})`} and cannot be allowed`,
      );
    }
  });
  return {
    commands: file.commands.map((c) => c.name),
    pkillProcesses: file.pkill_processes,
    blocked: file.blocked_commands,
  };
}

/** The user's file, then the project's: their additions together (blocked ones win at check time). */
export function loadPolicyAdditions(projectDir: string, autocoderHome: string | undefined): PolicyAdditions {
  const files = [...(autocoderHome ? [userPolicyPath(autocoderHome)] : []), projectPolicyPath(projectDir)];
  const all = files.map(readPolicyFile);
  const union = (pick: (a: PolicyAdditions) => string[]) => [...new Set(all.flatMap(pick))];
  return {
    commands: union((a) => a.commands),
    pkillProcesses: union((a) => a.pkillProcesses),
    blocked: union((a) => a.blocked),
  };
}
