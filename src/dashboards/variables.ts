/**
 * A dashboard's template variables, resolved the way Grafana's frontend resolves them when the
 * dashboard opens (public/app/features/variables, templateSrv), and the interpolation of a
 * panel's PromQL with them (the Prometheus datasource's interpolateQueryExpr).
 *
 * - `custom`: the comma-separated options (`text : value` pairs too); `constant`, `textbox`;
 *   `interval` (`auto` computed from the range); `datasource`: the datasource of that type the
 *   saved `current` names (or `default`), else the first, by name, as Grafana picks it.
 * - `query`: the variable's own query — `label_values(metric, label)`, `label_values(label)`,
 *   `metrics(regex)`, `query_result(expr)`, or a series selector — with the variables before it
 *   interpolated, run through the variable's datasource over the dashboard's time range; then its
 *   `regex` and `sort`.
 * - The selection: the saved `current` when its values are still among the options, else the
 *   first option (`All` when includeAll, since it comes first). `All` becomes the variable's
 *   `allValue` (written as it is, never escaped) or every option, joined as `(a|b|c)`.
 * - `$__interval`, `$__rate_interval`, `$__range` and the like are left to Grafana's backend,
 *   which interpolates them for Prometheus queries (pkg/promlib/models/query.go).
 * - `$__from` and `$__to`, global variables the frontend replaces (templateSrv): the dashboard's
 *   range in epoch milliseconds, or with the `date` format (formatRegistry): `${__to:date}` and
 *   `:date:iso` ISO 8601, `:date:seconds` epoch seconds (rounded), `:date:ms` milliseconds.
 */
import type { GrafanaDatasource } from '../grafana.js';
import { Datasources, VARIABLE_PATTERN, type DatasourceChoice } from './datasources.js';
import { isRecord, type Json } from './panels.js';
import { formatDurationMs, roundInterval, type TimeRange } from './time.js';

const ALL = '$__all';

export interface Variable {
  readonly name: string;
  readonly type: string;
  /** The selected values (All expanded to every option), or undefined when unresolved. */
  readonly values?: readonly string[];
  /** All is selected and a custom allValue stands for it (written as it is). */
  readonly allValue?: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
  /** For a datasource variable: the datasource it selects (the first, when several are). */
  readonly datasource?: GrafanaDatasource;
  /** For a multi-value or All datasource variable: every datasource selected, in value order (what a panel repeats over). */
  readonly datasources?: readonly GrafanaDatasource[];
  /** For an ad-hoc filters variable: the datasource it filters (as written) and its filters. */
  readonly adhoc?: { readonly datasource: unknown; readonly filters: readonly AdhocFilter[] };
  /** Why it could not be resolved ("label_values(kube_pod_info, cluster) returned no values"). */
  readonly error?: string;
}

/**
 * One ad-hoc filter (`{key, operator, value}`; `=|` and `!=|` with `values`, Grafana 11's "one
 * of" operators).
 */
export interface AdhocFilter {
  readonly key: string;
  readonly operator: string;
  readonly value: string;
  readonly values?: readonly string[];
}

/** What a query variable's values come from: Grafana's resource API for the datasource (or Prometheus itself). */
export interface MetricFinder {
  labelValues(ds: GrafanaDatasource, label: string, match: string | undefined, range: TimeRange): Promise<string[]>;
  /** Label sets of the series a selector matches. */
  series(ds: GrafanaDatasource, match: string, range: TimeRange): Promise<Record<string, string>[]>;
  /** An instant query at the range's end: `metric{labels} value timestamp` lines, as Grafana shows them. */
  queryResult(ds: GrafanaDatasource, expr: string, range: TimeRange): Promise<string[]>;
}

export class Variables {
  private readonly byName = new Map<string, Variable>();

  constructor(
    readonly datasources: Datasources,
    readonly range: TimeRange,
  ) {}

  get(name: string): Variable | undefined {
    return this.byName.get(name);
  }

  list(): Variable[] {
    return [...this.byName.values()];
  }

