/**
 * The benchmark's zero-work agent: the C one (zero-work.c on libpq) when this machine can build
 * it, else the Node one (zero-work.cjs). `--agent c` insists on the C agent, `--agent node` asks
 * for the Node one (AutoCoder's own benchmarks ran agents of that weight).
 *
 * The C agent is compiled once per source version into .autocoder-bench/agents/ with `cc`, and
 * libpq's headers found by pg_config or pkg-config (Debian: libpq-dev).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const agentChoices = ['auto', 'c', 'node'] as const;
export type AgentChoice = (typeof agentChoices)[number];
export type ZeroWorkAgent = { kind: 'c-libpq' | 'node'; argv: string[]; note: string };

const here = fileURLToPath(new URL('.', import.meta.url));
const cSource = join(here, 'zero-work.c');
const nodeAgent = join(here, 'zero-work.cjs');

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Compiler flags for libpq: pg_config first (it ships with the headers), then pkg-config. */
function libpqFlags(): { cflags: string[]; libs: string[] } {
  try {
    return { cflags: [`-I${run('pg_config', ['--includedir'])}`], libs: [`-L${run('pg_config', ['--libdir'])}`, '-lpq'] };
  } catch {
    return { cflags: run('pkg-config', ['--cflags', 'libpq']).split(/\s+/).filter(Boolean), libs: run('pkg-config', ['--libs', 'libpq']).split(/\s+/).filter(Boolean) };
  }
}

function buildC(outDir: string): string {
  const source = readFileSync(cSource);
  const binary = join(outDir, `zero-work-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(outDir, { recursive: true });
  const { cflags, libs } = libpqFlags();
  const partial = `${binary}.${process.pid}.tmp`;
  run(process.env.CC ?? 'cc', ['-O2', '-o', partial, ...cflags, cSource, ...libs]);
  renameSync(partial, binary);
  return binary;
}

export function zeroWorkAgent(choice: AgentChoice, outDir: string): ZeroWorkAgent {
  const node: ZeroWorkAgent = { kind: 'node', argv: [process.execPath, nodeAgent], note: 'bench/agents/zero-work.cjs (Node)' };
  if (choice === 'node') return node;
  try {
    return { kind: 'c-libpq', argv: [buildC(outDir)], note: 'bench/agents/zero-work.c (C on libpq)' };
  } catch (err) {
    const why = ((err as { stderr?: string }).stderr || (err as Error).message).split('\n')[0];
    if (choice === 'c') throw new Error(`--agent c: could not build bench/agents/zero-work.c (${why}); install a C compiler and libpq's headers (Debian: gcc libpq-dev), or use --agent node`);
    return { ...node, note: `${node.note}; the C agent could not be built here (${why})` };
  }
}
