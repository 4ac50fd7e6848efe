/**
 * Grafana's log (logfmt, as Grafana 10–12 writes it): its provisioning errors and the finding for
 * them, in Grafana's words.
 */
import type { Finding, ObjectPath } from '../types.js';
import { entryTarget, type DatasourceEntry } from './configmap.js';
import { MAX_EVIDENCE, type Probe } from './probe.js';
import { clip, configMapRef, mountDir, refText, restartCommand } from './text.js';

/** Lines of Grafana's log read when looking for provisioning errors. */
export const LOG_LINES = 300;

interface LogVerdict {
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
export function provisioningLog(log: string, datasourceName: string): LogVerdict {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter(
    (l) => (/logger=provisioning/.test(l) && ERROR_LEVEL.test(l)) || /Failed to provision/i.test(l) || /provisioning error/i.test(l) || (ERROR_LEVEL.test(l) && /datasource/i.test(l)),
  );
  const telling = errors.find((l) => /Failed to provision|provisioning error/i.test(l)) ?? errors[0];
  const error = telling ? (logfmtValue(telling, 'error') ?? logfmtValue(telling, 'msg') ?? telling) : undefined;
  const inserted = lines.filter((l) => /inserting datasource from configuration/i.test(l) && logfmtValue(l, 'name') === datasourceName);
  return { errors, ...(error ? { error: error.replace(/^\*?provisioning\.ProvisioningServiceImpl run error: /, '') } : {}), inserted };
}

/** A finding for a provisioning error Grafana logged: the cause in Grafana's words, with its fix. */
export function provisioningErrorFinding(p: Probe, verdict: LogVerdict, entry: DatasourceEntry | undefined, where: string, deploymentName: string): Finding {
  const s = p.settings;
  const error = verdict.error ?? '';
  const restart = restartCommand(p.ns, deploymentName);
  const ref = configMapRef(s);
  let fix: string;
  let target: ObjectPath | undefined;
  if (/only one datasource per organization can be marked as default/i.test(error)) {
    fix = `Keep isDefault: true on one datasource only, across every provisioning file in ${mountDir(s)}, then ${restart}.`;
    target = entry?.ds.isDefault ? entryTarget(s, entry, 'isDefault') : entry ? entryTarget(s, entry) : { object: ref, path: [] };
  } else if (/yaml|unmarshal|parse|invalid/i.test(error)) {
    fix = `Fix the provisioning file as the error says, then ${restart}.`;
    target = entry ? { object: ref, path: ['data', entry.file] } : { object: ref, path: [] };
  } else {
    fix = `Fix what the error says in the provisioning files of ${mountDir(s)} (${refText(ref)}), then ${restart}.`;
    target = entry ? { object: ref, path: ['data', entry.file] } : undefined;
  }
  return {
    cause: `Grafana failed to provision its datasources: ${clip(error, 300)}`,
    fix,
    evidence: verdict.errors.slice(-MAX_EVIDENCE).map((l) => `${where}: ${clip(l, 300)}`),
    ...(target ? { target } : {}),
  };
}
