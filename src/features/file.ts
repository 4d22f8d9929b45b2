/**
 * Reading a feature file: size limit, UTF-8, JSON syntax (with line and column), the schema,
 * then the rules across features. Every problem is collected and reported in one UserError, one
 * per line with its path, so a user fixes a file in one round.
 */
import { readFile, stat } from 'node:fs/promises';
import { showValue, UserError } from '../errors.ts';
import type { GraphFeature } from '../graph/index.ts';
import { findJsonSyntaxError, lineAndColumn } from './json-syntax.ts';
import { crossFeatureProblems, formatPath, shapeProblems, type Problem } from './problems.ts';
import { featureFileObjectSchema, featureListSchema, MAX_FEATURE_FILE_BYTES, type FeatureFileEntry } from './schema.ts';

/** Where the JSON Schema lives in the repository (named in hints). */
export const FEATURE_FILE_SCHEMA_PATH = 'schema/feature-file.schema.json';
/** More problems than this are counted, not listed: past that, the file is probably not ours. */
const MAX_LISTED_PROBLEMS = 1000;

const schemaHint =
  `Fix each problem listed (paths count from 0). The format: {"features": [{"id": 1, "name": "…", "dependencies": []}, …]} ` +
  `or a bare list; every field is described in ${FEATURE_FILE_SCHEMA_PATH} (point "$schema" at it for editor checks).`;

export async function loadFeatureFile(path: string): Promise<FeatureFileEntry[]> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory())
      throw new UserError(`feature file ${path} is a directory`, {
        hint: 'Give the path of a JSON file, e.g. features.json.',
      });
    size = info.size;
  } catch (error) {
    throw readError(path, error);
  }
  if (size > MAX_FEATURE_FILE_BYTES) throw tooLarge(path, size);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw readError(path, error);
  }
  return parseFeatureBytes(bytes, path);
}

/** For bytes from anywhere (a file, stdin, an upload): size, then UTF-8, then the text rules. */
export function parseFeatureBytes(bytes: Uint8Array, sourceName: string): FeatureFileEntry[] {
  if (bytes.byteLength > MAX_FEATURE_FILE_BYTES) throw tooLarge(sourceName, bytes.byteLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const { at, cutOff } = firstInvalidUtf8(bytes);
    const line = 1 + bytes.subarray(0, at).filter((b) => b === 0x0a).length;
    const what = cutOff
      ? 'a character cut off by the end of the file'
      : `byte 0x${(bytes[at] as number).toString(16).padStart(2, '0')}`;
    throw new UserError(`feature file ${sourceName} is not valid UTF-8: ${what} at byte offset ${at} (line ${line})`, {
      hint: 'Save the file as UTF-8 (feature files are JSON, which must be UTF-8).',
    });
  }
  return parseFeatureText(text, sourceName);
}

