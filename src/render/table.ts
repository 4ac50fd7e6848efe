/**
 * The CLI's text report: a fixed-width table of the checks (hints under the rows that failed or
 * warned), the DOWN Prometheus targets, the counts, then the framed verdict banner.
 */
import type { CheckResult, CheckStatus, Report, RootCause, TargetInfo } from '../types.js';
import { displayHint, findingPlace, formatSeconds, plural, truncate } from './format.js';

export type Lang = 'en' | 'fr';

export interface TableOptions {
  readonly color: boolean;
  readonly lang: Lang;
}

const TEXT = {
  en: {
    header: ['CHECK', 'WHAT WAS SEEN', 'TIME'],
    downTargets: (id: string) => `DOWN targets of ${id}:`,
    targetHeader: ['APP', 'INSTANCE', 'HEALTH', 'LAST ERROR'],
    more: (n: number) => `… and ${n} more in the JSON report`,
    counts: (total: number, time: string, c: Report['counts']) =>
      `${plural(total, 'check', 'checks')} in ${time}: ${c.passed} passed, ${c.failed} failed, ${plural(c.warnings, 'warning', 'warnings')}, ${c.skipped} skipped`,
    flows: '✓ METRICS FLOW CORRECTLY',
    flowsWithWarnings: (n: number, ids: string) => `✓ METRICS FLOW CORRECTLY (${plural(n, 'warning', 'warnings')}: ${ids})`,
    failed: (n: number, ids: string) => `✗ METRICS DO NOT FLOW (${n} failed: ${ids})`,
    failedOnWarnings: (n: number, ids: string) =>
      `✗ METRICS DO NOT FLOW (${plural(n, 'warning', 'warnings')} with fail-on-warning: ${ids})`,
  },
  fr: {
    header: ['VÉRIFICATION', 'CONSTAT', 'DURÉE'],
    downTargets: (id: string) => `Cibles DOWN de ${id} :`,
    targetHeader: ['APP', 'INSTANCE', 'ÉTAT', 'DERNIÈRE ERREUR'],
    more: (n: number) => `… et ${n} de plus dans le rapport JSON`,
    counts: (total: number, time: string, c: Report['counts']) =>
      `${plural(total, 'vérification', 'vérifications')} en ${time} : ${plural(c.passed, 'réussie', 'réussies')}, ${c.failed} en échec, ${plural(c.warnings, 'avertissement', 'avertissements')}, ${plural(c.skipped, 'ignorée', 'ignorées')}`,
    flows: '✓ LES DONNÉES CIRCULENT CORRECTEMENT',
    flowsWithWarnings: (n: number, ids: string) =>
      `✓ LES DONNÉES CIRCULENT CORRECTEMENT (${plural(n, 'avertissement', 'avertissements')} : ${ids})`,
    failed: (n: number, ids: string) => `✗ LES DONNÉES NE CIRCULENT PAS (${n} en échec : ${ids})`,
    failedOnWarnings: (n: number, ids: string) =>
      `✗ LES DONNÉES NE CIRCULENT PAS (${plural(n, 'avertissement', 'avertissements')} avec fail-on-warning : ${ids})`,
  },
} as const;

const SYMBOL: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '–' };
const ANSI = { green: '32', red: '31', yellow: '33', dim: '2', bold: '1' } as const;
const STATUS_COLOR: Record<CheckStatus, keyof typeof ANSI> = { pass: 'green', fail: 'red', warn: 'yellow', skip: 'dim' };

const SUMMARY_WIDTH = 60;
const TIME_WIDTH = 7;
const BANNER_MIN_WIDTH = 43;
const MAX_TARGET_ROWS = 50;
const TARGET_COLUMN_CAPS = [24, 32, 8];

export function renderTable(report: Report, opts: TableOptions): string {
  const text = TEXT[opts.lang];
  const paint = painter(opts.color);
  const sections = [
    report.stack.summary,
    checksTable(report.checks, text.header, paint),
    ...report.checks.filter((c) => c.downTargets?.length).map((c) => downTargets(c, opts.lang)),
    ...(report.rootCause ? [rootCause(report.rootCause, opts.lang, paint)] : []),
    text.counts(report.checks.length, formatSeconds(report.durationMs), report.counts),
    banner(report, opts.lang, paint),
  ];
  return `${sections.join('\n\n')}\n`;
}

/** The root cause block above the banner: the failing fact, the fix, where to make it. */
function rootCause(cause: RootCause, lang: Lang, paint: Paint): string {
  const [label, fixLabel, whereLabel] = lang === 'fr' ? ['CAUSE', 'Correction', 'Où'] : ['ROOT CAUSE', 'Fix', 'Where'];
  const width = SUMMARY_WIDTH + 20;
  const place = findingPlace(cause);
  const lines = [
    ...wrap(`${paint('bold', label)} (${cause.checkId}): ${cause.cause}`, width),
    ...(cause.fix ? cause.fix.split(/\r?\n/).flatMap((line, i) => wrap(i === 0 ? `${fixLabel}: ${line}` : `  ${line}`, width)) : []),
    ...(place ? [`${whereLabel}: ${place}`] : []),
    ...(cause.evidence ?? []).map((e) => `  | ${truncate(e, width)}`),
  ];
  return lines.join('\n');
}