  set(v: Variable): void {
    this.byName.set(v.name, v);
  }

  /**
   * The variables with `name` set to `value` alone, as in one copy of a panel repeated over it
   * (the copy's scoped variable): formatted as the variable is (a multi-value or All variable's
   * single value is still regex-escaped in PromQL), never its allValue.
   */
  scoped(name: string, value: string): Variables {
    const copy = new Variables(this.datasources, this.range);
    for (const v of this.byName.values()) {
      if (v.name !== name) copy.set(v);
      else {
        const datasource = v.datasources?.find((d) => d.uid === value);
        copy.set({ ...withoutAllValue(v), values: [value], ...(datasource ? { datasource, datasources: [datasource] } : {}) });
      }
    }
    return copy;
  }

  /**
   * The ad-hoc filters that apply to queries of `ds`: those of every ad-hoc variable whose
   * datasource is `ds` by uid, or a `${variable}` that interpolates to its uid or name
   * (templateSrv.getAdhocFilters; scenes' AdHocFiltersVariable in its `auto` mode), its base
   * filters first.
   */
  adhocFilters(ds: GrafanaDatasource): AdhocFilter[] {
    const out: AdhocFilter[] = [];
    for (const v of this.byName.values()) {
      if (!v.adhoc) continue;
      const raw = v.adhoc.datasource;
      const uid = typeof raw === 'string' ? raw : raw && typeof raw === 'object' ? text((raw as Json).uid) : '';
      const target = uid.startsWith('$') ? this.interpolate(uid, false) : uid;
      if (target && (target === ds.uid || target === ds.name)) out.push(...v.adhoc.filters);
    }
    return out;
  }

  /** The variables `text` uses that are unresolved (defined but without values). */
  unresolvedIn(text: string): Variable[] {
    const out: Variable[] = [];
    for (const m of text.matchAll(VARIABLE_PATTERN)) {
      const v = this.byName.get(m[1] ?? m[2] ?? m[4] ?? '');
      if (v && v.values === undefined && !out.includes(v)) out.push(v);
    }
    return out;
  }

  /**
   * `text` with the variables replaced (templateSrv.replace): `promql` formats multi-value and
   * All variables as regex alternatives, as the Prometheus datasource does; unknown names and
   * Grafana's `$__…` built-ins stay as they are.
   */
  interpolate(text: string, promql = true): string {
    return text.replace(VARIABLE_PATTERN, (match, n1?: string, n2?: string, f2?: string, n3?: string, _field?: string, f3?: string) => {
      const name = n1 ?? n2 ?? n3 ?? '';
      const v = this.byName.get(name);
      const format = f2 ?? f3;
      if (!v && (name === '__from' || name === '__to')) return timeValue(name === '__from' ? this.range.fromMs : this.range.toMs, format) ?? match;
      if (!v || v.values === undefined) return match;
      if (v.datasource && !format) return v.datasource.uid;
      if (v.datasource && format === 'text') return v.datasource.name;
      if (v.allValue !== undefined && format !== 'text') return this.interpolate(v.allValue, promql);
      return formatValue(v, v.values, format, promql);
    });
  }

  /** The datasource `raw` names, variables resolved (a datasource variable gives its datasource). */
  datasource(raw: unknown, inherited?: DatasourceChoice): DatasourceChoice {
    return this.datasources.resolve(raw, (t) => this.interpolate(t, false), inherited);
  }
}

