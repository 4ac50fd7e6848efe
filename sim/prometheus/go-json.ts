/**
 * JSON as Prometheus's HTTP API writes it (json-iterator's ConfigCompatibleWithStandardLibrary,
 * web/api/v1/api.go `respond`): no whitespace, `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u003c`…, control characters other than `\n`, `\r`, `\t` as `\u00XX`. Object keys keep the
 * order they were parsed in (Prometheus writes maps sorted, so a parsed answer re-encodes as it
 * came).
 */

const HEX = '0123456789abcdef';

/** A string literal as encoding/json (HTML-safe) writes it. */
export function goJsonString(value: string): string {
  let out = '"';
  for (const c of value) {
    const cp = c.codePointAt(0)!;
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (cp < 0x20 || c === '<' || c === '>' || c === '&') out += `\\u00${HEX[cp >> 4]}${HEX[cp & 15]}`;
    else if (cp === 0x2028 || cp === 0x2029) out += `\\u${cp.toString(16)}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else out += c;
  }
  return `${out}"`;
}

/** A parsed JSON value re-encoded; numbers are written as JavaScript writes them. */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${goJsonString(k)}:${goJson(v)}`)
    .join(',')}}`;
}