export function parseFeatureText(text: string, sourceName: string): FeatureFileEntry[] {
  if (text.length > MAX_FEATURE_FILE_BYTES) throw tooLarge(sourceName, text.length);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') {
    throw new UserError(`feature file ${sourceName} is empty`, {
      hint: `Write the features as JSON: {"features": [{"id": 1, "name": "…"}]} (fields: ${FEATURE_FILE_SCHEMA_PATH}).`,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    const located = findJsonSyntaxError(body);
    const where = located ?? {
      ...lineAndColumn(body, body.length),
      message: error instanceof Error ? error.message : String(error),
    };
    throw new UserError(
      `feature file ${sourceName} is not valid JSON: line ${where.line}, column ${where.column}: ${where.message}`,
      {
        hint: 'Fix the JSON at that position (a trailing comma, a missing comma or quote, or a comment are the usual causes; JSON has no comments).',
      },
    );
  }
  const { problems, entries } = checkFeatureData(data);
  if (problems.length > 0) throw problemsError(sourceName, problems);
  return entries;
}

/** All problems with already-parsed JSON data, and the entries (defaults filled) when there are none. */
export function checkFeatureData(data: unknown): { problems: Problem[]; entries: FeatureFileEntry[] } {
  const wrapped = !Array.isArray(data);
  if (wrapped && (data === null || typeof data !== 'object')) {
    return {
      problems: [
        {
          path: [],
          message: `must be an object with a "features" list, or a list of features, got ${showValue(data)}`,
        },
      ],
      entries: [],
    };
  }
  const result = wrapped ? featureFileObjectSchema.safeParse(data) : featureListSchema.safeParse(data);
  const problems = result.success ? [] : shapeProblems(result.error.issues, data);
  const rawEntries = wrapped ? (data as { features?: unknown }).features : data;
  if (Array.isArray(rawEntries)) problems.push(...crossFeatureProblems(rawEntries, wrapped ? ['features'] : []));
  if (problems.length > 0 || !result.success) return { problems: sortByEntry(problems), entries: [] };
  const parsed = result.data;
  return { problems: [], entries: Array.isArray(parsed) ? parsed : parsed.features };
}

/** The scheduling view of file entries. */
export function toGraphFeatures(entries: readonly FeatureFileEntry[]): GraphFeature[] {
  return entries.map((e) => ({
    id: e.id,
    priority: e.priority,
    dependencies: e.dependencies,
    passes: e.passes,
    inProgress: e.in_progress,
  }));
}

function problemsError(sourceName: string, problems: readonly Problem[]): UserError {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  ${formatPath(p.path)}: ${p.message}`);
  if (problems.length > MAX_LISTED_PROBLEMS)
    listed.push(`  … and ${problems.length - MAX_LISTED_PROBLEMS} more problems`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new UserError(`feature file ${sourceName} has ${count}:\n${listed.join('\n')}`, { hint: schemaHint });
}

/** Problems of one feature together, features in file order, file-level problems first. */
function sortByEntry(problems: Problem[]): Problem[] {
  const entryIndex = (p: Problem): number => {
    const at = p.path.findIndex((s) => typeof s === 'number');
    return at === -1 ? -1 : (p.path[at] as number);
  };
  return problems
    .map((p, order) => ({ p, order }))
    .sort((a, b) => entryIndex(a.p) - entryIndex(b.p) || a.order - b.order)
    .map((x) => x.p);
}

function tooLarge(sourceName: string, size: number): UserError {
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return new UserError(
    `feature file ${sourceName} is ${mb(size)}, over the ${mb(MAX_FEATURE_FILE_BYTES)} limit (${MAX_FEATURE_FILE_BYTES} bytes)`,
    {
      hint: 'A feature list is normally a few hundred kilobytes: check that this is the right file, or split it into projects.',
    },
  );
}

function readError(path: string, error: unknown): UserError {
  if (error instanceof UserError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new UserError(`feature file not found: ${path}`, {
      hint: `Check the path (relative paths start at ${process.cwd()}).`,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(`feature file ${path} cannot be read: permission denied`, {
      hint: 'Make the file readable by this user.',
      cause: error,
    });
  }
  if (code === 'EISDIR')
    return new UserError(`feature file ${path} is a directory`, {
      hint: 'Give the path of a JSON file, e.g. features.json.',
    });
  return new UserError(`feature file ${path} cannot be read: ${(error as Error).message}`, {
    hint: 'Check the path and the file.',
    cause: error,
  });
}

/**
 * Where the first ill-formed UTF-8 sequence starts (WHATWG/Unicode rules: no overlong forms, no
 * surrogates, nothing above U+10FFFF), and whether it is just cut off by the end of the data.
 * Only used to point at the problem once TextDecoder has refused.
 */
function firstInvalidUtf8(bytes: Uint8Array): { at: number; cutOff: boolean } {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead < 0x80) length = 1;
    else if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return { at: i, cutOff: false };
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return { at: i, cutOff: true };
      const b = bytes[i + k] as number;
      if (b < (k === 1 ? low : 0x80) || b > (k === 1 ? high : 0xbf)) return { at: i, cutOff: false };
    }
    i += length;
  }
  return { at: bytes.length, cutOff: true };
}
