/**
 * Label and field selectors with Kubernetes semantics: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x,y)`, `a` (exists), `!a` (does not exist); field selectors `path=value`, `path!=value`.
 */

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'absent'; key: string };

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

/** Splits at commas that are not inside a `( … )` value set. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(text: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(text);
  if (set) {
    const values = set[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { op: set[2] as 'in' | 'notin', key: set[1], values };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s(),]*)$/.exec(text);
  if (cmp) return { op: cmp[2] === '!=' ? 'neq' : 'eq', key: cmp[1], value: cmp[3] };
  if (/^![^\s=!]+$/.test(text)) return { op: 'absent', key: text.slice(1) };
  if (/^[^\s=!()]+$/.test(text)) return { op: 'exists', key: text };
  throw new Error(`unable to parse requirement: ${text}`);
}

function matches(req: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case 'eq':
      return has && value === req.value;
    case 'neq':
      return !has || value !== req.value;
    case 'in':
      return has && req.values.includes(value);
    case 'notin':
      return !has || !req.values.includes(value);
    case 'exists':
      return has;
    case 'absent':
      return !has;
  }
}

/** Compiles a label selector; throws on a malformed one. An empty selector matches everything. */
export function parseLabelSelector(selector: string | undefined): LabelMatcher {
  const requirements = splitTopLevel(selector ?? '').map(parseRequirement);
  return (labels) => requirements.every((req) => matches(req, labels ?? {}));
}

/** `{a: 'b', c: 'd'}` → `a=b,c=d` (a Service's or a workload's `matchLabels`). */
export function selectorFromLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Reads a dotted field path (`metadata.name`, `status.phase`) of an object as a string. */
function fieldValue(obj: unknown, path: string): string {
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[part];
  }
  return current === undefined || current === null ? '' : String(current);
}

/** Compiles a field selector (`metadata.name=x,status.phase!=Running`); throws on a malformed one. */
export function parseFieldSelector(selector: string | undefined): (obj: unknown) => boolean {
  const terms = splitTopLevel(selector ?? '').map((term) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw new Error(`invalid selector: '${term}'; can't understand '${term}'`);
    return { path: m[1].trim(), negate: m[2] === '!=', value: m[3].trim() };
  });
  return (obj) => terms.every((t) => (fieldValue(obj, t.path) === t.value) !== t.negate);
}
