/**
 * Reads an AutoCoder project database (`features.db`, SQLite) so a running project can move over:
 * table `features` with id, priority, category, name, description, steps (JSON text), passes,
 * in_progress, dependencies (JSON text or null; absent in older versions). Rows go through the
 * same checks as a feature file, so a bad row is reported with its path like a bad file entry.
 */
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { UserError, showValue } from '../errors.ts';
import { checkFeatureData, formatPath, type FeatureFileEntry } from '../features/index.ts';

const OPTIONAL_COLUMNS = [
  'priority',
  'category',
  'description',
  'steps',
  'passes',
  'in_progress',
  'dependencies',
] as const;

export function readAutoCoderFeatures(path: string): FeatureFileEntry[] {
  if (!existsSync(path)) {
    throw new UserError(`AutoCoder database not found: ${path}`, {
      hint: "give the path of the project's features.db, e.g. ~/projects/my-app/features.db",
    });
  }
  let sqlite: DatabaseSync;
  try {
    sqlite = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw notAutoCoder(path, error);
  }
  try {
    let columns: Set<string>;
    let rows: Array<Record<string, unknown>>;
    try {
      columns = new Set(
        sqlite
          .prepare('PRAGMA table_info(features)')
          .all()
          .map((c) => String(c.name)),
      );
      if (!columns.has('id') || !columns.has('name')) throw new Error('no table "features" with columns id and name');
      // Only known column names ever reach this statement (a fixed list, no input).
      const wanted = ['id', 'name', ...OPTIONAL_COLUMNS.filter((c) => columns.has(c))];
      rows = sqlite.prepare(`SELECT ${wanted.join(', ')} FROM features ORDER BY id`).all() as Array<
        Record<string, unknown>
      >;
    } catch (error) {
      throw notAutoCoder(path, error);
    }
    const problems: string[] = [];
    const data = rows.map((row, i) => toEntry(row, i, problems));
    const checked = checkFeatureData(data);
    for (const p of checked.problems) problems.push(`${formatPath(p.path)}: ${p.message}`);
    if (problems.length > 0) {
      throw new UserError(
        `AutoCoder database ${path} has ${problems.length === 1 ? '1 bad row' : `${problems.length} problems`} (features[i] is the i-th row by id):\n  ${problems.slice(0, 200).join('\n  ')}`,
        {
          hint: 'fix those rows in AutoCoder (or with sqlite3) and import again; nothing was changed',
        },
      );
    }
    return checked.entries;
  } finally {
    sqlite.close();
  }
}

/** One SQLite row in feature-file shape; JSON columns that do not parse are reported by path. */
function toEntry(row: Record<string, unknown>, index: number, problems: string[]): Record<string, unknown> {
  const entry: Record<string, unknown> = { id: toNumber(row.id), name: row.name };
  if (row.priority !== undefined && row.priority !== null) entry.priority = toNumber(row.priority);
  if (typeof row.category === 'string') entry.category = row.category;
  if (typeof row.description === 'string') entry.description = row.description;
  for (const column of ['steps', 'dependencies'] as const) {
    const value = row[column];
    if (value === undefined || value === null) {
      if (column === 'dependencies' && value === null) entry.dependencies = null;
      continue;
    }
    try {
      entry[column] = typeof value === 'string' ? JSON.parse(value) : value;
    } catch {
      problems.push(`features[${index}].${column}: must be JSON text, got ${showValue(value)}`);
    }
  }
  // SQLite booleans are integers.
  for (const column of ['passes', 'in_progress'] as const) {
    const value = row[column];
    if (value === undefined || value === null) continue;
    entry[column] =
      value === 1 || value === 1n || value === true
        ? true
        : value === 0 || value === 0n || value === false
          ? false
          : value;
  }
  return entry;
}

function toNumber(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

function notAutoCoder(path: string, error: unknown): UserError {
  return new UserError(
    `${path} is not an AutoCoder feature database: ${error instanceof Error ? error.message : String(error)}`,
    {
      hint: 'give the features.db from an AutoCoder project directory (a SQLite file with a "features" table)',
      cause: error,
    },
  );
}
