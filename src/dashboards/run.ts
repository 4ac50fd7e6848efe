/**
 * Runs the chosen dashboards' Prometheus panels through Grafana, as the dashboard does when it
 * opens: the dashboard JSON and its library panels read, template variables resolved, each
 * panel's queries sent to `/api/ds/query` over the dashboard's time range. Requests run a few at
 * a time, each within request-timeout, and the whole within the check's time budget: what did
 * not run in time is said, never waited for.
 */
import type { DashboardHit, DashboardNotServed, DashboardRead, GrafanaDatasource, PanelQueryAnswer, PanelQueryRequest } from '../grafana.js';
import type { Target } from '../prometheus.js';
import { allowedDown } from '../checks/prometheus-targets.js';
import type { DashboardResult, DashboardsChoice, PanelResult } from '../types.js';
import { Datasources, type DatasourceChoice } from './datasources.js';
import { isRecord, walkPanels, type Json, type PanelModel, type TargetModel } from './panels.js';
import { dashboardRange, panelInterval, panelRange, PROMETHEUS_DEFAULT_INTERVAL, type TimeRange } from './time.js';
import { resolveVariables, type MetricFinder, type Variables } from './variables.js';

/** What running the dashboards reads, and from where (the view and the clients, or fakes). */
export interface DashboardsIo {
  dashboardHits(): Promise<readonly DashboardHit[]>;
  dashboard(uid: string, signal: AbortSignal): Promise<DashboardRead | DashboardNotServed | undefined>;
  libraryElement(uid: string, signal: AbortSignal): Promise<Json | undefined>;
  panelQuery(request: PanelQueryRequest, signal: AbortSignal): Promise<PanelQueryAnswer>;
  /** Grafana's resource API for the datasource (`resources/api/v1/…`), `served: false` when this Grafana lacks it. */
  datasourceResource(uid: string, path: string, signal: AbortSignal): Promise<{ served: false } | { served: true; data: unknown }>;
  /** Prometheus itself (the checked datasource's): label values and series, for causes and as the resource API's stand-in. */
  labelValues(label: string, matches: readonly string[], range?: { startSec: number; endSec: number }, signal?: AbortSignal): Promise<string[]>;
  series(match: string, range: { startSec: number; endSec: number }, signal?: AbortSignal): Promise<Record<string, string>[]>;
  instantQuery(expr: string, signal?: AbortSignal): Promise<{ metric: Readonly<Record<string, string>>; value: string }[]>;
  targets(): Promise<readonly Target[]>;
}

export interface RunOptions {
  readonly io: DashboardsIo;
  readonly datasources: readonly GrafanaDatasource[];
  /** The datasource the other checks checked (its Prometheus is the one `io` reaches directly). */
  readonly checked: GrafanaDatasource;
  readonly choice: DashboardsChoice;
  readonly requestTimeoutMs: number;
  /** Work stops at this time (epoch ms); what did not run is counted as not run. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly concurrency?: number;
  readonly now?: () => number;
  /**
   * The allow-down-targets globs: a panel empty because its exporter's targets are DOWN, each of
   * them allowed, neither fails nor warns (it passes, saying why it is empty).
   */
  readonly allowDownTargets?: readonly string[];
}

export interface RunResult {
  readonly dashboards: DashboardResult[];
  /** Named entries (`uid`, `tag:x`, `folder:y`) that matched no dashboard. */
  readonly unmatched: string[];
  readonly counts: { readonly dashboards: number; readonly panels: number; readonly queries: number };
  /** Panels not run before the deadline. */
  readonly notRun: number;
  /** Dashboards Grafana lists with no Prometheus panel. */
  readonly withoutPrometheus: number;
}

