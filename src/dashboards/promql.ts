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
