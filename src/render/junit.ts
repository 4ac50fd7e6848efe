/**
 * The report as JUnit XML, the format test-report actions (dorny/test-reporter's java-junit,
 * mikepenz/action-junit-report, EnricoMi/publish-unit-test-result-action) and GitLab's unit test
 * reports read: `<testsuites>` with the totals, one `<testsuite>` for the checks (a `<testcase>`
 * per check, classname `metrics-flow-check`) and one per dashboard the `dashboards` check ran (a
 * `<testcase>` per panel, classname `dashboards.<uid>`).
 *
 * - fail → `<failure message="what was seen" type="reason code">` whose text repeats the message
 *   and adds the hint or diagnosis (GitLab shows only the text, not the message attribute);
 * - skip → `<skipped message="why"/>`;
 * - warn → a passing test case whose `<system-out>` starts with `WARNING:`, or a `<failure
 *   type="warning">` when `fail-on-warning` made warnings fail the run;
 * - the file and line to fix, when `manifests` placed one, as the testcase's `file` and `line`
 *   attributes (mikepenz/action-junit-report annotates them).
 * Every check is a failure, never an `<error>`: errors stay 0. The text comes only from the
 * report, which holds no credential.
 */
import type { CheckResult, DashboardResult, PanelResult, Report } from '../types.js';
import { displayHint } from './format.js';

export interface JunitOptions {
  /** Warnings fail the run (`fail-on-warning`): a warned test case is a failure. */
  readonly failOnWarning?: boolean;
}

const CLASSNAME = 'metrics-flow-check';

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly seconds: number;
  readonly file?: string;
  readonly line?: number;
  readonly outcome:
    | { readonly kind: 'pass' }
    | { readonly kind: 'failure'; readonly message: string; readonly type: string; readonly text: string }
    | { readonly kind: 'skipped'; readonly message: string }
    | { readonly kind: 'warning'; readonly text: string };
}

interface Suite {
  readonly name: string;
  readonly seconds: number;
  readonly cases: readonly Case[];
  readonly properties?: readonly (readonly [string, string])[];
}

