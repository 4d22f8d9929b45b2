import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { REGENERATE_SCHEMA_COMMAND, SCHEMA_SNAPSHOT_PATH, dumpSchema } from '../../src/db/dump-schema.ts';
import { knownMigrations } from '../../src/db/migrate.ts';
import { withTestDb } from '../support/db.ts';

const t = withTestDb();

test('src/db/schema.sql matches what the migrations build', async () => {
  const committed = await readFile(SCHEMA_SNAPSHOT_PATH, 'utf8');
  const actual = await dumpSchema(t.db);
  if (actual !== committed) {
    const a = actual.split('\n');
    const c = committed.split('\n');
    const line = a.findIndex((text, i) => text !== c[i]);
    assert.fail(
      `src/db/schema.sql is out of date with the migrations (first difference at line ${line + 1}:\n` +
        `  committed: ${c[line] ?? '<end of file>'}\n  migrated:  ${a[line] ?? '<end of file>'})\n` +
        `Regenerate it with: ${REGENERATE_SCHEMA_COMMAND}`,
    );
  }
});

test('every known migration was applied to the test database', async () => {
  const rows = await t.db
    .selectFrom('kysely_migration' as never)
    .select('name' as never)
    .execute();
  assert.deepEqual((rows as Array<{ name: string }>).map((r) => r.name).sort(), knownMigrations());
});
