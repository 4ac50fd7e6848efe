/**
 * The report as JUnit XML (junit-path): well-formed XML 1.0 whatever the report's text holds, a
 * test case per check and per dashboard panel with the counts test-report actions read, and,
 * through the bundle, the file the action writes on a healthy and on a broken TaskFlow stack.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../sim/cluster.js';
import { scenario } from '../sim/scenarios.js';
import { cli } from '../src/cli.js';
import { renderJunit } from '../src/render/junit.js';
import { buildReport } from '../src/report.js';
import { parseSettings } from '../src/settings.js';
import { discoverStack } from '../src/stack/discover.js';
import { CHECK_IDS, type CheckId, type CheckResult, type CheckStatus, type DashboardResult, type Report } from '../src/types.js';
import { taskflowCluster } from './fixtures/cluster.js';
import { runScenario } from './helpers/e2e.js';

// ------------------------------------------------------------------------------------------------
// A strict reader of the XML the renderer writes: elements, attributes, text, the five entities
// and character references; anything else (a bare `&` or `<`, a character XML 1.0 cannot carry,
// a tag closed out of order) throws.

interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

/** XML 1.0's Char production (tab, newline, carriage return, and from U+0020, surrogates paired). */
const XML_CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

function decode(raw: string): string {
  if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(raw) || raw.includes('<')) throw new Error(`unescaped markup in ${JSON.stringify(raw)}`);
  const text = raw.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!,
  );
  if (!XML_CHAR.test(text)) throw new Error(`a character XML 1.0 does not allow in ${JSON.stringify(text)}`);
  return text;
}

