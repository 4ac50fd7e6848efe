/** Log lines in Prometheus's own format (go-kit logfmt), so they read like the rest of its log. */

function quote(value: string): string {
  if (value !== '' && !/[\s="\\]/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** `ts=… caller=… level=… k=v …` */
export function logfmt(caller: string, level: LogLevel, fields: Record<string, string>, now = new Date()): string {
  const parts = [`ts=${now.toISOString()}`, `caller=${caller}`, `level=${level}`];
  for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${quote(value)}`);
  return parts.join(' ');
}
