/**
 * The series selectors of a PromQL expression — each metric name and its label matchers — read
 * from the syntax tree of the Prometheus UI's own grammar (@prometheus-io/lezer-promql), never
 * from the text. Loaded only when a panel returns no data (a chunk of its own in the bundle).
 *
 * Grafana's variables that its backend interpolates (`$__rate_interval`, `$__interval`,
 * `$__range`, …) are replaced by a valid value first, so the expression parses as Prometheus
 * will see it.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface Selector {
  /** The metric name (`up`, or `{__name__="up"}`), undefined when the selector names none. */
  readonly metric?: string;
  /** The label matchers other than the metric name's. */
  readonly matchers: readonly Matcher[];
  /** The selector as written. */
  readonly text: string;
  /** It reads another time than the evaluation's (under `offset` or `@`). */
  readonly shifted?: true;
}

export interface ParsedQuery {
  readonly selectors: readonly Selector[];
  /** The expression does not parse (the first error's offset). */
  readonly errorAt?: number;
}

/** Grafana's backend-interpolated variables, with a stand-in of the right kind. */
const BUILT_INS: readonly [RegExp, string][] = [
  [/\$\{?__rate_interval_ms\}?/g, '60000'],
  [/\$\{?__interval_ms\}?/g, '60000'],
  [/\$\{?__range_ms\}?/g, '3600000'],
  [/\$\{?__range_s\}?/g, '3600'],
  [/\$\{?__rate_interval\}?/g, '1m'],
  [/\$\{?__interval\}?/g, '1m'],
  [/\$\{?__range\}?/g, '1h'],
];

/** The expression with Grafana's backend variables replaced by stand-ins. */
export function withBuiltIns(expr: string): string {
  return BUILT_INS.reduce((text, [pattern, value]) => text.replace(pattern, value), expr);
}

/** A PromQL string literal's value: `"…"` and `'…'` with Go escapes, or a raw `` `…` ``. */
export function unquote(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/gs, (_, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        return /^[0-7]{3}$/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e;
    }
  });
}

/** Every series selector of `expr` (Grafana's backend variables replaced first). */
export function selectorsOf(expr: string): ParsedQuery {
  const text = withBuiltIns(expr);
  const tree = parser.parse(text);
  const selectors: Selector[] = [];
  let errorAt: number | undefined;
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError && errorAt === undefined) errorAt = cursor.from;
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    let metric: string | undefined;
    const matchers: Matcher[] = [];
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.name === 'Identifier') metric = text.slice(child.from, child.to);
      if (child.name !== 'LabelMatchers') continue;
      for (let m = child.firstChild; m; m = m.nextSibling) {
        if (m.name === 'QuotedLabelName') {
          // `{"my.metric"}`: a quoted name on its own is the metric name (UTF-8 names).
          const lit = m.getChild('StringLiteral');
          if (lit) metric = unquote(text.slice(lit.from, lit.to));
          continue;
        }
        if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
        const nameNode = m.getChild('LabelName') ?? m.getChild('QuotedLabelName')?.getChild('StringLiteral');
        const opNode = m.getChild('MatchOp');
        const valueNode = m.getChildren('StringLiteral').at(-1);
        if (!nameNode || !opNode || !valueNode || valueNode === nameNode) continue;
        const rawName = text.slice(nameNode.from, nameNode.to);
        const name = nameNode.name === 'StringLiteral' ? unquote(rawName) : rawName;
        const op = text.slice(opNode.from, opNode.to) as Matcher['op'];
        const value = unquote(text.slice(valueNode.from, valueNode.to));
        if (name === '__name__' && op === '=') metric = value;
        else matchers.push({ name, op, value });
      }
    }
    let shifted = false;
    for (let up = node.parent; up && !shifted; up = up.parent) shifted = up.name === 'OffsetExpr' || up.name === 'StepInvariantExpr';
    selectors.push({ ...(metric !== undefined ? { metric } : {}), matchers, text: text.slice(node.from, node.to).trim(), ...(shifted ? { shifted: true as const } : {}) });
  } while (cursor.next());
  return { selectors, ...(errorAt !== undefined ? { errorAt } : {}) };
}

/** An ad-hoc filter as the dashboard saves it. */
export interface LabelFilter {
  readonly key: string;
  readonly operator: string;
  readonly value: string;
  readonly values?: readonly string[];
}

/**
 * `expr` with the ad-hoc filters added to every series selector, as Grafana's Prometheus
 * datasource does before it sends a query (datasource.ts enhanceExprWithAdHocFilters →
 * add_label_to_query.ts addLabelToQuery): one filter after the other, each selector written
 * again as `metric{its matchers, key op "value"}`, a matcher of the same label and value not
 * added twice (whatever its operator), an expression without selectors left as it is; a regex
 * filter's value has its backslashes doubled and `'` escaped (prometheusRegularEscape). Grafana
 * 11's one-of operators (`=|`, `!=|`) become `=~`/`!~` over the values. The selectors are found
 * in the syntax tree of the text as it is (Grafana's `$__…` variables included).
 */
export function withLabelFilters(expr: string, filters: readonly LabelFilter[]): string {
  return filters.reduce((text, f) => {
    const oneOf = f.operator === '=|' || f.operator === '!=|';
    const op = oneOf ? (f.operator === '=|' ? '=~' : '!~') : f.operator;
    const raw = oneOf ? (f.values ?? [f.value]).join('|') : f.value;
    const value = op === '=~' || op === '!~' ? raw.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'") : raw;
    return addMatcher(text, f.key, op, value);
  }, expr);
}

function addMatcher(expr: string, key: string, op: string, value: string): string {
  const tree = parser.parse(expr);
  const spans: { from: number; to: number; text: string }[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    let metric = '';
    const written: string[] = [];
    let present = false;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.name === 'Identifier') metric = expr.slice(child.from, child.to);
      if (child.name !== 'LabelMatchers') continue;
      for (let m = child.firstChild; m; m = m.nextSibling) {
        if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher' && m.name !== 'QuotedLabelName') continue;
        written.push(expr.slice(m.from, m.to));
        const name = m.getChild('LabelName');
        const literal = m.getChildren('StringLiteral').at(-1);
        if (name && literal && expr.slice(name.from, name.to) === key && unquote(expr.slice(literal.from, literal.to)) === value) present = true;
      }
    }
    if (!present) written.push(`${key}${op}"${value}"`);
    spans.push({ from: node.from, to: node.to, text: `${metric}{${written.join(', ')}}` });
  } while (cursor.next());
  if (!spans.length) return expr;
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += expr.slice(at, span.from) + span.text;
    at = span.to;
  }
  return out + expr.slice(at);
}

/** Whether `value` is selected by the matcher (regexes anchored, as Prometheus anchors them). */
export function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
    case '!~': {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${m.value})$`, 's');
      } catch {
        return true;
      }
      return re.test(value) === (m.op === '=~');
    }
  }
}
