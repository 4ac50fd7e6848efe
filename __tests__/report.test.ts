import { describe, expect, it } from '@jest/globals';
import { annotationsFor } from '../src/render/annotations.js';
import { outputsFor } from '../src/render/outputs.js';
import { renderSummaryMarkdown } from '../src/render/summary.js';
import { renderTable } from '../src/render/table.js';
import { buildReport } from '../src/report.js';
import { parseSettings } from '../src/settings.js';
import { discoverStack } from '../src/stack/discover.js';
import { taskflowCluster } from './fixtures/cluster.js';
import { CHECK_IDS, type CheckId, type CheckResult, type CheckStatus, type Report, type TargetInfo } from '../src/types.js';

const settings = parseSettings(() => undefined);
/** The stack discovery finds in the fake TaskFlow cluster. */
const stack = await discoverStack(settings, taskflowCluster());
const meta = { startedAt: new Date('2026-11-26T10:00:00.000Z'), durationMs: 4217, settings, stack };

function result(id: CheckId, status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  return { id, title: id, status, summary: `${id} is ${status}`, durationMs: 400, attempts: 1, ...extra };
}

const allPass = CHECK_IDS.map((id) => result(id, 'pass'));

const redisDown: TargetInfo = {
  app: 'redis',
  instance: '10.244.0.7:9121',
  health: 'down',
  lastError: 'Get "http://10.244.0.7:9121/metrics": dial tcp 10.244.0.7:9121: connect: connection refused',
  scrapeUrl: 'http://10.244.0.7:9121/metrics',
};

/** Two failures given out of order, one warning, one skip. */
const mixed: CheckResult[] = [
  result('grafana-query', 'skip', { summary: 'skipped: needs grafana-datasource', durationMs: 0 }),
  result('prometheus-targets', 'fail', {
    summary: 'job kubernetes-pods has 2 UP targets; redis has none',
    hint: 'The redis exporter is not listening.\nCheck it with:\n  kubectl logs -n taskflow deploy/redis -c exporter',
    downTargets: [redisDown],
  }),
  result('cluster-access', 'pass', { durationMs: 123 }),
  result('grafana-api', 'warn', { summary: 'Grafana answered slowly', hint: 'Grafana may be overloaded.' }),
  result('grafana-datasource', 'fail', { summary: 'no datasource named Prometheus', hint: 'Apply the ConfigMap.' }),
];

describe('buildReport', () => {
  it('passes when every check passes', () => {
    const report = buildReport([...allPass].reverse(), meta);
    expect(report).toMatchObject({
      result: 'passed',
      durationMs: 4217,
      startedAt: '2026-11-26T10:00:00.000Z',
      namespace: 'taskflow',
      access: 'proxy',
      counts: { passed: 14, failed: 0, warnings: 0, skipped: 0 },
      failedChecks: [],
    });
    expect(report.checks.map((c) => c.id)).toEqual([...CHECK_IDS]);
  });

  it('fails on a failed check; counts and failed ids follow the table order', () => {
    const report = buildReport(mixed, meta);
    expect(report.result).toBe('failed');
    expect(report.counts).toEqual({ passed: 1, failed: 2, warnings: 1, skipped: 1 });
    expect(report.failedChecks).toEqual(['prometheus-targets', 'grafana-datasource']);
    expect(report.checks.map((c) => c.id)).toEqual([
      'cluster-access',
      'prometheus-targets',
      'grafana-api',
      'grafana-datasource',
      'grafana-query',
    ]);
  });

  it('passes with warnings, unless fail-on-warning is set', () => {
    const warned = [result('cluster-access', 'pass'), result('grafana-api', 'warn')];
    expect(buildReport(warned, meta).result).toBe('passed');
    const strict = parseSettings((name) => (name === 'fail-on-warning' ? 'true' : undefined));
    const report = buildReport(warned, { ...meta, settings: strict });
    expect(report.result).toBe('failed');
    expect(report.failedChecks).toEqual([]);
  });

  it('skipped checks do not fail the result', () => {
    expect(buildReport([result('cluster-access', 'pass'), result('grafana-query', 'skip')], meta).result).toBe('passed');
  });
});