/** templateSrv's formats (the common ones), or the Prometheus datasource's when none is given. */
function formatValue(v: Variable, values: readonly string[], format: string | undefined, promql: boolean): string {
  switch (format) {
    case 'raw':
      return values.join(',');
    case 'csv':
      return values.join(',');
    case 'pipe':
      return values.join('|');
    case 'text':
      return values.join(' + ');
    case 'json':
      return JSON.stringify(values.length === 1 ? values[0] : values);
    case 'doublequote':
      return values.map((x) => `"${x}"`).join(',');
    case 'singlequote':
      return values.map((x) => `'${x}'`).join(',');
    case 'regex': {
      const escaped = values.map(regexEscape);
      return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
    }
    case 'glob':
      return values.length === 1 ? values[0]! : `{${values.join(',')}}`;
    case 'queryparam':
      return values.map((x) => `var-${v.name}=${encodeURIComponent(x)}`).join('&');
    case 'percentencode':
      return encodeURIComponent(values.join(','));
    default:
      break;
  }
  if (!promql) return values.join(',');
  // The Prometheus datasource's interpolateQueryExpr (classic escaping).
  if (!v.multi && !v.includeAll) return values.map(prometheusRegularEscape).join(',');
  const escaped = values.map(prometheusSpecialRegexEscape);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

/** `\` and `'` escaped, as the Prometheus datasource escapes a single value. */
export function prometheusRegularEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

/** A value as a regex alternative inside a PromQL string: metacharacters behind `\\`. */
export function prometheusSpecialRegexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]+?.()|]/g, '\\\\$&');
}

