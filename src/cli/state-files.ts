/**
 * The state dir on disk: how big it is (for `status`, measured by a bounded walk and cached for a
 * few minutes, so status stays cheap on a dir of many files), and which per-run files retention
 * may remove (`gc`): agent logs with their status files under `logs/`, and agents' MCP, guard and
 * settings files, each named after its run (src/activities/supervise.ts logFileFor,
 * src/agents/claude.ts, src/agents/claude-safety.ts).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseAgentRunId } from '../workflows/run-ids.ts';

export type StateSize = { bytes: number; files: number; complete: boolean; measuredAt: string };

const cacheSchema = z.object({
  bytes: z.number().nonnegative(),
  files: z.number().int().nonnegative(),
  complete: z.boolean(),
  measuredAt: z.iso.datetime(),
});

export const stateSizeCachePath = (home: string): string => join(home, 'cache', 'state-size.json');

/** A walk visits at most this many entries: past it the size is a lower bound (`complete: false`). */
export const STATE_WALK_LIMIT = 200_000;
const CACHE_FOR_MS = 10 * 60_000;

/** The state dir's size: the cached figure while it is fresh, else a bounded walk (then cached). */
export function stateDirSize(
  home: string,
  options: { now?: Date; limit?: number; maxAgeMs?: number } = {},
): StateSize & { cached: boolean } {
  const now = options.now ?? new Date();
  const cached = readCache(home);
  if (cached && now.getTime() - Date.parse(cached.measuredAt) < (options.maxAgeMs ?? CACHE_FOR_MS))
    return { ...cached, cached: true };
  const size = { ...walkSize(home, options.limit ?? STATE_WALK_LIMIT), measuredAt: now.toISOString() };
  try {
    mkdirSync(join(home, 'cache'), { recursive: true });
    writeFileSync(stateSizeCachePath(home), JSON.stringify(size));
  } catch {
    // A read-only state dir still gets its size, only not cached.
  }
  return { ...size, cached: false };
}

/** Forgets the cached size (after gc removed files), so the next status measures again. */
export function forgetStateSize(home: string): void {
  rmSync(stateSizeCachePath(home), { force: true });
}

function readCache(home: string): StateSize | null {
  try {
    return cacheSchema.parse(JSON.parse(readFileSync(stateSizeCachePath(home), 'utf8')));
  } catch {
    return null;
  }
}

/** Sums file sizes under `root` without following symlinks; stops after `limit` entries. */
function walkSize(root: string, limit: number): { bytes: number; files: number; complete: boolean } {
  let bytes = 0;
  let files = 0;
  let visited = 0;
  let complete = true;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      complete = false;
      continue;
    }
    for (const entry of entries) {
      if (++visited > limit) return { bytes, files, complete: false };
      const path = join(dir, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.isFile()) {
        try {
          bytes += lstatSync(path).size;
          files += 1;
        } catch {
          complete = false; // removed while we walked, or not ours to read
        }
      }
    }
  }
  return { bytes, files, complete };
}

export type StateFile = { path: string; bytes: number; modifiedAt: Date; runId: string };

/**
 * Agent runs' files last written before `before`, except those of runs in `live`: logs
 * (`logs/<run>.log`, `logs/<run>.log.status.json`), MCP configs (`mcp/<run>.json`) and a claude
 * agent's guard rules and settings (`guard/<run>.json`, `settings/<run>.json`).
 */
export function oldRunFiles(home: string, before: Date, live: ReadonlySet<string>): StateFile[] {
  const found: StateFile[] = [];
  const kinds = [
    { dir: 'logs', pattern: /^(.+)\.log(\.status\.json)?$/ },
    { dir: 'mcp', pattern: /^(.+)\.json$/ },
    { dir: 'guard', pattern: /^(.+)\.json$/ },
    { dir: 'settings', pattern: /^(.+)\.json$/ },
  ];
  for (const { dir, pattern } of kinds) {
    let names: string[];
    try {
      names = readdirSync(join(home, dir));
    } catch {
      continue; // no such dir yet
    }
    for (const name of names.sort()) {
      const match = pattern.exec(name);
      if (!match) continue;
      const path = join(home, dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat?.isFile() || stat.mtime >= before) continue;
      const runId = match[1]!.replaceAll('__', '/');
      // Only files named after one of our agent runs: anything else in there is not ours to remove.
      if (parseAgentRunId(runId) === null || live.has(runId)) continue;
      found.push({ path, bytes: stat.size, modifiedAt: stat.mtime, runId });
    }
  }
  return found;
}

/** Bytes as people read them: 512 B, 3.4 KB, 1.2 GB (powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