describe('renderSummaryMarkdown', () => {
  const failed = buildReport(mixed, meta);

  it('starts with the verdict and a one-line count', () => {
    const md = renderSummaryMarkdown(buildReport(allPass, meta));
    expect(md.startsWith('## ✅ Metrics flow Prometheus → Grafana\n\n14 checks in 4.2 s: 14 passed, 0 failed, 0 warnings, 0 skipped')).toBe(
      true,
    );
    expect(renderSummaryMarkdown(failed)).toMatch(
      /^## ❌ Metrics do not flow Prometheus → Grafana\n\n5 checks in 4\.2 s: 1 passed, 2 failed, 1 warning, 1 skipped — namespace `taskflow`, access `proxy`\./,
    );
  });

  it('says when warnings failed the result', () => {
    const strict = parseSettings((name) => (name === 'fail-on-warning' ? 'yes' : undefined));
    const md = renderSummaryMarkdown(buildReport([result('grafana-api', 'warn')], { ...meta, settings: strict }));
    expect(md).toContain('## ❌ Metrics do not flow');
    expect(md).toContain('(failed on warnings: fail-on-warning is set)');
  });

  it('has one table row per check, in table order, with status, id, summary and time', () => {
    const rows = renderSummaryMarkdown(failed)
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| Status') && !line.startsWith('| ---'));
    expect(rows.slice(0, 5)).toEqual([
      '| ✅ pass | `cluster-access` | cluster-access is pass | 0.1 s |',
      '| ❌ fail | `prometheus-targets` | job kubernetes-pods has 2 UP targets; redis has none | 0.4 s |',
      '| ⚠️ warn | `grafana-api` | Grafana answered slowly | 0.4 s |',
      '| ❌ fail | `grafana-datasource` | no datasource named Prometheus | 0.4 s |',
      '| ⏭️ skip | `grafana-query` | skipped: needs grafana-datasource | 0.0 s |',
    ]);
  });

  it('lists the hints of failed and warned checks, multi-line ones verbatim', () => {
    const md = renderSummaryMarkdown(failed);
    expect(md).toContain(
      [
        '### Hints',
        '',
        '- **prometheus-targets** — The redis exporter is not listening.',
        '  ```text',
        '  Check it with:',
        '    kubectl logs -n taskflow deploy/redis -c exporter',
        '  ```',
        '- **grafana-api** — Grafana may be overloaded.',
        '- **grafana-datasource** — Apply the ConfigMap.',
      ].join('\n'),
    );
    expect(renderSummaryMarkdown(buildReport(allPass, meta))).not.toContain('### Hints');
  });

  it('shows the DOWN targets of prometheus-targets', () => {
    const md = renderSummaryMarkdown(failed);
    expect(md).toContain(
      [
        '### DOWN targets of `prometheus-targets`',
        '',
        '| App | Instance | Health | Last error |',
        '| --- | --- | --- | --- |',
        `| redis | 10.244.0.7:9121 | down | ${redisDown.lastError} |`,
      ].join('\n'),
    );
  });

  it('caps the DOWN targets table', () => {
    const many = Array.from({ length: 53 }, (_, i) => ({ ...redisDown, instance: `10.0.0.${i}:9121` }));
    const md = renderSummaryMarkdown(buildReport([result('prometheus-targets', 'fail', { downTargets: many })], meta));
    expect(md).toContain('| redis | 10.0.0.49:9121 |');
    expect(md).not.toContain('| redis | 10.0.0.50:9121 |');
    expect(md).toContain('…and 3 more in the JSON report.');
  });

  it('escapes pipes, backticks, HTML and newlines in cells, and caps long cells', () => {
    const report = buildReport(
      [
        result('prometheus-query', 'fail', {
          summary: 'query `up` returned a|b\nsecond <b>line</b>',
          downTargets: [{ ...redisDown, lastError: 'x'.repeat(400) }],
        }),
      ],
      meta,
    );
    const md = renderSummaryMarkdown(report);
    expect(md).toContain('| query \\`up\\` returned a\\|b<br>second &lt;b&gt;line&lt;/b&gt; |');
    expect(md).toContain(`| ${'x'.repeat(299)}… |`);
  });

  it('renders the root cause right under the verdict: the fact, the fix, where, the evidence', () => {
    const withCause = {
      ...failed,
      rootCause: {
        checkId: 'grafana-datasource' as const,
        cause: 'Grafana has no Prometheus datasource',
        fix: 'Apply it:\nkubectl apply -f ds.yaml',
        object: 'ConfigMap taskflow/grafana-datasources',
        file: 'k8s/ds.yaml',
        line: 9,
        evidence: ['logger=provisioning level=error msg="Failed to provision data sources"'],
      },
    };
    const md = renderSummaryMarkdown(withCause);
    const [verdict, , count, , found, , ...rest] = md.split('\n');
    expect(verdict).toContain('## ❌');
    expect(count).toMatch(/^5 checks/);
    expect(found).toBe('**Found taskflow: Prometheus taskflow/prometheus:9090, 1 pod; Grafana taskflow/grafana:3000, 1 pod, datasource from ConfigMap grafana-datasources**');
    expect(rest.slice(0, 10)).toEqual([
      '> **Root cause** (`grafana-datasource`): Grafana has no Prometheus datasource',
      '>',
      '> **Fix:** Apply it:',
      '> kubectl apply -f ds.yaml',
      '>',
      '> **Where:** `k8s/ds.yaml:9 (ConfigMap taskflow/grafana-datasources)`',
      '>',
      '> **Evidence:**',
      '> - `logger=provisioning level=error msg="Failed to provision data sources"`',
      '',
    ]);
    expect(renderSummaryMarkdown(failed)).not.toContain('Root cause');
  });
});

