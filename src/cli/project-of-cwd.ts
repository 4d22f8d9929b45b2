import type { Kysely } from 'kysely';
import type { Database } from '../db/tables.ts';
import { UserError } from '../errors.ts';

/** The project named on the command line, else the one whose directory is the current one. */
export async function resolveProjectId(db: Kysely<Database>, given: string | undefined): Promise<string> {
  if (given) return given;
  const cwd = process.cwd();
  const rows = await db.selectFrom('projects').select('id').where('dir', '=', cwd).execute();
  if (rows.length === 1) return rows[0]!.id;
  throw new UserError(
    rows.length === 0
      ? `no project given, and no project has the current directory ${cwd}`
      : `no project given, and several projects use ${cwd}: ${rows.map((r) => r.id).join(', ')}`,
    { hint: 'name the project, e.g. `autocoder status todo-app`' },
  );
}
