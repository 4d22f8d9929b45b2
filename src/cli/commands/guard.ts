/**
 * `autocoder guard bash [--policy strict|original]`: the PreToolUse hook command of claude agents
 * (src/guard/hook.ts has the protocol). Exit 0 allows; exit 2 blocks with the reason on stderr,
 * for the model to read. Anything that goes wrong blocks too: Claude Code runs the tool call after
 * any other exit code, so this command fails closed. Each block is recorded as a feature event
 * (`guard_blocked`), shown by `features show`.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';

const BLOCK = 2;

/** The run's resolved policy, written by the claude adapter into the state dir (never the agent's dir). */
export const guardRulesSchema = z.object({
  additions: z.object({
    commands: z.array(z.string()),
    pkillProcesses: z.array(z.string()),
    blocked: z.array(z.string()),
  }),
  allowHosts: z.array(z.string()),
});

export function register(program: Command): void {
  const guard = program.command('guard').description('Claude Code hooks that check what an agent is about to do');
  guard
    .command('bash')
    .description('PreToolUse hook: check a Bash command (or a file write) against the agent policy')
    .option('--policy <name>', 'strict | original', 'strict')
    .option('--rules <file>', "the run's policy additions (JSON, written per run); default: read the policy files")
    .addHelpText(
      'after',
      `
Reads Claude Code's hook input on stdin ({"tool_name":"Bash","tool_input":{"command":…},"cwd":…}).
The agent's dir is AUTOCODER_PROJECT_DIR. Exit 0 allows, exit 2 blocks (reason on stderr).

Example:
  echo '{"tool_name":"Bash","tool_input":{"command":"rm -rf /"},"cwd":"/tmp/app"}' | \\
    AUTOCODER_PROJECT_DIR=/tmp/app autocoder guard bash --policy strict`,
    )
    .action(async (flags: { policy: string; rules?: string }) => {
      let reason: string;
      let input: { tool_name: string; tool_input: Record<string, unknown> } | undefined;
      try {
        const decision = await check(flags);
        input = decision.input;
        if (decision.verdict.ok) {
          process.exitCode = 0;
          return;
        }
        reason = decision.verdict.reason;
      } catch (error) {
        reason = `autocoder guard could not check this call, so it is blocked: ${(error as Error).message}`;
      }
      process.stderr.write(`${reason}\n`);
      process.exitCode = BLOCK;
      if (input) await recordBlock(input, flags.policy, reason).catch(() => undefined);
    });
}

async function check(flags: { policy: string; rules?: string }) {
  const [{ decide, hookInputSchema }, { loadPolicyAdditions }] = await Promise.all([
    import('../../guard/hook.ts'),
    import('../../guard/policy-files.ts'),
  ]);
  const policy = z.enum(['strict', 'original']).safeParse(flags.policy);
  if (!policy.success) throw new Error(`--policy must be strict or original, got ${JSON.stringify(flags.policy)}`);
  const dir = process.env.AUTOCODER_PROJECT_DIR;
  if (!dir) throw new Error('AUTOCODER_PROJECT_DIR is not set (the agent environment names the agent dir)');
  const raw = readFileSync(0, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('the hook input on stdin is not JSON');
  }
  const parsed = hookInputSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `bad hook input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const home = process.env.AUTOCODER_HOME || join(homedir(), '.autocoder');
  const rules = flags.rules
    ? guardRulesSchema.parse(JSON.parse(readFileSync(flags.rules, 'utf8')))
    : { additions: loadPolicyAdditions(dir, home), allowHosts: [] };
  const verdict = decide(parsed.data, { policy: policy.data, dir, home: homedir(), ...rules });
  return { verdict, input: parsed.data };
}

/** Best effort: a block is enforced whether or not the database takes the event. */
async function recordBlock(
  input: { tool_name: string; tool_input: Record<string, unknown> },
  policy: string,
  reason: string,
) {
  const { DATABASE_URL: url, AUTOCODER_PROJECT_ID: projectId, AUTOCODER_RUN_ID: runId } = process.env;
  if (!url || !projectId) return;
  const featureId = Number(process.env.AUTOCODER_FEATURE_ID);
  const [{ createDb }, { recordFeatureEvents }] = await Promise.all([
    import('../../db/create-db.ts'),
    import('../../db/feature-edits.ts'),
  ]);
  const { db, close } = createDb(url, { poolSize: 1, connectTimeoutMs: 5000, applicationName: 'autocoder-guard' });
  try {
    const what =
      input.tool_name === 'Bash'
        ? input.tool_input.command
        : (input.tool_input.file_path ?? input.tool_input.notebook_path);
    await recordFeatureEvents(db, [
      {
        projectId,
        featureId: Number.isSafeInteger(featureId) && featureId > 0 ? featureId : null,
        runId: runId ?? 'guard',
        action: 'guard_blocked',
        detail: { tool: input.tool_name, command: String(what ?? '').slice(0, 1000), reason, policy },
      },
    ]);
  } finally {
    await close();
  }
}
