/** Helpers shared by the feature-store tests: projects with feature lists, golden vectors. */
import { readdirSync, readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { importFeatures, type FeatureEntry } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import type { Database } from '../../src/db/tables.ts';
import type { GraphFeature } from '../../src/graph/index.ts';

import { goldenDir } from '../graph/golden-cases.ts';
import { agentRunPrefix } from '../../src/workflows/run-ids.ts';

export const GOLDEN_DIR = goldenDir;

export type GoldenCase = {
  name: string;
  features: FeatureEntry[];
  expected: { ready: number[]; scores: Record<string, number> };
};

export function goldenCases(): GoldenCase[] {
  const files = readdirSync(GOLDEN_DIR)
    .filter((f) => /^case-\d+\.json$/.test(f))
    .sort();
  if (files.length === 0) throw new Error(`no golden vectors in ${GOLDEN_DIR}`);
  return files.map((file) => ({ name: file, ...JSON.parse(readFileSync(`${GOLDEN_DIR}/${file}`, 'utf8')) }));
}

export function toEntries(features: readonly GraphFeature[]): FeatureEntry[] {
  return features.map((f) => ({
    id: f.id,
    priority: f.priority,
    name: `Feature ${f.id}`,
    dependencies: f.dependencies === null ? null : [...f.dependencies],
    passes: f.passes,
    in_progress: f.inProgress,
  }));
}

export function toGraph(entries: readonly FeatureEntry[]): GraphFeature[] {
  return entries.map((e) => ({
    id: e.id,
    priority: e.priority ?? 999,
    dependencies: e.dependencies ?? null,
    passes: e.passes ?? false,
    inProgress: e.in_progress ?? false,
  }));
}

let counter = 0;
/** A new project (unique id within the test database) holding `entries`. */
export async function seedProject(
  db: Kysely<Database>,
  entries: readonly FeatureEntry[],
  prefix = 'p',
): Promise<string> {
  counter += 1;
  const projectId = `${prefix}-${process.pid}-${counter}`;
  await upsertProject(db, { id: projectId, dir: `/tmp/${projectId}` });
  await importFeatures(db, projectId, entries);
  return projectId;
}

export const codingPrefix = (projectId: string) => agentRunPrefix(projectId, 'coding');

/** n independent ready features (no dependencies). */
export function flatEntries(n: number): FeatureEntry[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `Feature ${i + 1}`, priority: (i % 7) + 1 }));
}