/** At most `n` of the functions run at a time. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

class OutOfTime extends Error {}

/** A panel's result with its place in the dashboard JSON (to find its line in the manifests). */
export type PlacedPanel = PanelResult & { readonly path?: readonly (string | number)[] };

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** Which hits the choice names, and the named entries that match none. */
export function chooseDashboards(hits: readonly DashboardHit[], choice: DashboardsChoice): { chosen: { hit: DashboardHit; named: boolean }[]; unmatched: string[] } {
  if (choice.mode === 'none') return { chosen: [], unmatched: [] };
  if (choice.mode === 'all') return { chosen: hits.map((hit) => ({ hit, named: false })), unmatched: [] };
  const folderOf = (h: DashboardHit): string[] => [h.folderTitle ?? 'General', ...(h.folderUid ? [h.folderUid] : [])].map((f) => f.toLowerCase());
  const unmatched = [
    ...choice.uids.filter((u) => !hits.some((h) => h.uid === u)),
    ...choice.tags.filter((t) => !hits.some((h) => h.tags.includes(t))).map((t) => `tag:${t}`),
    ...choice.folders.filter((f) => !hits.some((h) => folderOf(h).includes(f.toLowerCase()))).map((f) => `folder:${f}`),
  ];
  const chosen = hits
    .filter((h) => choice.uids.includes(h.uid) || choice.tags.some((t) => h.tags.includes(t)) || choice.folders.some((f) => folderOf(h).includes(f.toLowerCase())))
    .map((hit) => ({ hit, named: true }));
  return { chosen, unmatched };
}

/** The runnable queries of a panel: each target with its datasource, or the reason it cannot run. */
interface PlannedQuery {
  readonly target: TargetModel;
  readonly choice: DatasourceChoice;
}

function isPrometheus(choice: DatasourceChoice, raw: unknown): boolean {
  if (choice.kind === 'ds') return choice.ds.type === 'prometheus';
  if (choice.kind !== 'missing') return choice.kind === 'no-default';
  // A uid Grafana lacks: counted unless the reference says it is of another type.
  const type = isRecord(raw) && typeof raw.type === 'string' ? raw.type : '';
  return type === '' || type === 'prometheus';
}

/** The most copies of one repeated panel that are run. */
export const MAX_REPEATS = 20;

/**
 * The copies Grafana's frontend shows of a panel repeated over a variable (`repeat`): one per
 * selected value (every option when All is selected), each with the variable set to its value
 * alone, its title interpolated with it; at most MAX_REPEATS. Over a datasource variable that
 * selects several datasources, each copy queries its own. A panel not repeated, or repeated
 * over a variable without values, is itself.
 */
function repeatsOf(panel: PanelModel, vars: Variables): { panel: PanelModel; vars: Variables }[] {
  const v = panel.repeat ? vars.get(panel.repeat) : undefined;
  if (!v?.values?.length) return [{ panel, vars }];
  return v.values.slice(0, MAX_REPEATS).map((value) => {
    const scoped = vars.scoped(v.name, value);
    return { panel: { ...panel, title: scoped.interpolate(panel.title, false) }, vars: scoped };
  });
}

/**
 * The interval of the panel's own datasource, its queries' low limit in Grafana's frontend: a
 * Prometheus datasource's scrape interval (15 s unless set); none for a mixed panel (the Mixed
 * datasource has none) or one whose datasource Grafana lacks.
 */
function panelDatasourceInterval(panel: PanelModel, vars: Variables): string | undefined {
  const choice = vars.datasource(panel.datasource);
  if (choice.kind !== 'ds' || choice.ds.type !== 'prometheus') return undefined;
  return choice.ds.timeInterval ?? PROMETHEUS_DEFAULT_INTERVAL;
}

function plan(panel: PanelModel, vars: Variables): PlannedQuery[] {
  const panelChoice = vars.datasource(panel.datasource);
  const out: PlannedQuery[] = [];
  for (const target of panel.targets) {
    if (target.hide || !target.expr.trim()) continue;
    const own = target.datasource !== undefined && target.datasource !== null;
    const choice =
      panelChoice.kind === 'mixed'
        ? vars.datasource(target.datasource)
        : own && (panel.datasource === undefined || panel.datasource === null)
          ? vars.datasource(target.datasource, panelChoice)
          : panelChoice;
    if (choice.kind === 'mixed' || choice.kind === 'built-in') continue;
    if (!isPrometheus(choice, own ? target.datasource : panel.datasource)) continue;
    out.push({ target, choice });
  }
  return out;
}