export function renderJunit(report: Report, options: JunitOptions = {}): string {
  const suites: Suite[] = [
    {
      name: CLASSNAME,
      seconds: report.durationMs / 1000,
      cases: report.checks.map((c) => checkCase(c, options)),
      properties: [
        ['result', report.result],
        ['stack', report.stack.kind],
        ['namespace', report.namespace],
        ['access', report.access],
        ...(report.rootCause ? ([['root-cause', `${report.rootCause.checkId}: ${report.rootCause.cause}`]] as const) : []),
      ],
    },
    ...report.checks.flatMap((c) => (c.dashboards ?? []).map((d) => dashboardSuite(d, options))),
  ];
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: CLASSNAME, ...totals(all), time: seconds(report.durationMs / 1000), timestamp: report.startedAt })}>`,
  ];
  for (const suite of suites) lines.push(...suiteLines(suite, report.startedAt));
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function checkCase(check: CheckResult, options: JunitOptions): Case {
  const placed = check.diagnosis?.findings.find((f) => f.file);
  const base = {
    classname: CLASSNAME,
    name: `${check.id}: ${check.title}`,
    seconds: check.durationMs / 1000,
    ...(placed?.file ? { file: placed.file, ...(placed.line !== undefined ? { line: placed.line } : {}) } : {}),
  };
  const hint = displayHint(check);
  const text = [check.summary, ...(hint ? [hint === check.hint ? `Hint: ${hint}` : hint] : []), ...downTargetLines(check)].join('\n');
  switch (check.status) {
    case 'pass':
      return { ...base, outcome: { kind: 'pass' } };
    case 'skip':
      return { ...base, outcome: { kind: 'skipped', message: check.summary } };
    case 'fail':
      return { ...base, outcome: { kind: 'failure', message: check.summary, type: check.reason?.code ?? 'fail', text } };
    case 'warn':
      return { ...base, outcome: options.failOnWarning ? { kind: 'failure', message: check.summary, type: 'warning', text } : { kind: 'warning', text } };
  }
}

/** The DOWN targets `prometheus-targets` listed, one line each with the last scrape error. */
function downTargetLines(check: CheckResult): string[] {
  const down = check.downTargets ?? [];
  if (!down.length) return [];
  return ['DOWN targets:', ...down.map((t) => `  ${t.app || t.instance} ${t.scrapeUrl}${t.allowed ? ' (allowed)' : ''}${t.lastError ? `: ${t.lastError}` : ''}`)];
}

function dashboardSuite(dashboard: DashboardResult, options: JunitOptions): Suite {
  const titles = new Map<string, number>();
  for (const p of dashboard.panels) titles.set(p.title, (titles.get(p.title) ?? 0) + 1);
  return {
    name: `dashboards/${dashboard.folder ? `${dashboard.folder}/` : ''}${dashboard.title}${dashboard.uid ? ` (${dashboard.uid})` : ''}`,
    seconds: 0,
    properties: [
      ...(dashboard.uid ? ([['uid', dashboard.uid]] as const) : []),
      ['named', String(dashboard.named)],
      ...(dashboard.source ? ([['source', dashboard.source]] as const) : []),
    ],
    // Two panels of one title are told apart by their id (GitLab keeps only the first of a name).
    cases: dashboard.panels.length || !dashboard.problem
      ? dashboard.panels.map((p) => panelCase(dashboard, p, p.title === '' || (titles.get(p.title) ?? 0) > 1 ? `${p.title || 'panel'} (panel ${p.id})` : p.title, options))
      : [wholeDashboardCase(dashboard, dashboard.problem, options)],
  };
}

/** A dashboard wrong as a whole (not in Grafana, unreadable, not run in time): one test case, the dashboard's. */
function wholeDashboardCase(dashboard: DashboardResult, problem: string, options: JunitOptions): Case {
  const base = { classname: `dashboards.${dashboard.uid || dashboard.title}`, name: dashboard.title, seconds: 0, ...(dashboard.file ? { file: dashboard.file, ...(dashboard.line !== undefined ? { line: dashboard.line } : {}) } : {}) };
  const text = [problem, ...(dashboard.cause ? [`cause: ${dashboard.cause}`] : []), ...(dashboard.source ? [`source: ${dashboard.source}`] : [])].join('\n');
  if (dashboard.status === 'fail' || (dashboard.status === 'warn' && options.failOnWarning)) return { ...base, outcome: { kind: 'failure', message: problem, type: dashboard.status === 'fail' ? 'dashboard' : 'warning', text } };
  return { ...base, outcome: dashboard.status === 'warn' ? { kind: 'warning', text } : { kind: 'pass' } };
}

function panelCase(dashboard: DashboardResult, panel: PanelResult, name: string, options: JunitOptions): Case {
  const base = {
    classname: `dashboards.${dashboard.uid || dashboard.title}`,
    name,
    seconds: 0,
    ...(dashboard.file ? { file: dashboard.file, ...(dashboard.line !== undefined ? { line: dashboard.line } : {}) } : {}),
  };
  if (panel.status === 'pass') return { ...base, outcome: { kind: 'pass' } };
  const problem = panel.problem ?? (panel.status === 'warn' ? 'no data' : 'failed');
  const text = [
    problem,
    ...panel.queries.map((q) => `Query ${q.refId}: ${q.expr} (${q.series} series)`),
    ...(panel.cause ? [`Cause: ${panel.cause}`] : []),
  ].join('\n');
  if (panel.status === 'fail' || options.failOnWarning) return { ...base, outcome: { kind: 'failure', message: problem, type: panel.status === 'fail' ? 'panel' : 'warning', text } };
  return { ...base, outcome: { kind: 'warning', text } };
}

function totals(cases: readonly Case[]): { tests: string; failures: string; errors: string; skipped: string } {
  const count = (kind: Case['outcome']['kind']) => String(cases.filter((c) => c.outcome.kind === kind).length);
  return { tests: String(cases.length), failures: count('failure'), errors: '0', skipped: count('skipped') };
}

function suiteLines(suite: Suite, timestamp: string): string[] {
  const lines = [`  <testsuite${attrs({ name: suite.name, ...totals(suite.cases), time: seconds(suite.seconds), timestamp })}>`];
  if (suite.properties?.length) {
    lines.push('    <properties>');
    for (const [name, value] of suite.properties) lines.push(`      <property${attrs({ name, value })}/>`);
    lines.push('    </properties>');
  }
  for (const c of suite.cases) {
    const head = `    <testcase${attrs({ classname: c.classname, name: c.name, time: seconds(c.seconds), ...(c.file ? { file: c.file } : {}), ...(c.line !== undefined ? { line: String(c.line) } : {}) })}`;
    const o = c.outcome;
    if (o.kind === 'pass') lines.push(`${head}/>`);
    else if (o.kind === 'skipped') lines.push(`${head}>`, `      <skipped${attrs({ message: o.message })}/>`, '    </testcase>');
    else if (o.kind === 'failure') lines.push(`${head}>`, `      <failure${attrs({ message: o.message, type: o.type })}>${escapeText(o.text)}</failure>`, '    </testcase>');
    else lines.push(`${head}>`, `      <system-out>${escapeText(`WARNING: ${o.text}`)}</system-out>`, '    </testcase>');
  }
  lines.push('  </testsuite>');
  return lines;
}

/** Seconds with millisecond precision, as JUnit's `time` attributes carry them. */
function seconds(value: number): string {
  return (Math.max(0, value) || 0).toFixed(3);
}

function attrs(values: Readonly<Record<string, string>>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escapeAttribute(v)}"`)
    .join('');
}

/**
 * Characters XML 1.0 cannot carry at all (C0 controls other than tab, newline and carriage
 * return; U+FFFE, U+FFFF; unpaired surrogates) are written as visible `\uXXXX` text.
 */
function legal(text: string): string {
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

export function escapeText(text: string): string {
  return legal(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Also `"`, and the whitespace an XML parser would otherwise normalise to spaces in an attribute. */
export function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
