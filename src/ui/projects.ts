/** The projects page's data: every project with its run, read once a second for all open pages. */
import { sql } from 'kysely';
import { readRunStatus, workflowUiUrl } from '../client.ts';
import { featureCounts } from '../db/features.ts';
import type { ApiDeps } from './api-http.ts';

export type ProjectSummary = {
  id: string;
  dir: string;
  createdAt: string;
  run: Awaited<ReturnType<typeof readRunStatus>> extends infer R ? Omit<NonNullable<R>, 'result'> | null : never;
  counts: Awaited<ReturnType<typeof featureCounts>>;
  spendUsd: number | null;
  temporalUrl: string | null;
};

const projectsCaches = new WeakMap<ApiDeps['feeds'], { at: number; value: Promise<ProjectSummary[]> }>();

/**
 * Every project with its run: one read per project, shared by every open projects page for a
 * second, so N pages cost what one does.
 */
export function listProjects(deps: ApiDeps): Promise<ProjectSummary[]> {
  const cached = projectsCaches.get(deps.feeds);
  if (cached && Date.now() - cached.at < 1000) return cached.value;
  const value = (async () => {
    const [projects, spend] = await Promise.all([
      deps.db.selectFrom('projects').selectAll().orderBy('id').execute(),
      deps.db
        .selectFrom('agent_runs')
        .select(['project_id', sql<string | null>`sum(cost_usd)`.as('spend')])
        .groupBy('project_id')
        .execute(),
    ]);
    return Promise.all(
      projects.map(async (p) => {
        const report = await readRunStatus(deps.client, p.id).catch(() => null);
        const { result: _result, ...run } = report ?? { result: undefined };
        const counts =
          report && !report.unanswered && report.counts.total > 0 ? report.counts : await featureCounts(deps.db, p.id);
        const s = spend.find((r) => r.project_id === p.id)?.spend;
        return {
          id: p.id,
          dir: p.dir,
          createdAt: p.created_at.toISOString(),
          run: report ? (run as ProjectSummary['run']) : null,
          counts,
          spendUsd: report?.status?.costUsd ?? (s == null ? null : Number(s)),
          temporalUrl:
            report && deps.temporalUiUrl
              ? workflowUiUrl(deps.temporalUiUrl, deps.namespace, report.workflowId, report.runId)
              : null,
        };
      }),
    );
  })();
  projectsCaches.set(deps.feeds, { at: Date.now(), value });
  value.catch(() => projectsCaches.delete(deps.feeds));
  return value;
}