export function parseXml(xml: string): XmlElement {
  if (!XML_CHAR.test(xml)) throw new Error('the document holds a character XML 1.0 does not allow');
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  if (body === xml) throw new Error('no XML declaration');
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const token = /<\/([\w:-]+)\s*>|<([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = token.exec(body))) {
    at = token.lastIndex;
    const top = stack.at(-1)!;
    if (m[1]) {
      if (top.name !== m[1]) throw new Error(`</${m[1]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) {
        if (a[1]! in attrs) throw new Error(`attribute ${a[1]} twice`);
        attrs[a[1]!] = decode(a[2]!);
      }
      const el: XmlElement = { name: m[2], attrs, children: [], text: '' };
      top.children.push(el);
      if (!m[4]) stack.push(el);
    } else top.text += decode(m[5]!);
  }
  if (at !== body.length) throw new Error(`not XML at ${JSON.stringify(body.slice(at, at + 40))}`);
  if (stack.length !== 1 || root.children.length !== 1 || root.text.trim() !== '') throw new Error('not one root element');
  return root.children[0]!;
}

const all = (el: XmlElement, name: string): XmlElement[] => [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];
const child = (el: XmlElement, name: string): XmlElement | undefined => el.children.find((c) => c.name === name);

// ------------------------------------------------------------------------------------------------

const settings = parseSettings(() => undefined);
const stack = await discoverStack(settings, taskflowCluster());
const meta = { startedAt: new Date('2026-11-26T10:00:00.000Z'), durationMs: 4217, settings, stack };

function result(id: CheckId, status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  return { id, title: `${id} title`, status, summary: `${id} is ${status}`, durationMs: 400, attempts: 1, ...extra };
}

function reportOf(results: CheckResult[], failOnWarning = false): Report {
  return buildReport(results, { ...meta, settings: { ...settings, failOnWarning } });
}

const mixed = (): CheckResult[] =>
  CHECK_IDS.map((id) => {
    if (id === 'prometheus-targets') {
      return result(id, 'fail', {
        summary: 'job kubernetes-pods: 2 of 3 targets UP; redis has none',
        hint: 'The redis exporter does not answer.',
        reason: { code: 'targets.expected-missing', job: 'kubernetes-pods', missing: ['redis'], label: 'app' },
        downTargets: [{ app: 'redis', instance: '10.244.0.17:9121', health: 'down', lastError: 'connection refused', scrapeUrl: 'http://10.244.0.17:9121/metrics' }],
        durationMs: 1234,
      });
    }
    if (id === 'prometheus-query') return result(id, 'skip', { summary: 'skipped: needs prometheus-targets', durationMs: 0 });
    if (id === 'grafana-api') return result(id, 'warn', { summary: 'Grafana answered slowly', hint: 'Grafana may be overloaded.' });
    return result(id, 'pass');
  });

describe('renderJunit', () => {
  it('has a test case per check, in the table order, with the totals test-report actions read', () => {
    const doc = parseXml(renderJunit(reportOf(mixed())));
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ name: 'metrics-flow-check', tests: String(CHECK_IDS.length), failures: '1', errors: '0', skipped: '1', time: '4.217', timestamp: '2026-11-26T10:00:00.000Z' });
    const [suite] = all(doc, 'testsuite');
    expect(all(doc, 'testsuite')).toHaveLength(1);
    expect(suite!.attrs).toMatchObject({ name: 'metrics-flow-check', tests: String(CHECK_IDS.length), failures: '1', errors: '0', skipped: '1' });
    const cases = all(suite!, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(CHECK_IDS.map((id) => `${id}: ${id} title`));
    expect(new Set(cases.map((c) => c.attrs.classname))).toEqual(new Set(['metrics-flow-check']));
    const props = Object.fromEntries(all(suite!, 'property').map((p) => [p.attrs.name, p.attrs.value]));
    expect(props).toMatchObject({ result: 'failed', stack: 'taskflow', access: 'proxy' });
  });

  it('a failed check is a failure: its summary as the message, its reason code as the type, summary, hint and DOWN targets as the text', () => {
    const doc = parseXml(renderJunit(reportOf(mixed())));
    const targets = all(doc, 'testcase').find((c) => c.attrs.name?.startsWith('prometheus-targets:'))!;
    expect(targets.attrs.time).toBe('1.234');
    const failure = child(targets, 'failure')!;
    expect(failure.attrs).toEqual({ message: 'job kubernetes-pods: 2 of 3 targets UP; redis has none', type: 'targets.expected-missing' });
    expect(failure.text).toBe(
      'job kubernetes-pods: 2 of 3 targets UP; redis has none\nHint: The redis exporter does not answer.\nDOWN targets:\n  redis http://10.244.0.17:9121/metrics: connection refused',
    );
    const passing = all(doc, 'testcase').find((c) => c.attrs.name?.startsWith('cluster-access:'))!;
    expect(passing.children).toEqual([]);
  });

  it('a skipped check is <skipped> with why', () => {
    const query = all(parseXml(renderJunit(reportOf(mixed()))), 'testcase').find((c) => c.attrs.name?.startsWith('prometheus-query:'))!;
    expect(query.children.map((c) => c.name)).toEqual(['skipped']);
    expect(child(query, 'skipped')!.attrs.message).toBe('skipped: needs prometheus-targets');
  });

  it('a warning passes with WARNING in system-out, and fails with fail-on-warning', () => {
    const warned = (failOnWarning: boolean) => all(parseXml(renderJunit(reportOf(mixed(), failOnWarning), { failOnWarning })), 'testcase').find((c) => c.attrs.name?.startsWith('grafana-api:'))!;
    const plain = warned(false);
    expect(plain.children.map((c) => c.name)).toEqual(['system-out']);
    expect(child(plain, 'system-out')!.text).toBe('WARNING: Grafana answered slowly\nHint: Grafana may be overloaded.');
    const strict = warned(true);
    expect(child(strict, 'failure')!.attrs).toEqual({ message: 'Grafana answered slowly', type: 'warning' });
    expect(parseXml(renderJunit(reportOf(mixed(), true), { failOnWarning: true })).attrs.failures).toBe('2');
  });

  it('a test suite per dashboard, a test case per panel: failures with the problem as message, the queries and the cause as text', () => {
    const dashboard: DashboardResult = {
      uid: 'taskflow-overview',
      title: 'TaskFlow overview',
      folder: 'TaskFlow',
      named: true,
      status: 'fail',
      source: 'ConfigMap taskflow/grafana-dashboards',
      file: 'k8s/configmap-grafana-dashboards.yaml',
      line: 12,
      panels: [
        { id: 1, title: 'Targets up', status: 'pass', queries: [{ refId: 'A', expr: 'up{job="kubernetes-pods"}', series: 3 }] },
        {
          id: 2,
          title: 'Container CPU',
          status: 'fail',
          queries: [{ refId: 'A', expr: 'sum(rate(container_cpu_usage_seconds_total[5m]))', series: 0 }],
          problem: 'no data',
          cause: 'container_cpu_usage_seconds_total was never ingested: it comes from the kubelet\'s cAdvisor, which no job scrapes',
        },
        { id: 3, title: 'Errors', status: 'warn', queries: [{ refId: 'A', expr: 'sum(rate(http_requests_total{status=~"5.."}[5m]))', series: 0 }], problem: 'no data' },
        { id: 4, title: 'Errors', status: 'pass', queries: [] },
      ],
    };
    const results = mixed().map((r) => (r.id === 'dashboards' ? { ...r, status: 'fail' as const, summary: '1 of 4 panels failed', dashboards: [dashboard] } : r));
    const doc = parseXml(renderJunit(reportOf(results)));
    const suites = all(doc, 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['metrics-flow-check', 'dashboards/TaskFlow/TaskFlow overview (taskflow-overview)']);
    expect(suites[1]!.attrs).toMatchObject({ tests: '4', failures: '1', skipped: '0', errors: '0' });
    expect(doc.attrs).toMatchObject({ tests: String(CHECK_IDS.length + 4), failures: '3' });
    const panels = all(suites[1]!, 'testcase');
    expect(panels.map((p) => [p.attrs.classname, p.attrs.name])).toEqual([
      ['dashboards.taskflow-overview', 'Targets up'],
      ['dashboards.taskflow-overview', 'Container CPU'],
      ['dashboards.taskflow-overview', 'Errors (panel 3)'],
      ['dashboards.taskflow-overview', 'Errors (panel 4)'],
    ]);
    expect(panels[1]!.attrs).toMatchObject({ file: 'k8s/configmap-grafana-dashboards.yaml', line: '12' });
    expect(child(panels[1]!, 'failure')!.attrs).toEqual({ message: 'no data', type: 'panel' });
    expect(child(panels[1]!, 'failure')!.text).toBe(
      "no data\nQuery A: sum(rate(container_cpu_usage_seconds_total[5m])) (0 series)\nCause: container_cpu_usage_seconds_total was never ingested: it comes from the kubelet's cAdvisor, which no job scrapes",
    );
    expect(child(panels[2]!, 'system-out')!.text).toBe('WARNING: no data\nQuery A: sum(rate(http_requests_total{status=~"5.."}[5m])) (0 series)');
    expect(panels[0]!.children).toEqual([]);
  });

  it('escapes markup, keeps newlines in attributes, and writes what XML 1.0 cannot carry as visible \\u escapes', () => {
    const nasty = 'a <b> & "c" \'d\' ]]> \u001b[31mred\u001b[0m\u0000 \uD800 end\nsecond line\ttab';
    const results = mixed().map((r) => (r.id === 'grafana-datasource' ? { ...r, status: 'fail' as const, summary: nasty, hint: `hint ${nasty}` } : r));
    const xml = renderJunit(reportOf(results));
    const failure = child(all(parseXml(xml), 'testcase').find((c) => c.attrs.name?.startsWith('grafana-datasource:'))!, 'failure')!;
    const shown = 'a <b> & "c" \'d\' ]]> \\u001B[31mred\\u001B[0m\\u0000 \\uD800 end\nsecond line\ttab';
    expect(failure.attrs.message).toBe(shown);
    expect(failure.text).toBe(`${shown}\nHint: hint ${shown}`);
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
  });
});

describe('junit-path through the bundle', () => {
  /** The JUnit file the run wrote into its directory (read back with what it left on disk). */
  const junitOf = (diskText: string): XmlElement => {
    const xml = /<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites[\s\S]*?<\/testsuites>\n/.exec(diskText)?.[0];
    if (!xml) throw new Error('no JUnit file written');
    return parseXml(xml);
  };

  it('a healthy stack: no failure; a test case per check, and per panel of the dashboards the report lists', async () => {
    const run = await runScenario('healthy', { inputs: { 'junit-path': 'reports/junit.xml' } });
    expect(run.exitCode).toBe(0);
    const doc = junitOf(run.diskText);
    const checks = run.report?.checks as { id: string; dashboards?: { uid: string; panels: { title: string }[] }[] }[];
    const dashboards = checks.flatMap((c) => c.dashboards ?? []);
    const panels = dashboards.reduce((n, d) => n + d.panels.length, 0);
    expect(doc.attrs).toMatchObject({ tests: String(checks.length + panels), failures: '0', errors: '0', skipped: '0' });
    const cases = all(doc, 'testcase').filter((c) => c.attrs.classname === 'metrics-flow-check');
    expect(cases.map((c) => c.attrs.name!.split(':')[0])).toEqual(checks.map((c) => c.id));
    expect(all(doc, 'failure')).toEqual([]);
    for (const d of dashboards) expect(all(doc, 'testcase').filter((c) => c.attrs.classname === `dashboards.${d.uid}`)).toHaveLength(d.panels.length);
  }, 120_000);

  it("the seed guide's bug: the failed checks are failures with their summary and hint, the others skipped or passing", async () => {
    const run = await runScenario('seed-bug', { inputs: { 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(1);
    const doc = junitOf(run.diskText);
    const checks = run.report?.checks as { id: string; status: string; summary: string; hint?: string }[];
    const failed = checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(run.outputs['failed-checks']!.split(','));
    expect(failed.map((c) => c.id)).toContain('datasource-configmap');
    expect(doc.attrs).toMatchObject({ failures: String(failed.length), skipped: String(checks.filter((c) => c.status === 'skip').length) });
    const failures = all(doc, 'testcase').filter((c) => child(c, 'failure'));
    expect(failures.map((c) => c.attrs.name!.split(':')[0])).toEqual(failed.map((c) => c.id));
    for (const [i, c] of failed.entries()) {
      const failure = child(failures[i]!, 'failure')!;
      expect(failure.attrs.message).toBe(c.summary);
      expect(failure.text.startsWith(c.summary)).toBe(true);
    }
    const configmap = child(failures.find((c) => c.attrs.name!.startsWith('datasource-configmap:'))!, 'failure')!;
    expect(configmap.attrs.type).toMatch(/^provisioning\./);
    expect(configmap.text).toMatch(/\n(Hint|Cause): /);
  }, 120_000);
});

describe('--junit-path on the command line', () => {
  it('writes the same JUnit file, creating its directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfc-junit-cli-'));
    const cluster = await startCluster({ scenario: scenario('seed-bug') });
    try {
      await cluster.settle(12_000);
      writeFileSync(join(dir, 'kubeconfig.yaml'), cluster.kubeconfig);
      const path = join(dir, 'out', 'junit.xml');
      const code = await cli(['--kubeconfig', join(dir, 'kubeconfig.yaml'), '--grafana-password', cluster.grafanaPassword, '--wait', '0', '--request-timeout', '5s', '--junit-path', path], {
        stdout: () => undefined,
        stderr: () => undefined,
        isTTY: false,
        env: {},
      });
      expect(code).toBe(1);
      const xml = readFileSync(path, 'utf8');
      expect(xml).not.toContain(cluster.grafanaPassword);
      expect(xml).not.toContain(cluster.token);
      const failures = all(parseXml(xml), 'testcase').filter((c) => child(c, 'failure'));
      expect(failures.map((c) => c.attrs.name!.split(':')[0])).toContain('datasource-configmap');
    } finally {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