/** Grafana's resource API, else Prometheus itself when the datasource is the checked one. */
function finderFor(io: DashboardsIo, checked: GrafanaDatasource, signal: () => AbortSignal): MetricFinder {
  const sec = (ms: number) => Math.floor(ms / 1000);
  const viaGrafana = async (ds: GrafanaDatasource, path: string): Promise<{ data: unknown } | undefined> => {
    const answer = await io.datasourceResource(ds.uid, path, signal());
    if (answer.served) return { data: answer.data };
    if (ds.uid !== checked.uid) throw new Error(`this Grafana does not serve /api/datasources/uid/${ds.uid}/resources`);
    return undefined;
  };
  return {
    async labelValues(ds, label, match, range) {
      const params = `${match ? `match[]=${encodeURIComponent(match)}&` : ''}start=${sec(range.fromMs)}&end=${sec(range.toMs)}`;
      const got = await viaGrafana(ds, `api/v1/label/${encodeURIComponent(label)}/values?${params}`);
      if (got) return Array.isArray(got.data) ? got.data.filter((v): v is string => typeof v === 'string') : [];
      return io.labelValues(label, match ? [match] : [], { startSec: sec(range.fromMs), endSec: sec(range.toMs) }, signal());
    },
    async series(ds, match, range) {
      const got = await viaGrafana(ds, `api/v1/series?match[]=${encodeURIComponent(match)}&start=${sec(range.fromMs)}&end=${sec(range.toMs)}`);
      if (got) return Array.isArray(got.data) ? got.data.filter(isRecord).map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : [];
      return io.series(match, { startSec: sec(range.fromMs), endSec: sec(range.toMs) }, signal());
    },
    async queryResult(ds, expr, range) {
      const got = await viaGrafana(ds, `api/v1/query?query=${encodeURIComponent(expr)}&time=${sec(range.toMs)}`);
      const lines = (rows: { metric: Record<string, unknown>; value: unknown }[]): string[] =>
        rows.map(({ metric, value }) => {
          const { __name__: name = '', ...labels } = metric;
          const [t, v] = Array.isArray(value) ? value : [0, ''];
          return `${String(name)}{${Object.entries(labels).map(([k, x]) => `${k}="${String(x)}"`).join(',')}} ${String(v)} ${Number(t) * 1000}`;
        });
      if (got) {
        const data = isRecord(got.data) ? got.data : {};
        if (data.resultType === 'scalar' || data.resultType === 'string') return Array.isArray(data.result) ? [String(data.result[1] ?? '')] : [];
        return lines((Array.isArray(data.result) ? data.result : []).filter(isRecord).map((r) => ({ metric: isRecord(r.metric) ? r.metric : {}, value: r.value })));
      }
      const series = await io.instantQuery(expr, signal());
      return lines(series.map((s) => ({ metric: { ...s.metric }, value: [sec(range.toMs), s.value] })));
    },
  };
}

