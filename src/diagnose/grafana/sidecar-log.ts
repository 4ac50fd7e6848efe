/**
 * The datasource sidecar's log, as kiwigrid/k8s-sidecar writes it: JSON lines by default
 * (src/logger.py: python-json-logger, `{"time": …, "level": …, "msg": …}`), logfmt with
 * LOG_FORMAT=LOGFMT, and plain text in versions before 1.18 (`[2021-06-15 13:48:22] message`,
 * a message spanning lines). What the probes look for in it: the Kubernetes API refusing its list
 * or watch (`ApiException when calling kubernetes: (403)` in resources.py's watch loop, or the
 * uncaught `ApiException: (403)` that ends 2.x's initial list), the files it wrote
 * (helpers.py write_data_to_file: `Writing <path> (ascii)`), and its calls to Grafana's reload
 * URL (helpers.py request: `<payload> sent to <url>. Response: <status> <reason> <body>`,
 * `Max retries exceeded for URL <url>: …`, `Unexpected error during request to <url>: …`).
 */
import { clip } from './text.js';

export interface SidecarRecord {
  /** ms since the epoch, when the record carries a time. */
  readonly time?: number;
  readonly level?: string;
  /** The message, newlines and all. */
  readonly msg: string;
}

/** A logfmt value (`msg="…"`), unescaped. */
function logfmt(line: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(line);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\') : m[2];
}

function time(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const PLAIN_START = /^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\]\s?(.*)$/;

/** The log's records, oldest first. */
export function parseSidecarLog(log: string): SidecarRecord[] {
  const out: SidecarRecord[] = [];
  let plain: { time?: number; lines: string[] } | undefined;
  const flush = () => {
    if (plain) out.push({ ...(plain.time !== undefined ? { time: plain.time } : {}), msg: plain.lines.join('\n') });
    plain = undefined;
  };
  for (const raw of log.split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) continue;
    if (line.startsWith('{')) {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        if (typeof record.msg === 'string' || typeof record.message === 'string') {
          flush();
          const t = time(typeof record.time === 'string' ? record.time : undefined);
          out.push({ ...(t !== undefined ? { time: t } : {}), ...(typeof record.level === 'string' ? { level: record.level } : {}), msg: String(record.msg ?? record.message) });
          continue;
        }
      } catch {
        // not JSON after all: a plain line
      }
    }
    const msg = /(?:^|\s)msg=/.test(line) && /(?:^|\s)level=/.test(line) ? logfmt(line, 'msg') : undefined;
    if (msg !== undefined) {
      flush();
      const t = time(logfmt(line, 'time'));
      const level = logfmt(line, 'level');
      out.push({ ...(t !== undefined ? { time: t } : {}), ...(level ? { level } : {}), msg });
      continue;
    }
    const start = PLAIN_START.exec(line);
    if (start) {
      flush();
      const t = time(`${start[1]?.replace(' ', 'T')}Z`);
      plain = { ...(t !== undefined ? { time: t } : {}), lines: [start[2] ?? ''] };
    } else if (plain) plain.lines.push(line);
    else out.push({ msg: line });
  }
  flush();
  return out;
}

/** The Kubernetes API refused the sidecar (403): what, and the API server's sentence. */
export interface Refusal {
  readonly record: SidecarRecord;
  readonly verb: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly user?: string;
  /** `configmaps is forbidden: User "…" cannot list resource "configmaps" in API group "" in the namespace "monitoring"`. */
  readonly sentence: string;
}

/**
 * The API server's refusal inside an ApiException's text. Its body is printed as JSON, or as
 * Python bytes holding JSON, so the quotes may come with any number of backslashes.
 */
export function refusalOf(record: SidecarRecord): Refusal | undefined {
  if (!/\(403\)/.test(record.msg) || !/forbidden/i.test(record.msg)) return undefined;
  const q = '\\\\*"';
  const m = new RegExp(
    `(\\w+) is forbidden: User ${q}([^"\\\\]+)${q} cannot (\\w+) resource ${q}([^"\\\\]+)${q}(?: in API group ${q}([^"\\\\]*)${q})?(?: (?:in the namespace ${q}([^"\\\\]+)${q}|at the cluster scope))?`,
  ).exec(record.msg);
  if (!m) return { record, verb: 'list', resource: /secret/i.test(record.msg) ? 'secrets' : 'configmaps', sentence: clip(firstLineOf(record.msg), 300) };
  const [, subject, user, verb, resource, group, namespace] = m as unknown as [string, string, string, string, string, string | undefined, string | undefined];
  const sentence = `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group ?? ''}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`;
  return { record, verb, resource, user, sentence, ...(namespace ? { namespace } : {}) };
}

export function refusals(records: readonly SidecarRecord[]): Refusal[] {
  return records.map(refusalOf).filter((r): r is Refusal => r !== undefined);
}

/** `Writing /etc/grafana/provisioning/datasources/datasource.yaml (ascii)`. */
export function writes(records: readonly SidecarRecord[]): { record: SidecarRecord; path: string }[] {
  return records.flatMap((record) => {
    const m = /^Writing (\S+) \((?:ascii|binary)\)/.exec(record.msg);
    return m ? [{ record, path: m[1] as string }] : [];
  });
}

/** One call to the reload URL and how it ended. */
export interface ReloadCall {
  readonly record: SidecarRecord;
  readonly url: string;
  /** The HTTP status Grafana answered; absent when no answer came. */
  readonly status?: number;
  /** `ok`: 2xx; `refused`: 401/403; `failed`: another status, retries exhausted, or no connection. */
  readonly outcome: 'ok' | 'refused' | 'failed';
}

export function reloadCalls(records: readonly SidecarRecord[]): ReloadCall[] {
  return records.flatMap((record): ReloadCall[] => {
    const answered = /^(?:.*) sent to (\S+)\. Response: (\d{3})\b/.exec(record.msg);
    if (answered) {
      const status = Number(answered[2]);
      return [{ record, url: answered[1] as string, status, outcome: status < 300 ? 'ok' : status === 401 || status === 403 ? 'refused' : 'failed' }];
    }
    const failed = /^(?:Max retries exceeded for URL|Unexpected error during request to|HTTP error for URL|SSL certificate verification failed for URL) (\S+?):/.exec(record.msg);
    if (failed) {
      const status = /too many (\d{3}) error responses/.exec(record.msg)?.[1];
      return [{ record, url: failed[1] as string, ...(status ? { status: Number(status) } : {}), outcome: 'failed' }];
    }
    return [];
  });
}

function firstLineOf(text: string): string {
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}

/** A record as evidence: its level and first line (plus the API server's sentence for a refusal). */
export function recordText(record: SidecarRecord, extra?: string): string {
  const head = clip(firstLineOf(record.msg), 300);
  return `${record.level ? `${record.level} ` : ''}${head}${extra ? ` — ${extra}` : ''}`;
}
