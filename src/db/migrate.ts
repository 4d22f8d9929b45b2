import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { migrations } from './migrations/index.ts';
import { syncVocabularyChecks } from './vocabulary-checks.ts';

export type MigrationReport = { applied: string[]; vocabularyChecks: string[] };

/**
 * Brings the schema to the newest migration, then the vocabulary CHECK constraints to the lists
 * of src/workflows/vocabulary.ts (vocabulary-checks.ts). The one entry point for the CLI, the
 * worker and the tests; Kysely serialises concurrent callers with its migration lock (and the
 * sync with its own), so two workers starting at once are safe. Throws the migration's own error
 * (with the migration name) when one fails.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error !== undefined) {
    const where = failed ? `migration ${failed.migrationName} failed` : 'migration failed';
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const { replaced } = await syncVocabularyChecks(db);
  return {
    applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName),
    vocabularyChecks: replaced,
  };
}

/** Names of the migrations this checkout knows, in order. */
export function knownMigrations(): string[] {
  return Object.keys(migrations).sort();
}
