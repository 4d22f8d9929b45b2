/** infra/grafana-dashboard.json as tests read it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './temporal.ts';

export type Panel = { id: number; title: string; datasource: { uid: string }; targets: Array<{ expr: string }> };
export const dashboard = JSON.parse(readFileSync(join(repoRoot, 'infra/grafana-dashboard.json'), 'utf8')) as {
  panels: Panel[];
  __inputs: Array<{ name: string; pluginId: string }>;
};

/** Every metric name the dashboard's queries read. */
export function dashboardSeries(): Set<string> {
  const names = new Set<string>();
  for (const panel of dashboard.panels)
    for (const target of panel.targets)
      for (const [name] of target.expr.matchAll(/\b(?:autocoder|temporal)_[a-z_]+/g)) names.add(name);
  return names;
}
