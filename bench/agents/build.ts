/**
 * The benchmark's zero-work agent: the C one (zero-work.c, on OpenSSL's libcrypto) when this
 * machine can build it, else the Node one (zero-work.cjs). `--agent c` insists on the C agent,
 * `--agent node` asks for the Node one (AutoCoder's own benchmarks ran agents of that weight).
 *
 * The C agent is compiled once per source version into .autocoder-bench/agents/ with `cc` and
 * OpenSSL's headers (Debian: libssl-dev), libcrypto linked statically where its archive is there
 * (no shared library to load at each start), else dynamically.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const agentChoices = ['auto', 'c', 'node'] as const;
export type AgentChoice = (typeof agentChoices)[number];
export type ZeroWorkAgent = { kind: 'c' | 'node'; argv: string[]; note: string };

const here = fileURLToPath(new URL('.', import.meta.url));
const cSource = join(here, 'zero-work.c');
const nodeAgent = join(here, 'zero-work.cjs');

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function buildC(outDir: string): string {
  const source = readFileSync(cSource);
  const binary = join(outDir, `zero-work-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(outDir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  const cc = process.env.CC ?? 'cc';
  try {
    run(cc, ['-O2', '-o', partial, cSource, '-Wl,-Bstatic', '-lcrypto', '-Wl,-Bdynamic', '-ldl', '-pthread']);
  } catch {
    run(cc, ['-O2', '-o', partial, cSource, '-lcrypto']);
  }
  renameSync(partial, binary);
  return binary;
}

export function zeroWorkAgent(choice: AgentChoice, outDir: string): ZeroWorkAgent {
  const node: ZeroWorkAgent = {
    kind: 'node',
    argv: [process.execPath, nodeAgent],
    note: 'bench/agents/zero-work.cjs (Node)',
  };
  if (choice === 'node') return node;
  try {
    return { kind: 'c', argv: [buildC(outDir)], note: 'bench/agents/zero-work.c (C)' };
  } catch (err) {
    const why = ((err as { stderr?: string }).stderr || (err as Error).message).split('\n')[0];
    if (choice === 'c')
      throw new Error(
        `--agent c: could not build bench/agents/zero-work.c (${why}); install a C compiler and OpenSSL's headers (Debian: gcc libssl-dev), or use --agent node`,
      );
    return { ...node, note: `${node.note}; the C agent could not be built here (${why})` };
  }
}