type Paint = (color: keyof typeof ANSI, text: string) => string;

function painter(color: boolean): Paint {
  return color ? (c, text) => `\u001b[${ANSI[c]}m${text}\u001b[0m` : (_c, text) => text;
}

function checksTable(checks: readonly CheckResult[], header: readonly string[], paint: Paint): string {
  const idWidth = Math.max(header[0].length, ...checks.map((c) => c.id.length));
  const continuation = ' '.repeat(3 + idWidth + 2);
  const lines = [`   ${header[0].padEnd(idWidth)}  ${header[1].padEnd(SUMMARY_WIDTH)}  ${header[2].padStart(TIME_WIDTH)}`];
  for (const check of checks) {
    const [first, ...rest] = wrap(check.summary.replace(/\s*\r?\n\s*/g, ' '), SUMMARY_WIDTH);
    const symbol = paint(STATUS_COLOR[check.status], SYMBOL[check.status]);
    lines.push(
      `${symbol}  ${check.id.padEnd(idWidth)}  ${first.padEnd(SUMMARY_WIDTH)}  ${formatSeconds(check.durationMs).padStart(TIME_WIDTH)}`,
      ...rest.map((line) => continuation + line),
    );
    const hint = check.status === 'fail' || check.status === 'warn' ? displayHint(check) : undefined;
    if (hint) lines.push(...hintLines(hint).map((line) => continuation + line));
  }
  return lines.map((line) => line.trimEnd()).join('\n');
}

/** The hint under its row: `→ ` then the text, each of its lines wrapped to the summary column. */
function hintLines(hint: string): string[] {
  const lines = hint
    .replace(/\s+$/, '')
    .split(/\r?\n/)
    .flatMap((line) => wrap(line, SUMMARY_WIDTH - 2));
  return lines.map((line, i) => (i === 0 ? `→ ${line}` : `  ${line}`));
}

/** Word-wraps one line to `width`, keeping its indentation; a word longer than `width` stays whole. */
function wrap(line: string, width: number): string[] {
  const indentation = /^\s*/.exec(line)?.[0] ?? '';
  const out: string[] = [];
  let current = indentation;
  for (const word of line.trim().split(/\s+/)) {
    if (current.trim() !== '' && current.length + 1 + word.length > width) {
      out.push(current);
      current = indentation + word;
    } else {
      current = current.trim() === '' ? indentation + word : `${current} ${word}`;
    }
  }
  out.push(current);
  return out;
}

function downTargets(check: CheckResult, lang: Lang): string {
  const text = TEXT[lang];
  const targets = check.downTargets ?? [];
  const rows = targets
    .slice(0, MAX_TARGET_ROWS)
    .map((t: TargetInfo) => [t.app || '—', t.instance, t.allowed ? `${t.health} (allowed)` : t.health, (t.lastError || '—').replace(/\s*\r?\n\s*/g, ' ')]);
  const widths = TARGET_COLUMN_CAPS.map((cap, col) =>
    Math.min(cap, Math.max(text.targetHeader[col].length, ...rows.map((row) => row[col].length))),
  );
  const format = (row: readonly string[]) =>
    `  ${row.map((value, col) => (col < widths.length ? truncate(value, widths[col]).padEnd(widths[col]) : value)).join('  ')}`.trimEnd();
  const lines = [text.downTargets(check.id), format(text.targetHeader), ...rows.map(format)];
  if (targets.length > MAX_TARGET_ROWS) lines.push(`  ${text.more(targets.length - MAX_TARGET_ROWS)}`);
  return lines.join('\n');
}

function banner(report: Report, lang: Lang, paint: Paint): string {
  const text = TEXT[lang];
  const idsWith = (status: CheckStatus) => report.checks.filter((c) => c.status === status).map((c) => c.id);
  const warned = idsWith('warn');
  let message: string;
  if (report.result === 'passed') {
    message = warned.length ? text.flowsWithWarnings(warned.length, warned.join(', ')) : text.flows;
  } else if (report.failedChecks.length) {
    message = text.failed(report.failedChecks.length, report.failedChecks.join(', '));
  } else {
    message = text.failedOnWarnings(warned.length, warned.join(', '));
  }
  const color = report.result === 'passed' ? 'green' : 'red';
  const rule = '═'.repeat(Math.max(BANNER_MIN_WIDTH, message.length + 6));
  return [rule, `   ${paint('bold', message)}`, rule].map((line) => paint(color, line)).join('\n');
}
