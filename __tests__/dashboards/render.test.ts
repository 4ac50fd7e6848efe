/** The dashboards check in the step summary and the annotations: a table per failing or warning dashboard, an error per failing one. */
import { describe, expect, it } from '@jest/globals';
import { annotationsFor } from '../../src/render/annotations.js';
import { renderSummaryMarkdown } from '../../src/render/summary.js';
import { buildReport } from '../../src/report.js';
import { parseSettings } from '../../src/settings.js';
import { discoverStack } from '../../src/stack/discover.js';
import type { CheckResult, DashboardResult } from '../../src/types.js';
import { taskflowCluster } from '../fixtures/cluster.js';

const settings = parseSettings(() => undefined);
const stack = await discoverStack(settings, taskflowCluster());
const meta = { startedAt: new Date('2026-11-26T10:00:00.000Z'), durationMs: 4217, settings, stack };

const imported: DashboardResult = {
  uid: 'imported',
  title: 'Imported | pods',
  folder: 'Kubernetes',
  named: false,
  status: 'fail',
  file: 'k8s/configmap-dashboards.yaml',
  line: 14,
  panels: [
    { id: 1, title: 'Pods', status: 'fail', queries: [], problem: 'Datasource P1809F7CD0C75ACF3 was not found', cause: 'Grafana has "Prometheus" (uid prometheus)' },
    { id: 2, title: 'Up', status: 'pass', queries: [{ refId: 'A', expr: 'up', series: 3 }] },
  ],
};
const empty: DashboardResult = {
  uid: 'errors',
  title: 'Errors',
  named: false,
  status: 'warn',
  panels: [{ id: 3, title: '5xx', status: 'warn', queries: [{ refId: 'A', expr: 'sum(rate(http_requests_total{code=~"5.."}[5m]))', series: 0 }], problem: 'no data', cause: 'the series exist' }],
};

const check = (status: 'fail' | 'warn', dashboards: DashboardResult[]): CheckResult => ({
  id: 'dashboards',
  title: 'dashboards',
  status,
  summary: '2 dashboards, 3 panels, 2 queries: 1 panel failed, 1 without data',
  hint: 'Fix the panels.',
  durationMs: 900,
  attempts: 1,
  dashboards,
});

describe('dashboards in the summary', () => {
  it('shows a table per failing or warning dashboard with its bad panels only, escaped for Markdown', () => {
    const md = renderSummaryMarkdown(buildReport([check('fail', [imported, empty])], meta));
    expect(md).toContain(
      [
        '### ❌ fail dashboard "Imported | pods" (`imported`, folder Kubernetes) — `k8s/configmap-dashboards.yaml:14`',
        '',
        '| Panel | Query | What is wrong | Likely cause |',
        '| --- | --- | --- | --- |',
        '| Pods | — | Datasource P1809F7CD0C75ACF3 was not found | Grafana has "Prometheus" (uid prometheus) |',
      ].join('\n'),
    );
    expect(md).toContain('| 5xx | sum(rate(http_requests_total{code=~"5.."}[5m])) | no data | the series exist |');
    expect(md).not.toContain('| Up |');
  });

  it('gives each failing dashboard an error annotation on its file and line, besides the check\'s own', () => {
    const annotations = annotationsFor(buildReport([check('fail', [imported, empty])], meta));
    expect(annotations).toEqual([
      expect.objectContaining({ level: 'error', title: 'dashboards', file: 'k8s/configmap-dashboards.yaml', startLine: 14 }),
      {
        level: 'error',
        title: 'dashboards',
        message: 'Dashboard "Imported | pods" (imported): 1 panel failed\n- Pods: Datasource P1809F7CD0C75ACF3 was not found — Grafana has "Prometheus" (uid prometheus)',
        file: 'k8s/configmap-dashboards.yaml',
        startLine: 14,
      },
    ]);
    // Warnings stay one annotation: the summary's table lists the empty panels.
    expect(annotationsFor(buildReport([check('warn', [empty])], meta))).toHaveLength(1);
  });
});
