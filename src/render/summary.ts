/**
 * The GitHub job summary: the verdict first, then one table row per check, the hints of the checks
 * that failed or warned, and the DOWN Prometheus targets.
 */
import type { CheckResult, CheckStatus, DashboardResult, Report, RootCause, TargetInfo } from '../types.js';
import { displayHint, findingPlace, formatSeconds, plural, truncate } from './format.js';


const STATUS_LABEL: Record<CheckStatus, string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  warn: '⚠️ warn',
  skip: '⏭️ skip',
};

const MAX_CELL = 300;
const MAX_TARGET_ROWS = 50;
const MAX_DASHBOARD_TABLES = 20;
const MAX_PANEL_ROWS = 30;

export function renderSummaryMarkdown(report: Report): string {
  const sections = [
    verdict(report),
    stackLine(report),
    report.rootCause ? renderRootCause(report.rootCause) : '',
    checksTable(report.checks),
    hints(report.checks),
    ...report.checks.filter((c) => c.downTargets?.length).map(downTargets),
    ...report.checks.flatMap((c) => (c.dashboards ?? []).filter((d) => d.status !== 'pass').slice(0, MAX_DASHBOARD_TABLES).map(dashboardTable)),
  ];
  return `${sections.filter((s) => s !== '').join('\n\n')}\n`;
}

function verdict(report: Report): string {
  const { passed, failed, warnings, skipped } = report.counts;
  const title =
    report.result === 'passed' ? '## ✅ Metrics flow Prometheus → Grafana' : '## ❌ Metrics do not flow Prometheus → Grafana';
  const onWarnings = report.result === 'failed' && failed === 0 ? ' (failed on warnings: fail-on-warning is set)' : '';
  const counts =
    `${plural(report.checks.length, 'check', 'checks')} in ${formatSeconds(report.durationMs)}: ` +
    `${passed} passed, ${failed} failed, ${plural(warnings, 'warning', 'warnings')}, ${skipped} skipped${onWarnings}` +
    ` — namespace \`${report.namespace}\`, access \`${report.access}\`.`;
  return `${title}\n\n${counts}`;
}

/** What discovery found (and what it could not read), right after the verdict. */
function stackLine(report: Report): string {
  const notes = Array.isArray(report.stack.notes) ? (report.stack.notes as string[]) : [];
  return [`**${inline(report.stack.summary)}**`, ...notes.map((n) => `- Discovery: ${inline(n)}`)].join('\n');
}

/** Text for a Markdown paragraph: HTML escaped, no line breaks. */
function inline(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

/** The most upstream failing fact, its fix, where to make it, and the evidence. */
function renderRootCause(cause: RootCause): string {
  const place = findingPlace(cause);
  const lines = [
    `**Root cause** (\`${cause.checkId}\`): ${cause.cause}`,
    '',
    ...(cause.fix ? cause.fix.split(/\r?\n/).map((line, i) => (i === 0 ? `**Fix:** ${line}` : line)) : []),
    ...(place ? ['', `**Where:** \`${place}\``] : []),
    ...(cause.evidence?.length ? ['', '**Evidence:**', ...cause.evidence.map((e) => `- \`${e.replace(/`/g, "'")}\``)] : []),
  ];
  return lines.map((line) => (line ? `> ${line}` : '>')).join('\n');
}

function checksTable(checks: readonly CheckResult[]): string {
  const rows = checks.map(
    (c) => `| ${STATUS_LABEL[c.status]} | \`${c.id}\` | ${cell(c.summary)} | ${formatSeconds(c.durationMs)} |`,
  );
  return ['| Status | Check | What was seen | Time |', '| --- | --- | --- | ---: |', ...rows].join('\n');
}

/** One item per failed or warned check with a hint; lines after the first are shown verbatim. */
function hints(checks: readonly CheckResult[]): string {
  const items = checks
    .filter((c) => (c.status === 'fail' || c.status === 'warn') && displayHint(c))
    .map((c) => {
      const [first, ...rest] = (displayHint(c) ?? '').split(/\r?\n/);
      const item = `- **${c.id}** — ${first}`;
      return rest.some((line) => line.trim() !== '') ? `${item}\n${indent(fenced(rest.join('\n').replace(/^\n+|\s+$/g, '')), '  ')}` : item;
    });
  return items.length ? `### Hints\n\n${items.join('\n')}` : '';
}

function downTargets(check: CheckResult): string {
  const targets = check.downTargets ?? [];
  const rows = targets.slice(0, MAX_TARGET_ROWS).map(targetRow);
  const more =
    targets.length > MAX_TARGET_ROWS ? `\n\n…and ${targets.length - MAX_TARGET_ROWS} more in the JSON report.` : '';
  return [
    `### DOWN targets of \`${check.id}\``,
    '',
    '| App | Instance | Health | Last error |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n') + more;
}

/** A failing or warning dashboard: its panels that failed or had no data, with what is wrong and the likely cause. */
function dashboardTable(d: DashboardResult): string {
  const bad = d.panels.filter((p) => p.status !== 'pass');
  const where = d.file ? ` — \`${d.file}:${d.line ?? 1}\`` : d.source ? ` — ${inline(d.source)}` : '';
  const about = [d.uid ? `\`${d.uid}\`` : '', d.folder ? `folder ${inline(d.folder)}` : ''].filter((x) => x).join(', ');
  const title = `### ${STATUS_LABEL[d.status]} dashboard "${inline(d.title)}"${about ? ` (${about})` : ''}${where}`;
  const rows = bad.slice(0, MAX_PANEL_ROWS).map((p) => {
    const query = p.queries.find((q) => q.series === 0)?.expr ?? p.queries[0]?.expr ?? '—';
    return `| ${cell(p.title)} | ${cell(query)} | ${cell(p.problem ?? '—')} | ${cell(p.cause ?? '—')} |`;
  });
  const more = bad.length > MAX_PANEL_ROWS ? `\n\n…and ${bad.length - MAX_PANEL_ROWS} more panels in the JSON report.` : '';
  const problem = d.problem ? `\n\n${inline(d.problem)}${d.cause ? `: ${inline(d.cause)}` : ''}` : '';
  const table = rows.length ? ['', '', '| Panel | Query | What is wrong | Likely cause |', '| --- | --- | --- | --- |', ...rows].join('\n') : '';
  return `${title}${problem}${table}${more}`;
}

function targetRow(t: TargetInfo): string {
  return `| ${cell(t.app || '—')} | ${cell(t.instance)} | ${cell(t.allowed ? `${t.health} (allowed)` : t.health)} | ${cell(t.lastError || '—')} |`;
}

/** Text made safe for a table cell: capped, HTML and backticks escaped, `|` and newlines kept inside the cell. */
function cell(text: string): string {
  return truncate(text.trim(), MAX_CELL)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/`/g, '\\`')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');
}

/** A fenced code block whose fence is longer than any backtick run inside. */
function fenced(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : prefix + line))
    .join('\n');
}