/** templateSrv's `regex` format (lodash-free escapeRegExp). */
function regexEscape(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** The saved `current` values (`value` may be a string or a list). */
function currentValues(variable: Json): string[] {
  const current = isRecord(variable.current) ? variable.current : undefined;
  if (!current) return [];
  const value = current.value ?? current.text;
  return (Array.isArray(value) ? value : [value]).map(text).filter((x) => x !== '');
}

/** `custom` options: comma-separated (`\,` keeps a comma), each `text : value` or a value. */
export function customOptions(query: string): { text: string; value: string }[] {
  const parts = query.match(/(?:\\,|[^,])+/g) ?? [];
  return parts
    .map((p) => p.trim().replace(/\\,/g, ','))
    .filter((p) => p !== '')
    .map((p) => {
      const pair = /^(.+?)\s:\s(.+)$/.exec(p);
      return pair ? { text: pair[1]!.trim(), value: pair[2]!.trim() } : { text: p, value: p };
    });
}

/** The options left after the variable's regex: the first capture group (or `text`/`value` groups), or the whole value. */
function applyRegex(values: readonly string[], regex: string): string[] {
  if (!regex) return [...values];
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  let re: RegExp;
  try {
    re = m ? new RegExp(m[1]!, m[2]!.replace('g', '')) : new RegExp(regex);
  } catch {
    return [...values];
  }
  const out: string[] = [];
  for (const value of values) {
    const match = re.exec(value);
    if (!match) continue;
    const picked = match.groups?.value ?? match.groups?.text ?? (match.length > 1 ? match[1] : match[0]);
    if (picked !== undefined && picked !== '' && !out.includes(picked)) out.push(picked);
  }
  return out;
}

/** Grafana's variable `sort`: 1/2 alphabetical, 3/4 numerical, 5/6 alphabetical case-insensitive (asc/desc). */
function sortValues(values: string[], sort: number): string[] {
  if (!sort) return values;
  const asc = sort % 2 === 1;
  const cmp =
    sort === 3 || sort === 4
      ? (a: string, b: string) => (parseFloat(/\d+/.exec(a)?.[0] ?? '') || 0) - (parseFloat(/\d+/.exec(b)?.[0] ?? '') || 0)
      : sort === 5 || sort === 6
        ? (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0)
        : (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...values].sort(cmp);
  return asc ? sorted : sorted.reverse();
}

/** The selection among `options` (validateVariableSelection): the saved values still offered, else the first option. */
function select(variable: Json, options: readonly string[]): { values: string[]; all: boolean } {
  const includeAll = variable.includeAll === true;
  const saved = currentValues(variable);
  const savedAll = saved.includes(ALL) || (saved.length === 1 && saved[0] === 'All' && !options.includes('All'));
  if (includeAll && (savedAll || saved.length === 0)) return { values: [...options], all: true };
  const kept = saved.filter((s) => options.includes(s));
  if (kept.length) return { values: variable.multi === true ? kept : [kept[0]!], all: false };
  if (includeAll) return { values: [...options], all: true };
  return options.length ? { values: [options[0]!], all: false } : { values: [], all: false };
}

/** A query variable's query: the string, or the editor's object `{query, qryType}`. */
function variableQuery(variable: Json): string {
  const q = variable.query;
  if (typeof q === 'string') return q;
  if (isRecord(q) && typeof q.query === 'string') return q.query;
  return text(variable.definition);
}

/**
 * Runs Grafana's Prometheus variable query syntax (metric_find_query.ts), or undefined for a
 * query that is none of them.
 */
async function findValues(query: string, ds: GrafanaDatasource, finder: MetricFinder, range: TimeRange): Promise<string[]> {
  const q = query.trim();
  const labelValues = /^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$/.exec(q);
  if (labelValues) {
    const filter = labelValues[1]?.trim();
    const defined = filter && filter.replace(/\s/g, '') !== '{}' ? filter : undefined;
    return finder.labelValues(ds, labelValues[2]!, defined, range);
  }
  const metrics = /^metrics\((.+)\)\s*$/.exec(q);
  if (metrics) {
    const names = await finder.labelValues(ds, '__name__', undefined, range);
    let re: RegExp;
    try {
      re = new RegExp(metrics[1]!);
    } catch {
      return [];
    }
    return names.filter((n) => re.test(n));
  }
  const result = /^query_result\((.+)\)\s*$/.exec(q);
  if (result) return finder.queryResult(ds, result[1]!, range);
  if (/^label_names\(\)\s*$/.test(q)) {
    const sets = await finder.series(ds, '{__name__=~".+"}', range);
    return [...new Set(sets.flatMap((s) => Object.keys(s)))];
  }
  if (['label_values()', 'metrics()', 'query_result()', ''].includes(q)) return [];
  // A series selector: the matching series' names with labels (metricNameAndLabelsQuery).
  const sets = await finder.series(ds, q, range);
  return sets.map(({ __name__: name = '', ...labels }) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`);
}

/**
 * Every template variable of the dashboard, in the order Grafana refreshes them (a variable
 * whose query uses another comes after it).
 */
function withoutAllValue(v: Variable): Variable {
  const { allValue: _allValue, ...rest } = v;
  return rest;
}

/** `$__from`/`$__to` as the frontend writes them (formatRegistry's `date`); undefined for a date pattern not handled here. */
function timeValue(ms: number, format: string | undefined): string | undefined {
  if (format === undefined) return String(ms);
  if (format === 'date' || format === 'date:iso') return new Date(ms).toISOString();
  if (format === 'date:seconds') return String(Math.round(ms / 1000));
  if (format === 'date:ms') return String(ms);
  if (format.startsWith('date:')) return momentFormat(new Date(ms), format.slice('date:'.length));
  return undefined;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * A moment.js format (`${__from:date:YYYY-MM-DD}`: the date format's formatter calls
 * `dateTime(value).format(…)`), in UTC — the browser's time zone Grafana would use is not known
 * here. The common tokens; `[…]` is literal text.
 */
function momentFormat(d: Date, pattern: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
  const hour12 = d.getUTCHours() % 12 || 12;
  const tokens: Record<string, () => string> = {
    YYYY: () => String(d.getUTCFullYear()),
    YY: () => pad(d.getUTCFullYear() % 100),
    Q: () => String(Math.floor(d.getUTCMonth() / 3) + 1),
    MMMM: () => MONTHS[d.getUTCMonth()]!,
    MMM: () => MONTHS[d.getUTCMonth()]!.slice(0, 3),
    MM: () => pad(d.getUTCMonth() + 1),
    M: () => String(d.getUTCMonth() + 1),
    Do: () => ordinal(d.getUTCDate()),
    DD: () => pad(d.getUTCDate()),
    D: () => String(d.getUTCDate()),
    dddd: () => DAYS[d.getUTCDay()]!,
    ddd: () => DAYS[d.getUTCDay()]!.slice(0, 3),
    d: () => String(d.getUTCDay()),
    HH: () => pad(d.getUTCHours()),
    H: () => String(d.getUTCHours()),
    hh: () => pad(hour12),
    h: () => String(hour12),
    mm: () => pad(d.getUTCMinutes()),
    m: () => String(d.getUTCMinutes()),
    ss: () => pad(d.getUTCSeconds()),
    s: () => String(d.getUTCSeconds()),
    SSS: () => pad(d.getUTCMilliseconds(), 3),
    A: () => (d.getUTCHours() < 12 ? 'AM' : 'PM'),
    a: () => (d.getUTCHours() < 12 ? 'am' : 'pm'),
    ZZ: () => '+0000',
    Z: () => '+00:00',
    X: () => String(Math.floor(d.getTime() / 1000)),
    x: () => String(d.getTime()),
  };
  return pattern.replace(/\[([^\]]*)\]|YYYY|YY|Q|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|d|HH|H|hh|h|mm|m|ss|s|SSS|A|a|ZZ|Z|X|x/g, (token, literal?: string) => literal ?? tokens[token]!());
}

export async function resolveVariables(dashboard: Json, datasources: Datasources, finder: MetricFinder, range: TimeRange, signal?: AbortSignal): Promise<Variables> {
  const vars = new Variables(datasources, range);
  const templating = isRecord(dashboard.templating) && Array.isArray(dashboard.templating.list) ? dashboard.templating.list.filter(isRecord) : [];
  const pending = templating.filter((v) => typeof v.name === 'string' && v.name !== '');
  const names = new Set(pending.map((v) => v.name as string));
  // Placeholders: a variable used before it is resolved counts as unresolved.
  for (const v of pending) vars.set({ name: v.name as string, type: text(v.type), multi: v.multi === true, includeAll: v.includeAll === true, error: 'not resolved yet' });
  const dependsOn = (v: Json): string[] => {
    const own = `${variableQuery(v)} ${JSON.stringify(v.datasource ?? '')}`;
    return [...own.matchAll(VARIABLE_PATTERN)].map((m) => m[1] ?? m[2] ?? m[4] ?? '').filter((n) => names.has(n) && n !== v.name);
  };
  const done = new Set<string>();
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const v = pending[i]!;
      const deps = dependsOn(v);
      // Dependencies first; a cycle (or a dependency never resolvable) is resolved as it stands on the last pass.
      if (deps.some((d) => !done.has(d)) && pending.some((p) => deps.includes(p.name as string))) continue;
      signal?.throwIfAborted();
      vars.set(await resolveOne(v, vars, finder, range));
      done.add(v.name as string);
      pending.splice(i--, 1);
      progress = true;
    }
    if (!progress && pending.length) {
      const v = pending.shift()!;
      vars.set(await resolveOne(v, vars, finder, range));
      done.add(v.name as string);
      progress = true;
    }
  }
  return vars;
}

async function resolveOne(v: Json, vars: Variables, finder: MetricFinder, range: TimeRange): Promise<Variable> {
  const name = v.name as string;
  const type = text(v.type) || 'query';
  const base = { name, type, multi: v.multi === true, includeAll: v.includeAll === true };
  const withOptions = (options: string[], what: string): Variable => {
    if (!options.length) {
      const allValue = base.includeAll && typeof v.allValue === 'string' && v.allValue !== '' ? v.allValue : undefined;
      if (allValue !== undefined) return { ...base, values: [], allValue };
      return { ...base, error: `$${name} has no value: ${what} returned none` };
    }
    const { values, all } = select(v, options);
    const allValue = all && typeof v.allValue === 'string' && v.allValue !== '' ? v.allValue : undefined;
    return { ...base, values, ...(allValue !== undefined ? { allValue } : {}) };
  };
  switch (type) {
    case 'constant':
      return { ...base, multi: false, includeAll: false, values: [text(v.query)] };
    case 'textbox': {
      const saved = currentValues(v);
      return { ...base, multi: false, includeAll: false, values: [saved[0] ?? text(v.query)] };
    }
    case 'custom':
      return withOptions(customOptions(vars.interpolate(text(v.query), false)).map((o) => o.value), `the custom options "${text(v.query)}"`);
    case 'interval': {
      const options = customOptions(text(v.query)).map((o) => o.value);
      const { values } = select(v, options);
      const chosen = values[0] ?? options[0] ?? '1m';
      if (chosen !== 'auto') return { ...base, multi: false, includeAll: false, values: [chosen] };
      const count = typeof v.auto_count === 'number' && v.auto_count > 0 ? v.auto_count : 30;
      return { ...base, multi: false, includeAll: false, values: [formatDurationMs(Math.max(roundInterval((range.toMs - range.fromMs) / count), 1000))] };
    }
    case 'datasource': {
      const pluginType = text(v.query) || 'prometheus';
      let pattern: RegExp | undefined;
      try {
        const r = text(v.regex);
        const m = /^\/(.*)\/([a-z]*)$/s.exec(r);
        pattern = r ? (m ? new RegExp(m[1]!, m[2]!.replace('g', '')) : new RegExp(r)) : undefined;
      } catch {
        pattern = undefined;
      }
      const candidates = vars.datasources.all
        .filter((d) => d.type === pluginType && (!pattern || pattern.test(d.name)))
        .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0));
      const dflt = vars.datasources.default;
      const find = (saved: string) =>
        saved.toLowerCase() === 'default' && dflt && dflt.type === pluginType ? dflt : candidates.find((d) => d.uid === saved || d.name === saved);
      const savedValues = currentValues(v);
      if (!candidates.length) return { ...base, error: `$${name} has no value: Grafana has no ${pluginType} datasource${pattern ? ` matching ${text(v.regex)}` : ''}` };
      // A multi-value or All datasource variable selects several (a panel may repeat over them).
      if ((base.multi || base.includeAll) && (savedValues.includes(ALL) || savedValues.length > 1)) {
        const chosen = savedValues.includes(ALL) ? candidates : savedValues.map(find).filter((d): d is GrafanaDatasource => d !== undefined);
        if (chosen.length) return { ...base, values: chosen.map((d) => d.uid), datasource: chosen[0]!, datasources: chosen };
      }
      const picked = (savedValues[0] ? find(savedValues[0]) : undefined) ?? candidates[0]!;
      return { ...base, multi: false, includeAll: false, values: [picked.uid], datasource: picked };
    }
    case 'query': {
      const choice = vars.datasource(v.datasource);
      if (choice.kind !== 'ds') {
        const why = choice.kind === 'missing' ? `its datasource ${choice.ref} was not found` : choice.kind === 'no-default' ? 'Grafana has no default datasource' : 'its datasource is not Prometheus';
        return { ...base, error: `$${name} has no value: ${why}` };
      }
      if (choice.ds.type !== 'prometheus') return { ...base, values: currentValues(v) };
      const query = variableQuery(v);
      const blocked = vars.unresolvedIn(query).filter((u) => u.name !== name);
      if (blocked.length) return { ...base, error: `$${name} has no value: its query uses $${blocked[0]!.name}, which has none` };
      const interpolated = vars.interpolate(query);
      let found: string[];
      try {
        found = await findValues(interpolated, choice.ds, finder, range);
      } catch (err) {
        return { ...base, error: `$${name} has no value: ${interpolated} failed (${err instanceof Error ? err.message : String(err)})` };
      }
      const sort = typeof v.sort === 'number' ? v.sort : 0;
      return withOptions(sortValues(applyRegex(found, text(v.regex)), sort), interpolated);
    }
    case 'adhoc': {
      const filters = [...(Array.isArray(v.baseFilters) ? v.baseFilters : []), ...(Array.isArray(v.filters) ? v.filters : [])]
        .filter(isRecord)
        .map((f) => ({ key: text(f.key), operator: text(f.operator) || '=', value: text(f.value), ...(Array.isArray(f.values) ? { values: f.values.map(text) } : {}) }))
        .filter((f) => f.key !== '');
      return { ...base, values: [], adhoc: { datasource: v.datasource, filters } };
    }
    default:
      // group-by and others: nothing to put in a query.
      return { ...base, values: currentValues(v) };
  }
}

