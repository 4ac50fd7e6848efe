/**
 * Kubernetes `metav1.LabelSelector` objects (`{matchLabels, matchExpressions}`) as the Prometheus
 * Operator reads them in a Prometheus object and in monitors, and grafana-operator in an
 * `instanceSelector`: whether they select a set of labels,
 * which requirement fails and how to say it, and their string form.
 *
 * A nil selector selects nothing and `{}` everything: the operator turns selectors into
 * labels.Selector with metav1.LabelSelectorAsSelector, which returns labels.Nothing() for nil and
 * labels.Everything() for an empty one (prometheus-operator pkg/prometheus/resource_selector.go,
 * selectObjects).
 */

export type Labels = Readonly<Record<string, string>>;

interface Expression {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

/** A selector as written in an object; `undefined` when the field is absent or null (nil). */
export interface LabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly Expression[];
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Reads a selector field; undefined for nil (absent or null). */
export function readSelector(v: unknown): LabelSelector | undefined {
  const r = record(v);
  if (!r) return undefined;
  const matchLabels = Object.fromEntries(Object.entries(record(r.matchLabels) ?? {}).map(([k, x]) => [k, String(x)]));
  const matchExpressions = (Array.isArray(r.matchExpressions) ? r.matchExpressions : []).map((e): Expression => {
    const x = record(e) ?? {};
    return { key: String(x.key ?? ''), operator: String(x.operator ?? ''), values: (Array.isArray(x.values) ? x.values : []).map(String) };
  });
  return { matchLabels, matchExpressions };
}

/** `{}`: no requirement at all. */
export function selectsEverything(s: LabelSelector): boolean {
  return !Object.keys(s.matchLabels).length && !s.matchExpressions.length;
}

/** A requirement an object's labels fail: how to say it, and the label change that meets it. */
export interface Unmet {
  /** `lacks the label release: kps`, `has team: c, not one of team in (a, b)`. */
  readonly phrase: string;
  /** A label to set: matchLabels' value, or an In's first value. */
  readonly add?: readonly [string, string];
  /** A label to remove (NotIn, DoesNotExist). */
  readonly remove?: string;
}

/** The requirements `labels` fail; empty when the selector selects them. */
export function unmet(s: LabelSelector, labels: Labels | undefined): Unmet[] {
  const have = labels ?? {};
  const out: Unmet[] = [];
  for (const [k, v] of Object.entries(s.matchLabels)) {
    if (have[k] === v) continue;
    out.push({ phrase: have[k] === undefined ? `lacks the label ${k}: ${v}` : `has ${k}: ${have[k]} where the selector requires ${k}: ${v}`, add: [k, v] });
  }
  for (const e of s.matchExpressions) {
    const value = have[e.key];
    const list = `${e.key} in (${e.values.join(', ')})`;
    switch (e.operator) {
      case 'In':
        if (value === undefined) out.push({ phrase: `lacks a label ${list}`, ...(e.values[0] !== undefined ? { add: [e.key, e.values[0]] as const } : {}) });
        else if (!e.values.includes(value)) out.push({ phrase: `has ${e.key}: ${value}, not one of ${list}`, ...(e.values[0] !== undefined ? { add: [e.key, e.values[0]] as const } : {}) });
        break;
      case 'NotIn':
        if (value !== undefined && e.values.includes(value)) out.push({ phrase: `has ${e.key}: ${value}, which the selector excludes (${e.key} notin (${e.values.join(', ')}))`, remove: e.key });
        break;
      case 'Exists':
        if (value === undefined) out.push({ phrase: `lacks a label ${e.key}` });
        break;
      case 'DoesNotExist':
        if (value !== undefined) out.push({ phrase: `has the label ${e.key}, which the selector excludes (!${e.key})`, remove: e.key });
        break;
      default:
        // The API server rejects other operators; such a selector selects nothing.
        out.push({ phrase: `cannot match ${e.key} ${e.operator} (not a selector operator)` });
    }
  }
  return out;
}

export function selects(s: LabelSelector | undefined, labels: Labels | undefined): boolean {
  return s !== undefined && unmet(s, labels).length === 0;
}

/** labels.Selector.String(): `app=x,team in (a,b)`, requirements sorted by key ('' for `{}`). */
export function selectorString(s: LabelSelector): string {
  const reqs: { key: string; text: string }[] = Object.entries(s.matchLabels).map(([key, v]) => ({ key, text: `${key}=${v}` }));
  for (const e of s.matchExpressions) {
    const values = [...e.values].sort().join(',');
    const text = e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : `!${e.key}`;
    reqs.push({ key: e.key, text });
  }
  return reqs
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

/** The keys a selector requires a value of (for evaluating namespace selectors without reading labels). */
export function keysOf(s: LabelSelector): string[] {
  return [...new Set([...Object.keys(s.matchLabels), ...s.matchExpressions.map((e) => e.key)])];
}