/** Runs the dashboards. Never throws for one dashboard's trouble: that dashboard's result says it. */
export async function runDashboards(o: RunOptions): Promise<RunResult> {
  const now = o.now ?? Date.now;
  const run = limiter(o.concurrency ?? 4);
  const datasources = new Datasources(o.datasources);
  const deadlineSignal = AbortSignal.any([o.signal, AbortSignal.timeout(Math.max(1, Math.ceil(o.deadline - now())))]);
  /** Each request: within request-timeout, and not past the deadline. */
  const requestSignal = (): AbortSignal => AbortSignal.any([deadlineSignal, AbortSignal.timeout(o.requestTimeoutMs)]);
  const timed = <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    run(async () => {
      if (now() >= o.deadline || deadlineSignal.aborted) throw new OutOfTime('out of time');
      try {
        return await fn(requestSignal());
      } catch (err) {
        if (deadlineSignal.aborted) throw new OutOfTime('out of time');
        throw err;
      }
    });
  const finder = finderFor(o.io, o.checked, requestSignal);
  const limitedFinder: MetricFinder = {
    labelValues: (...a) => timed(() => finder.labelValues(...a)),
    series: (...a) => timed(() => finder.series(...a)),
    queryResult: (...a) => timed(() => finder.queryResult(...a)),
  };

  const hits = await o.io.dashboardHits();
  const { chosen, unmatched } = chooseDashboards(hits, o.choice);
  let panels = 0;
  let queries = 0;
  let notRun = 0;
  let withoutPrometheus = 0;

  const one = async ({ hit, named }: { hit: DashboardHit; named: boolean }): Promise<DashboardResult | undefined> => {
    const base = { uid: hit.uid, title: hit.title, ...(hit.folderTitle ? { folder: hit.folderTitle } : {}), named };
    let read: DashboardRead | DashboardNotServed | undefined;
    try {
      read = await timed((signal) => o.io.dashboard(hit.uid, signal));
    } catch (err) {
      if (err instanceof OutOfTime) {
        notRun++;
        return { ...base, status: 'warn', panels: [], problem: 'not run: the time budget ran out', kind: 'not-run' };
      }
      return { ...base, status: 'fail', panels: [], problem: `the dashboard could not be read: ${message(err)}`, kind: 'unreadable' };
    }
    if (!read) return { ...base, status: 'fail', panels: [], problem: 'Grafana lists it but has no dashboard with this uid', kind: 'unreadable' };
    if ('notServed' in read) {
      // Not a broken dashboard: one this API cannot give the panels of. A named one must be checked, so it fails.
      return {
        ...base,
        status: named ? 'fail' : 'warn',
        panels: [],
        problem: 'not checked: Grafana stores it in its dashboard schema v2, which GET /api/dashboards/uid does not serve (HTTP 406)',
        kind: 'schema-v2',
        cause: `Grafana says "${read.notServed}"`,
      };
    }
    const model = read.dashboard;
    const source = read.provisioned && read.provisionedExternalId ? { source: read.provisionedExternalId } : {};
    const range = dashboardRange(model.time, now());
    const all = await walkPanels(model, async (uid) => {
      try {
        const element = await timed((signal) => o.io.libraryElement(uid, signal));
        return element ? { model: element } : { error: `Grafana has no library panel ${uid}` };
      } catch (err) {
        return { error: `library panel ${uid} could not be read: ${message(err)}` };
      }
    });
    let vars: Variables;
    try {
      vars = await resolveVariables(model, datasources, limitedFinder, range, deadlineSignal);
    } catch (err) {
      if (err instanceof OutOfTime || deadlineSignal.aborted) {
        notRun++;
        return { ...base, ...source, status: 'warn', panels: [], problem: 'not run: the time budget ran out while resolving its variables', kind: 'not-run' };
      }
      throw err;
    }
    const results = await Promise.all(all.flatMap((panel) => repeatsOf(panel, vars)).map((r) => runPanel(r.panel, r.vars, range, named)));
    const checked = results.filter((r): r is PanelResult => r !== undefined);
    if (!checked.length) {
      withoutPrometheus++;
      return named ? { ...base, ...source, status: 'pass', panels: [] } : undefined;
    }
    const status = checked.some((p) => p.status === 'fail') ? 'fail' : checked.some((p) => p.status === 'warn') ? 'warn' : 'pass';
    return { ...base, ...source, status, panels: checked };
  };

  const runPanel = async (panel: PanelModel, vars: Variables, dashRange: TimeRange, named: boolean): Promise<PlacedPanel | undefined> => {
    const head = { id: panel.id, title: panel.title, path: panel.path };
    if (panel.libraryError) {
      panels++;
      return { ...head, status: 'fail', queries: [], problem: panel.libraryError, kind: 'library-panel', cause: 'The dashboard uses a library panel this Grafana does not have: import the library panel with the dashboard, or replace it by a plain panel.' };
    }
    const planned = plan(panel, vars);
    if (!planned.length) return undefined;
    panels++;
    const missing = planned.find((q) => q.choice.kind === 'missing' || q.choice.kind === 'no-default');
    if (missing) {
      const ref = missing.choice.kind === 'missing' ? missing.choice.ref : 'default';
      const names = datasources.all.filter((d) => d.type === 'prometheus').map((d) => `"${d.name}" (uid ${d.uid})`);
      return {
        ...head,
        status: 'fail',
        queries: [],
        problem: missing.choice.kind === 'missing' ? `Datasource ${ref} was not found` : 'Grafana has no default datasource and the panel names none',
        ...(missing.choice.kind === 'missing' ? { kind: 'datasource-not-found' as const, datasource: ref } : { kind: 'no-default-datasource' as const }),
        cause: `The panel names datasource ${ref}; Grafana has ${names.length ? names.join(', ') : 'no Prometheus datasource'}. Use a datasource variable (\${datasource}) or the uid ${o.checked.uid}.`,
      };
    }
    const blocked = planned.flatMap((q) => vars.unresolvedIn(q.target.expr));
    if (blocked.length) {
      return { ...head, status: 'fail', queries: [], problem: `variable $${blocked[0]!.name} cannot be resolved`, kind: 'unresolved-variable', cause: blocked[0]!.error ?? 'it has no value' };
    }
    const range = panelRange(dashRange, panel.timeFrom, panel.timeShift, now());
    const groups = new Map<string, { ds: GrafanaDatasource; targets: TargetModel[] }>();
    for (const q of planned) {
      if (q.choice.kind !== 'ds') continue;
      const g = groups.get(q.choice.ds.uid) ?? { ds: q.choice.ds, targets: [] };
      g.targets.push(q.target);
      groups.set(q.choice.ds.uid, g);
    }
    const ran: { refId: string; expr: string; series: number; error?: string }[] = [];
    try {
      const { intervalMs, maxDataPoints } = panelInterval(range, panel, panelDatasourceInterval(panel, vars));
      for (const { ds, targets } of groups.values()) {
        // Ad-hoc filters of this datasource join every selector (the PromQL grammar loaded only then).
        const filters = vars.adhocFilters(ds);
        const filtered = filters.length ? await import('./promql.js').then((m) => (expr: string) => vars.interpolate(m.withLabelFilters(expr, filters))) : (expr: string) => expr;
        const request: PanelQueryRequest = {
          from: range.from,
          to: range.to,
          queries: targets.map((t) => ({
            refId: t.refId,
            datasource: { type: ds.type, uid: ds.uid },
            expr: filtered(vars.interpolate(t.expr)),
            instant: t.instant,
            range: t.range,
            exemplar: false,
            ...(t.interval ? { interval: vars.interpolate(t.interval, false) } : {}),
            ...(t.legendFormat !== undefined ? { legendFormat: t.legendFormat } : {}),
            ...(t.format ? { format: t.format } : {}),
            ...(t.intervalFactor !== undefined ? { intervalFactor: t.intervalFactor } : {}),
            intervalMs,
            maxDataPoints,
          })),
        };
        queries += request.queries.length;
        const answer = await timed((signal) => o.io.panelQuery(request, signal));
        for (const q of request.queries) {
          const r = answer.results[q.refId as string];
          const error = r?.error ?? (r ? undefined : answer.error ?? `no result for ${String(q.refId)} (HTTP ${answer.httpStatus})`);
          ran.push({ refId: q.refId as string, expr: q.expr as string, series: r?.series ?? 0, ...(error ? { error } : {}) });
        }
      }
    } catch (err) {
      if (err instanceof OutOfTime) {
        notRun++;
        return { ...head, status: 'warn', queries: [], problem: 'not run: the time budget ran out', kind: 'not-run' };
      }
      return { ...head, status: 'fail', queries: ran.map(({ error: _e, ...q }) => q), problem: `the query through Grafana failed: ${message(err)}`, kind: 'query-error' };
    }
    const shown = ran.map(({ error: _e, ...q }) => q);
    const failed = ran.find((q) => q.error);
    if (failed) return { ...head, status: 'fail', queries: shown, problem: `query ${failed.refId} failed: ${failed.error}`, kind: 'query-error' };
    if (ran.some((q) => q.series > 0)) return { ...head, status: 'pass', queries: shown };
    const found = await explainNoData(ran.map((q) => q.expr), range);
    const cause = found?.cause;
    const allow = o.allowDownTargets ?? [];
    if (found?.down?.length && found.down.every((t) => allowedDown(t, allow))) {
      return { ...head, status: 'pass', queries: shown, kind: 'allowed-no-data', cause: `no data, as allowed: ${cause} (allow-down-targets)` };
    }
    return { ...head, status: named ? 'fail' : 'warn', queries: shown, problem: 'no data', kind: 'no-data', ...(cause ? { cause } : {}) };
  };

  const explainNoData = async (exprs: string[], range: TimeRange): Promise<{ cause: string; down?: readonly Target[] } | undefined> => {
    try {
      const { noDataCause } = await import('./cause.js');
      const found = await noDataCause(
        exprs,
        { startSec: Math.floor(range.fromMs / 1000), endSec: Math.floor(range.toMs / 1000), text: `${range.from} to ${range.to}` },
        {
          labelValues: (label, matches, r) => timed((signal) => o.io.labelValues(label, matches, r, signal)),
          targets: () => o.io.targets(),
        },
      );
      return found;
    } catch (err) {
      return err instanceof OutOfTime ? undefined : { cause: `the cause could not be found: ${message(err)}` };
    }
  };

  const results = await Promise.all(chosen.map(one));
  const dashboards = results.filter((r): r is DashboardResult => r !== undefined);
  return { dashboards, unmatched, counts: { dashboards: dashboards.filter((d) => d.panels.length).length, panels, queries }, notRun, withoutPrometheus };
}