describe('annotationsFor', () => {
  it('gives one error per failed check and one warning per warned check, titled with the id', () => {
    expect(annotationsFor(buildReport(mixed, meta))).toEqual([
      {
        level: 'error',
        title: 'prometheus-targets',
        message:
          'job kubernetes-pods has 2 UP targets; redis has none\nHint: The redis exporter is not listening.\nCheck it with:\n  kubectl logs -n taskflow deploy/redis -c exporter',
      },
      { level: 'warning', title: 'grafana-api', message: 'Grafana answered slowly\nHint: Grafana may be overloaded.' },
      { level: 'error', title: 'grafana-datasource', message: 'no datasource named Prometheus\nHint: Apply the ConfigMap.' },
    ]);
  });

  it('gives the summary alone when there is no hint, and nothing when all pass', () => {
    expect(annotationsFor(buildReport([result('grafana-api', 'fail')], meta))).toEqual([
      { level: 'error', title: 'grafana-api', message: 'grafana-api is fail' },
    ]);
    expect(annotationsFor(buildReport(allPass, meta))).toEqual([]);
  });
});

describe('renderTable', () => {
  const failed = buildReport(mixed, meta);

  it('prints a fixed-width row per check with symbol, id, summary and time', () => {
    const lines = renderTable(failed, { color: false, lang: 'en' }).split('\n');
    expect(lines[0]).toBe('Found taskflow: Prometheus taskflow/prometheus:9090, 1 pod; Grafana taskflow/grafana:3000, 1 pod, datasource from ConfigMap grafana-datasources');
    const header = lines[2];
    expect(header).toMatch(/^ {3}CHECK {15}WHAT WAS SEEN +TIME$/);
    const rows = lines.filter((line) => /^[✓✗!–] /.test(line));
    expect(rows.map((row) => row.slice(0, 23))).toEqual([
      '✓  cluster-access      ',
      '✗  prometheus-targets  ',
      '!  grafana-api         ',
      '✗  grafana-datasource  ',
      '–  grafana-query       ',
    ]);
    for (const row of rows) expect(row.length).toBe(header.length);
    expect(rows[0]).toMatch(/cluster-access is pass +0\.1 s$/);
  });

  it('puts hints under the failed and warned rows, wrapping long text', () => {
    const long = result('grafana-api', 'fail', {
      summary: 'Grafana did not answer /api/health within the request timeout of ten seconds, three times in a row',
      hint: 'Grafana is still starting.',
    });
    const lines = renderTable(buildReport([long], meta), { color: false, lang: 'en' }).split('\n');
    const at = lines.findIndex((line) => line.startsWith('✗  grafana-api'));
    expect(lines[at]).toMatch(/^✗ {2}grafana-api {2}Grafana did not answer .* +0\.4 s$/);
    expect(lines[at + 1]).toMatch(/^ {16}\S/);
    expect(lines[at + 2]).toBe(`${' '.repeat(16)}→ Grafana is still starting.`);
    const text = renderTable(failed, { color: false, lang: 'en' });
    expect(text).toContain(
      [
        '                       → The redis exporter is not listening.',
        '                         Check it with:',
        '                           kubectl logs -n taskflow deploy/redis -c exporter',
        '!  grafana-api',
      ].join('\n'),
    );
  });

  it('lists the DOWN targets', () => {
    const text = renderTable(failed, { color: false, lang: 'en' });
    expect(text).toContain(
      [
        'DOWN targets of prometheus-targets:',
        '  APP    INSTANCE         HEALTH  LAST ERROR',
        `  redis  10.244.0.7:9121  down    ${redisDown.lastError}`,
      ].join('\n'),
    );
    expect(renderTable(failed, { color: false, lang: 'fr' })).toContain('Cibles DOWN de prometheus-targets :');
  });

  it('ends with the seed banner when all pass', () => {
    const report = buildReport(allPass, meta);
    const rule = '═'.repeat(43);
    expect(renderTable(report, { color: false, lang: 'en' })).toMatch(
      new RegExp(`14 checks in 4\\.2 s: 14 passed, 0 failed, 0 warnings, 0 skipped\n\n${rule}\n   ✓ METRICS FLOW CORRECTLY\n${rule}\n$`),
    );
    expect(renderTable(report, { color: false, lang: 'fr' })).toMatch(
      new RegExp(`${rule}\n   ✓ LES DONNÉES CIRCULENT CORRECTEMENT\n${rule}\n$`),
    );
  });

  it('ends with the failure banner naming the failed checks', () => {
    const en = renderTable(failed, { color: false, lang: 'en' });
    const message = '✗ METRICS DO NOT FLOW (2 failed: prometheus-targets, grafana-datasource)';
    const rule = '═'.repeat(message.length + 6);
    expect(en.endsWith(`${rule}\n   ${message}\n${rule}\n`)).toBe(true);
    expect(renderTable(failed, { color: false, lang: 'fr' })).toContain(
      '   ✗ LES DONNÉES NE CIRCULENT PAS (2 en échec : prometheus-targets, grafana-datasource)\n',
    );
  });

  it('names the warnings in the banner', () => {
    const warned = [result('cluster-access', 'pass'), result('grafana-api', 'warn')];
    expect(renderTable(buildReport(warned, meta), { color: false, lang: 'en' })).toContain(
      '   ✓ METRICS FLOW CORRECTLY (1 warning: grafana-api)\n',
    );
    const strict = parseSettings((name) => (name === 'fail-on-warning' ? 'true' : undefined));
    const report = buildReport(warned, { ...meta, settings: strict });
    expect(renderTable(report, { color: false, lang: 'en' })).toContain(
      '   ✗ METRICS DO NOT FLOW (1 warning with fail-on-warning: grafana-api)\n',
    );
    expect(renderTable(report, { color: false, lang: 'fr' })).toContain(
      '   ✗ LES DONNÉES NE CIRCULENT PAS (1 avertissement avec fail-on-warning : grafana-api)\n',
    );
  });

  it('uses ANSI colours only when asked', () => {
    const plain = renderTable(failed, { color: false, lang: 'en' });
    expect(plain).not.toContain('\u001b[');
    const coloured = renderTable(failed, { color: true, lang: 'en' });
    expect(coloured).toContain('\u001b[32m✓\u001b[0m  cluster-access');
    expect(coloured).toContain('\u001b[31m✗\u001b[0m  prometheus-targets');
    expect(coloured).toContain('\u001b[33m!\u001b[0m  grafana-api');
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(plain);
  });

  it('translates the headings in French', () => {
    const fr = renderTable(failed, { color: false, lang: 'fr' });
    expect(fr.split('\n')[2]).toMatch(/^ {3}VÉRIFICATION +CONSTAT +DURÉE$/);
    expect(fr).toContain('5 vérifications en 4.2 s : 1 réussie, 2 en échec, 1 avertissement, 1 ignorée');
  });
});

describe('outputsFor', () => {
  it('gives the contract outputs', () => {
    const report: Report = buildReport(mixed, meta);
    expect(outputsFor(report, '/tmp/runner/metrics-flow-check.json')).toEqual({
      result: 'failed',
      passed: '1',
      failed: '2',
      warnings: '1',
      skipped: '1',
      'failed-checks': 'prometheus-targets,grafana-datasource',
      stack: 'taskflow',
      report: '/tmp/runner/metrics-flow-check.json',
    });
    expect(outputsFor(buildReport(allPass, meta), 'r.json')).toMatchObject({ result: 'passed', passed: '14', 'failed-checks': '' });
  });
});
