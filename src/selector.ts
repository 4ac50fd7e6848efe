/**
 * Kubernetes label selectors (`app=prometheus`, `tier in (a,b)`, `!legacy`): splitting them, and
 * matching them against a pod's labels as the API server does.
 */

/** Splits at the commas that are not inside parentheses (`a in (x,y),b` → `a in (x,y)`, `b`), in linear time. */
export function splitOutsideParens(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Whether labels satisfy every requirement of a selector (equality, set and existence requirements). */
export function matchesSelector(labels: Readonly<Record<string, string>> | undefined, selector: string): boolean {
  const requirements = splitOutsideParens(selector)
    .map((r) => r.trim())
    .filter(Boolean);
  return requirements.every((req) => {
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(req);
    if (set) {
      const [, key, op, list] = set as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      const value = labels?.[key];
      return op === 'in' ? value !== undefined && values.includes(value) : value === undefined || !values.includes(value);
    }
    const eq = /^([^\s=!(),]+)\s*(==|!=|=)\s*([^\s=!(),]*)$/.exec(req);
    if (eq) {
      const [, key, op, value] = eq as unknown as [string, string, string, string];
      return op === '!=' ? labels?.[key] !== value : labels?.[key] === value;
    }
    if (req.startsWith('!')) return labels?.[req.slice(1).trim()] === undefined;
    return labels?.[req] !== undefined;
  });
}
