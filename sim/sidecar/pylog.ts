/**
 * The k8s-sidecar's log output (src/logger.py): Python `logging` records rendered by its JSON
 * formatter (python-json-logger 3.x/4.x: `{"time": …, "level": …, "msg": …}`, `json.dumps`
 * separators and `ensure_ascii`, an `exc_info` field for exceptions) or its LOGFMT formatter
 * (logfmter: `time=… level=… msg="…"`), times in ISO 8601 with microseconds (LOG_TZ, default
 * the container's local zone, UTC), filtered by LOG_LEVEL. Also the Python `repr` forms the
 * sidecar's messages embed (dicts, tuples, bytes, urllib3's HTTPHeaderDict).
 */

export type PyLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

const LEVELS: Readonly<Record<PyLevel, number>> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

/** logging's level names (`WARN` and `FATAL` are aliases). */
function parseLevel(name: string | undefined): number {
  const upper = (name ?? 'INFO').toUpperCase();
  if (upper === 'WARN') return LEVELS.WARNING;
  if (upper === 'FATAL') return LEVELS.CRITICAL;
  return LEVELS[upper as PyLevel] ?? (/^\d+$/.test(upper) ? Number(upper) : LEVELS.INFO);
}

/** Wall-clock microseconds, advancing with the monotonic clock. */
const ORIGIN_MICROS = BigInt(Date.now()) * 1000n - process.hrtime.bigint() / 1000n;

/** `datetime.isoformat()` of now, with microseconds and a `+00:00` offset. */
function isoNow(): string {
  const micros = ORIGIN_MICROS + process.hrtime.bigint() / 1000n;
  const base = new Date(Number(micros / 1000n)).toISOString().replace(/Z$/, '');
  return `${base}${String(micros % 1000n).padStart(3, '0')}+00:00`;
}

/** Python's `json.dumps(value)` with ensure_ascii: non-ASCII as `\uXXXX`. */
export function pyJsonDumps(value: unknown): string {
  const compact = JSON.stringify(value) ?? 'null';
  const ascii = compact.replace(/[\u007f-\uffff]/g, (c) => (c === '\u007f' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  // json.dumps separates with ', ' and ': ' outside strings.
  let out = '';
  let inString = false;
  for (let i = 0; i < ascii.length; i++) {
    const c = ascii[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += ascii[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ',' || c === ':') out += ' ';
  }
  return out;
}

/** logfmter's value formatting: quotes escaped, quoted when holding spaces or `=`, newlines as `\n`. */
function logfmtValue(value: string): string {
  let text = value.replace(/"/g, '\\"');
  if (/[ =]/.test(text)) text = `"${text}"`;
  return text.replace(/\n/g, '\\n');
}

export interface SidecarLogOptions {
  /** LOG_FORMAT: `JSON` (default) or `LOGFMT`. */
  format?: string;
  /** LOG_LEVEL, default INFO. */
  level?: string;
}

/** A logger writing the sidecar's lines to a sink (the container's log). */
export class PyLogger {
  private readonly threshold: number;
  private readonly logfmt: boolean;

  constructor(
    private readonly sink: (line: string) => void,
    options: SidecarLogOptions = {},
  ) {
    this.threshold = parseLevel(options.level);
    this.logfmt = (options.format ?? 'JSON').toUpperCase() === 'LOGFMT';
  }

  enabled(level: PyLevel): boolean {
    return LEVELS[level] >= this.threshold;
  }

  log(level: PyLevel, msg: string, excInfo?: string): void {
    if (!this.enabled(level)) return;
    const time = isoNow();
    if (this.logfmt) {
      const pairs = [`time=${logfmtValue(time)}`, `level=${level}`, `msg=${logfmtValue(msg)}`];
      if (excInfo !== undefined) pairs.push(`exc_info=${logfmtValue(excInfo)}`);
      this.sink(pairs.join(' '));
      return;
    }
    const record: Record<string, string> = { time, level, msg };
    if (excInfo !== undefined) record.exc_info = excInfo;
    this.sink(pyJsonDumps(record));
  }

  debug(msg: string): void {
    this.log('DEBUG', msg);
  }
  info(msg: string): void {
    this.log('INFO', msg);
  }
  warning(msg: string): void {
    this.log('WARNING', msg);
  }
  error(msg: string, excInfo?: string): void {
    this.log('ERROR', msg, excInfo);
  }
  critical(msg: string): void {
    this.log('CRITICAL', msg);
  }
}

/** Python's `repr()` of a str: single quotes unless the text holds `'` and no `"`. */
export function pyStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '\\') out += '\\\\';
    else if (c === quote) out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out + quote;
}

/** Python's `repr()` of bytes: `b'…'`, non-printable bytes as `\xNN`. */
export function pyBytesRepr(data: Buffer): string {
  const text = data.toString('latin1');
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of data) {
    const c = String.fromCharCode(byte);
    if (c === '\\') out += '\\\\';
    else if (c === quote) out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out + quote;
}

/** Python's `repr()` of a JSON-like value (dict, list, str, number, bool, None). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value);
  if (typeof value === 'string') return pyStrRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** Python's `repr()` of a tuple of strings: `('a', 'b')`, `('a',)`. */
export function pyTupleRepr(items: readonly string[]): string {
  return items.length === 1 ? `(${pyStrRepr(items[0]!)},)` : `(${items.map(pyStrRepr).join(', ')})`;
}

/** urllib3's `HTTPHeaderDict({...})` of a response's raw headers, in the order received. */
export function httpHeaderDictRepr(rawHeaders: readonly string[]): string {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push(`${pyStrRepr(rawHeaders[i]!)}: ${pyStrRepr(rawHeaders[i + 1]!)}`);
  return `HTTPHeaderDict({${pairs.join(', ')}})`;
}

/** An `0x7f…` address as CPython prints object reprs (`<… object at 0x7f3c2a1b4d90>`). */
export function pyObjectAddress(): string {
  const random = Math.floor(Math.random() * 0xffffff) * 16;
  return `0x7f${(0x3c000000 + random).toString(16).padStart(10, '0')}`;
}
