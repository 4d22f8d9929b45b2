import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GraphFeature } from '../../src/graph/index.ts';

/**
 * The golden scheduling vectors computed by AutoCoder's own resolver (see their README): the
 * shared reference beside the checkout when it is there (it may hold more cases than we have
 * seen), else the copy committed in test/fixtures/golden.
 */
const sharedGoldenDir = fileURLToPath(new URL('../../../shared/reference/golden/', import.meta.url));
export const goldenDir = existsSync(sharedGoldenDir)
  ? sharedGoldenDir
  : fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

export type GoldenCase = {
  name: string;
  file: string;
  features: GraphFeature[];
  expected: { ready: number[]; scores: Record<string, number>; cycles: number[][]; missing: Record<string, number[]> };
};

type RawFeature = {
  id: number;
  priority: number;
  dependencies: number[] | null;
  passes: boolean;
  in_progress: boolean;
};

export function loadGoldenCases(): GoldenCase[] {
  return readdirSync(goldenDir)
    .filter((name) => /^case-.*\.json$/.test(name))
    .sort()
    .map((name) => {
      const file = goldenDir + name;
      const raw = JSON.parse(readFileSync(file, 'utf8')) as {
        features: RawFeature[];
        expected: GoldenCase['expected'];
      };
      const features = raw.features.map((f) => ({
        id: f.id,
        priority: f.priority,
        dependencies: f.dependencies,
        passes: f.passes,
        inProgress: f.in_progress,
      }));
      return { name, file, features, expected: raw.expected };
    });
}

/** Cycles compared as a multiset of member-id sets: rotation and order may differ. */
export function cycleSets(cycles: readonly (readonly number[])[]): string[] {
  return cycles.map((c) => [...new Set(c)].sort((a, b) => a - b).join(',')).sort();
}

/** Asserts scores agree within 1e-9 and name the same ids; returns a message or null. */
export function scoreMismatch(actual: Record<string, number>, expected: Record<string, number>): string | null {
  const a = Object.keys(actual).sort();
  const e = Object.keys(expected).sort();
  if (a.join() !== e.join()) return `score ids differ: got ${a.length}, expected ${e.length}`;
  for (const id of e) {
    const diff = Math.abs((actual[id] as number) - (expected[id] as number));
    if (!(diff <= 1e-9)) return `score of #${id}: got ${actual[id]}, expected ${expected[id]}`;
  }
  return null;
}
