/**
 * Grafana's log line format (go-kit logfmt): `logger=… t=… level=… msg="…" key=value …`.
 * Values holding spaces, quotes, `=` or control characters are quoted Go-style; empty values
 * are written as `key=`.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/** Writes one formatted line somewhere (the Grafana container's log). */
export type LogSink = (logger: string, level: LogLevel, msg: string, fields?: LogFields) => void;

function logfmtValue(value: string | number | boolean): string {
  const text = String(value);
  return /[\s"=\\]|[\u0000-\u001f]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * One line; `context` pairs (a request's `userId`, `orgId`, `uname`) come right after the
 * logger, as Grafana's contextual loggers put them.
 */
export function formatLogLine(
  logger: string,
  level: LogLevel,
  msg: string,
  fields: LogFields = {},
  now: Date = new Date(),
  context: LogFields = {},
): string {
  const pairs: [string, string | number | boolean][] = [
    ['logger', logger],
    ...Object.entries(context),
    ['t', now.toISOString()],
    ['level', level],
    ['msg', msg],
    ...Object.entries(fields),
  ];
  return pairs.map(([key, value]) => `${key}=${logfmtValue(value)}`).join(' ');
}
