import type { Kysely } from 'kysely';
import { UserError, showValue } from '../errors.ts';
import type { Database, ProjectRow } from './tables.ts';

export const PROJECT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export type ProjectInput = { id: string; dir: string; settings?: Record<string, unknown> };

/** Creates the project or updates its directory (and settings when given). */
export async function upsertProject(db: Kysely<Database>, project: ProjectInput): Promise<ProjectRow> {
  assertProjectId(project.id);
  const settings = project.settings === undefined ? undefined : JSON.stringify(project.settings);
  return db
    .insertInto('projects')
    .values({ id: project.id, dir: project.dir, settings })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        dir: eb.ref('excluded.dir'),
        ...(settings === undefined ? {} : { settings: eb.ref('excluded.settings') }),
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getProject(db: Kysely<Database>, projectId: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirst();
}

/** The project, or a UserError naming it (exit 2). */
export async function requireProject(db: Kysely<Database>, projectId: string): Promise<ProjectRow> {
  const project = await getProject(db, projectId);
  if (!project) {
    throw new UserError(`unknown project ${showValue(projectId)}`, {
      hint: 'import a feature file with `autocoder features import FILE --project ID --dir DIR` to create it, or check the id',
    });
  }
  return project;
}

export function assertProjectId(id: string): void {
  if (!PROJECT_ID_PATTERN.test(id)) {
    throw new UserError(`project id must match [a-z0-9][a-z0-9-]{0,62}, got ${showValue(id)}`, {
      hint: 'use lower-case letters, digits and dashes, e.g. "todo-app"',
    });
  }
}
