/**
 * docs/report.schema.json describes the JSON report as it is written: reports of the engine on
 * the fake TaskFlow cluster (passing, and with the seed guide's bug), a report with dashboards,
 * and the reports the bundled action writes against the simulated cluster all validate; a report
 * that lacks what the schema requires does not.
 */
import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { runEngine } from '../src/engine.js';
import type { Report } from '../src/types.js';
import { taskflowCluster } from './fixtures/cluster.js';
import { settingsWith } from './fixtures/context.js';
import { grafanaBackend, prometheusBackend } from './fixtures/endpoints.js';
import { runScenario } from './helpers/e2e.js';

const schema = JSON.parse(readFileSync(new URL('../docs/report.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
const validate = ajv.compile(schema);

/** The schema's errors for `report` as written to disk (JSON), `[]` when it validates. */
function errorsOf(report: unknown): string[] {
  const ok = validate(JSON.parse(JSON.stringify(report)));
  return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** The engine's report on the fake TaskFlow cluster (Prometheus and Grafana fakes behind their Services). */
async function engineReport(edit: (cluster: ReturnType<typeof taskflowCluster>) => void = () => undefined): Promise<Report> {
  const cluster = taskflowCluster();
  cluster.serve('prometheus', prometheusBackend()).serve('grafana', grafanaBackend());
  edit(cluster);
  // The fake Grafana serves no dashboard API: that check is reported skipped.
  return runEngine(settingsWith({ 'grafana-password': 'admin2024', wait: '0', 'request-timeout': '2s', 'skip-checks': 'dashboards' }), { cluster });
}

describe('docs/report.schema.json', () => {
  it('is a draft 2020-12 schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it("validates the engine's reports: a passing run, and one with the seed guide's bug (reasons and diagnosis)", async () => {
    const passing = await engineReport();
    expect(passing.result).toBe('passed');
    expect(errorsOf(passing)).toEqual([]);
    const broken = await engineReport((c) => c.remove('configmap', 'grafana-datasources'));
    expect(broken.result).toBe('failed');
    expect(broken.checks.some((c) => c.reason)).toBe(true);
    expect(errorsOf(broken)).toEqual([]);
  }, 60_000);

  it('validates a report with dashboards and panels', async () => {
    const report = await engineReport();
    const dashboards = [
      {
        uid: 'taskflow',
        title: 'TaskFlow',
        named: false,
        status: 'warn',
        file: 'k8s/dashboards.yaml',
        line: 3,
        panels: [
          { id: 1, title: 'Up', status: 'pass', queries: [{ refId: 'A', expr: 'up', series: 3 }] },
          { id: 2, title: '5xx', status: 'warn', queries: [{ refId: 'A', expr: 'sum(rate(http_requests_total{status=~"5.."}[5m]))', series: 0 }], problem: 'no data', cause: 'no 5xx answer yet' },
        ],
      },
    ];
    const withDashboards = { ...report, checks: report.checks.map((c) => (c.id === 'grafana-query' ? { ...c, dashboards } : c)) };
    expect(errorsOf(withDashboards)).toEqual([]);
    const badPanel = { ...report, checks: report.checks.map((c) => (c.id === 'grafana-query' ? { ...c, dashboards: [{ ...dashboards[0], panels: [{ id: 1, title: 'Up', status: 'no data', queries: [] }] }] } : c)) };
    expect(errorsOf(badPanel)).toEqual([expect.stringMatching(/^\/checks\/\d+\/dashboards\/0\/panels\/0\/status must be equal to one of the allowed values$/)]);
  }, 60_000);

  it('rejects a report without its result, with a check of an unknown status or id, or a reason without a code', async () => {
    const report = await engineReport();
    const { result: _result, ...noResult } = report;
    expect(errorsOf(noResult)).toEqual(["/ must have required property 'result'"]);
    const [first, ...rest] = report.checks;
    expect(errorsOf({ ...report, checks: [{ ...first, status: 'ok' }, ...rest] })).toEqual(['/checks/0/status must be equal to one of the allowed values']);
    expect(errorsOf({ ...report, checks: [{ ...first, id: 'grafana-dashboards' }, ...rest] })).toEqual(['/checks/0/id must be equal to one of the allowed values']);
    expect(errorsOf({ ...report, checks: [{ ...first, reason: { why: 'x' } }, ...rest] })).toEqual(["/checks/0/reason must have required property 'code'"]);
  }, 60_000);
});

describe('the reports the bundled action writes', () => {
  it('validate on a healthy stack and on a broken one', async () => {
    const healthy = await runScenario('healthy');
    expect(healthy.report?.result).toBe('passed');
    expect(errorsOf(healthy.report)).toEqual([]);
    const broken = await runScenario('seed-bug');
    expect(broken.report?.result).toBe('failed');
    expect((broken.report?.checks as { diagnosis?: unknown }[]).some((c) => c.diagnosis)).toBe(true);
    expect(errorsOf(broken.report)).toEqual([]);
  }, 180_000);
});
