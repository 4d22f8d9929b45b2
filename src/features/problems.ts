/**
 * Problems in a feature list, each as `path: what is wrong, got <value>`, e.g.
 * `features[3].dependencies[1]: must be an integer, got "x"`. Zod finds the shape problems; the
 * rules that span fields or features (unique ids, no self-dependency) are checked here, on the
 * raw data, so that one pass reports everything at once.
 */
import type { z } from 'zod';
import { showValue } from '../errors.ts';
import { MAX_DEPENDENCIES_PER_FEATURE } from '../graph/index.ts';
import { FEATURE_FIELDS } from './schema.ts';

export type Problem = { path: PropertyKey[]; message: string };

type Issue = z.core.$ZodIssue;

/** Messages for zod issues, phrased for the feature file; one per path (the first wins). */
export function shapeProblems(issues: readonly Issue[], data: unknown): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: [...issue.path, key], message: unknownFieldMessage() });
      continue;
    }
    const key = formatPath(issue.path);
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path: issue.path, message: issueMessage(issue, valueAt(data, issue.path)) });
  }
  return problems;
}

/** Duplicate ids and self-dependencies, on whatever entries have a usable id. */
export function crossFeatureProblems(entries: readonly unknown[], pathPrefix: PropertyKey[]): Problem[] {
  const problems: Problem[] = [];
  const firstAt = new Map<number, number>();
  entries.forEach((entry, index) => {
    if (!isRecord(entry) || !isFeatureId(entry['id'])) return;
    const id = entry['id'];
    const earlier = firstAt.get(id);
    if (earlier === undefined) firstAt.set(id, index);
    else
      problems.push({
        path: [...pathPrefix, index, 'id'],
        message: `duplicate id ${id} (already used by ${formatPath([...pathPrefix, earlier])})`,
      });
    const deps = entry['dependencies'];
    if (!Array.isArray(deps)) return;
    deps.forEach((dep, k) => {
      if (dep === id)
        problems.push({
          path: [...pathPrefix, index, 'dependencies', k],
          message: `feature ${id} cannot depend on itself`,
        });
    });
  });
  return problems;
}

/** `features[3].dependencies[1]`; a bare list's entries read `[3].name`; the root is `(file)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text === '' ? '(file)' : text;
}

function issueMessage(issue: Issue, value: unknown): string {
  const field = lastName(issue.path);
  const got = `, got ${describeValue(value)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      return `must be ${expectedThing(issue.expected, field)}${got}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${String(issue.minimum)}${got}`;
    case 'too_big':
      if (issue.origin === 'array' && field === 'dependencies') {
        return `has ${Array.isArray(value) ? value.length : '?'} dependencies; at most ${MAX_DEPENDENCIES_PER_FEATURE} are allowed`;
      }
      return `must be at most ${String(issue.maximum)}${got}`;
    case 'invalid_format':
      return `must not be blank${got}`;
    case 'invalid_union':
      return `must be an object with a "features" list, or a list of features${got}`;
    default:
      return `${issue.message}${got}`;
  }
}

function expectedThing(expected: string, field: string | undefined): string {
  switch (expected) {
    case 'int':
    case 'number':
      return 'an integer';
    case 'string':
      return field === 'steps' ? 'a string (steps are a list of strings)' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      if (field === 'steps') return 'a list of strings';
      if (field === 'dependencies') return 'a list of feature ids, or null';
      return 'a list of features';
    case 'object':
      return 'an object (one feature)';
    default:
      return expected;
  }
}

function unknownFieldMessage(): string {
  return `unknown field (a typo?); the fields of a feature are ${FEATURE_FIELDS.join(', ')}`;
}

/** The name of the nearest named segment: `dependencies` for `features[3].dependencies[1]`. */
function lastName(path: readonly PropertyKey[]): string | undefined {
  for (let k = path.length - 1; k >= 0; k--) if (typeof path[k] === 'string') return path[k] as string;
  return undefined;
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value); // JSON.stringify would show Infinity as null
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list (${showValue(value)})`;
  if (typeof value === 'object') return `an object (${showValue(value)})`;
  return showValue(value);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isFeatureId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}
