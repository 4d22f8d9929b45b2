/** infra/grafana-dashboard.json: valid JSON with a panel for every autocoder series, each on the Prometheus input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricNames } from '../../src/metrics/meter.ts';
import { dashboard, dashboardSeries } from '../support/grafana.ts';

test('the Grafana dashboard has a panel for every autocoder series', () => {
  const series = [...dashboardSeries()];
  for (const name of Object.values(metricNames))
    assert.ok(
      series.some((s) => s === name || s.startsWith(`${name}_`)),
      `${name} has a panel (queries read ${series.join(', ')})`,
    );
  assert.ok(
    series.some((s) => s.startsWith('temporal_')),
    "and panels of the SDK's own metrics",
  );
});

test('every panel reads the one Prometheus input, and panel ids are unique', () => {
  assert.deepEqual(
    dashboard.__inputs.map((i) => [i.name, i.pluginId]),
    [['DS_PROMETHEUS', 'prometheus']],
  );
  for (const panel of dashboard.panels) {
    assert.equal(panel.datasource.uid, '${DS_PROMETHEUS}', panel.title);
    assert.ok(panel.targets.length > 0, panel.title);
  }
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
});
