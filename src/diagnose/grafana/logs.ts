/**
 * Grafana's log (logfmt, as Grafana 10–12 writes it): its provisioning errors and the finding for
 * them, in Grafana's words; the moments it started and began listening, which the sidecar race
 * is judged against.
 */
import type { Finding, ObjectPath } from '../types.js';
import { MAX_EVIDENCE, type Probe } from './probe.js';
import { applyText, entryTarget, fileTarget, type Entry } from './sources.js';
import { clip } from './text.js';

/** Lines of Grafana's log read when looking for provisioning errors. */
export const LOG_LINES = 300;

export interface LogVerdict {
  /** The provisioning error lines (evidence). */
  readonly errors: string[];
  /** The error text of the most telling line (`error="…"`, else `msg="…"`). */
  readonly error?: string;
  /** `inserting datasource from configuration … name=<datasource-name>` lines. */
  readonly inserted: string[];
}

/** The value of a logfmt key (`error="…"`, `msg=…`) in a log line. */
export function logfmtValue(line: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(line);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\"/g, '"').replace(/\\\\/g, '\\') : m[2];
}

/** A log line at error level or above. */
export const ERROR_LEVEL = /(?:^|\s)level=(?:error|eror|crit|fatal)\b/i;

/** Reads Grafana's log for provisioning errors (logfmt, as Grafana 10–12 writes it). */
export function provisioningLog(log: string, datasourceName: string | undefined): LogVerdict {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter(
    (l) => (/logger=provisioning/.test(l) && ERROR_LEVEL.test(l)) || /Failed to provision/i.test(l) || /provisioning error/i.test(l) || (ERROR_LEVEL.test(l) && /datasource/i.test(l)),
  );
  const telling = errors.find((l) => /Failed to provision|provisioning error/i.test(l)) ?? errors[0];
  const error = telling ? (logfmtValue(telling, 'error') ?? logfmtValue(telling, 'msg') ?? telling) : undefined;
  const inserted = lines.filter((l) => /inserting datasource from configuration/i.test(l) && (datasourceName === undefined || logfmtValue(l, 'name') === datasourceName));
  return { errors, ...(error ? { error: error.replace(/^\*?provisioning\.ProvisioningServiceImpl run error: /, '') } : {}), inserted };
}

/** The time of a Grafana log line (`t=`), in ms. */
export function grafanaTime(line: string): number | undefined {
  const t = logfmtValue(line, 't');
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** Grafana's last start in its log: `Starting Grafana` and `HTTP Server Listen` lines. */
export function lastStart(log: string): { started?: string; listening?: string } {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const at = lines.map((l, i) => (/msg="?Starting Grafana/.test(l) ? i : -1)).filter((i) => i >= 0).pop() ?? 0;
  const after = lines.slice(at);
  const started = after.find((l) => /msg="?Starting Grafana/.test(l));
  const listening = after.find((l) => /msg="?HTTP Server Listen/.test(l));
  return { ...(started ? { started } : {}), ...(listening ? { listening } : {}) };
}

/** A finding for a provisioning error Grafana logged: the cause in Grafana's words, with its fix. */
export function provisioningErrorFinding(p: Probe, verdict: LogVerdict, entries: readonly Entry[], entry: Entry | undefined, where: string): Finding {
  const error = verdict.error ?? '';
  const apply = applyText(p);
  const object = entry?.object ?? entries[0]?.object;
  let fix: string;
  let target: ObjectPath | undefined;
  if (/only one datasource per organization can be marked as default/i.test(error)) {
    const defaults = entries.filter((e) => e.ds.isDefault);
    const extra = defaults.find((e) => e.ds.name !== entry?.ds.name);
    const across = p.sidecar ? `every object the sidecar copies into ${p.dir}` : `every provisioning file in ${p.dir}`;
    fix = extra
      ? `Keep isDefault: true on one datasource only, across ${across}: remove it from "${extra.ds.name}" (${extra.object.kind} ${extra.object.namespace}/${extra.object.name}), then ${apply}.`
      : `Keep isDefault: true on one datasource only, across ${across}, then ${apply}.`;
    target = extra ? entryTarget(extra, 'isDefault') : entry?.ds.isDefault ? entryTarget(entry, 'isDefault') : entry ? entryTarget(entry) : object ? fileTarget(object, undefined) : undefined;
  } else if (/yaml|unmarshal|parse|invalid/i.test(error)) {
    fix = `Fix the provisioning file as the error says, then ${apply}.`;
    target = object ? fileTarget(object, entry?.key) : undefined;
  } else {
    fix = `Fix what the error says in the provisioning files of ${p.dir}${object ? ` (${object.kind} ${object.namespace}/${object.name})` : ''}, then ${apply}.`;
    target = object && entry ? fileTarget(object, entry.key) : undefined;
  }
  return {
    cause: `Grafana failed to provision its datasources: ${clip(error, 300)}`,
    fix,
    evidence: verdict.errors.slice(-MAX_EVIDENCE).map((l) => `${where}: ${clip(l, 300)}`),
    ...(target ? { target } : {}),
  };
}
