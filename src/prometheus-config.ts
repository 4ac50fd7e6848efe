/**
 * Prometheus's configuration as the action reads it (`GET /api/v1/status/config`): the scrape
 * jobs of prometheus.yml (their Kubernetes discovery, relabel rules, intervals), and Prometheus's
 * durations and regexes. Read by the checks (freshness's scrape interval), the cluster view and
 * the diagnosis, which adds where the file lives (diagnose/prometheus/config.ts).
 */
import { parse as parseYaml } from 'yaml';

/** Prometheus's default scrape_interval and scrape_timeout. */
export const DEFAULT_INTERVAL = '1m';
export const DEFAULT_TIMEOUT = '10s';

export interface RelabelRule {
  /** Its index in the job's relabel_configs. */
  readonly index: number;
  readonly action: string;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** As written (Prometheus anchors it: `^(?:regex)$`). */
  readonly regexText: string;
  /** The anchored regex; undefined when JavaScript cannot evaluate it. */
  readonly regex: RegExp | undefined;
  readonly targetLabel: string | undefined;
  readonly replacement: string;
}

interface SdConfig {
  readonly index: number;
  readonly role: string;
  /** undefined: every namespace. */
  readonly namespaces: readonly string[] | undefined;
  /** `namespaces.own_namespace`: also Prometheus's own namespace. */
  readonly ownNamespace: boolean;
  /** A kubeconfig file or inline credentials: discovery does not use the pod's ServiceAccount. */
  readonly ownCredentials: string | undefined;
}

export interface JobConfig {
  readonly index: number;
  readonly name: string;
  readonly sd: readonly SdConfig[];
  readonly relabel: readonly RelabelRule[];
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
  readonly metricsPath: string;
  readonly scheme: string;
}

export interface PromConfig {
  readonly jobs: readonly JobConfig[];
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function parsePromConfig(yamlText: string): PromConfig {
  const root = record(parseYaml(yamlText));
  const global = record(root.global);
  const globalInterval = text(global.scrape_interval) ?? DEFAULT_INTERVAL;
  const globalTimeout = text(global.scrape_timeout) ?? DEFAULT_TIMEOUT;
  const jobs = list(root.scrape_configs).map((raw, index): JobConfig => {
    const job = record(raw);
    return {
      index,
      name: text(job.job_name) ?? '',
      sd: list(job.kubernetes_sd_configs).map((s, i): SdConfig => {
        const sd = record(s);
        const ns = record(sd.namespaces);
        const names = list(ns.names).map(text).filter((n): n is string => Boolean(n));
        const own = ns.own_namespace === true;
        return {
          index: i,
          role: text(sd.role) ?? '',
          namespaces: names.length || own ? names : undefined,
          ownNamespace: own,
          ownCredentials: ownCredentials(sd),
        };
      }),
      relabel: list(job.relabel_configs).map((r, i) => relabelRule(record(r), i)),
      scrapeInterval: text(job.scrape_interval) ?? globalInterval,
      scrapeTimeout: text(job.scrape_timeout) ?? (text(job.scrape_interval) && durationMs(text(job.scrape_interval)!) < durationMs(globalTimeout) ? text(job.scrape_interval)! : globalTimeout),
      metricsPath: text(job.metrics_path) ?? '/metrics',
      scheme: text(job.scheme) ?? 'http',
    };
  });
  return { jobs };
}

/**
 * How a kubernetes_sd_configs entry authenticates when it is not with the pod's ServiceAccount: a
 * kubeconfig file or inline credentials. A token file (`credentials_file`, `bearer_token_file`) is
 * taken for the ServiceAccount's mounted token.
 */
function ownCredentials(sd: Record<string, unknown>): string | undefined {
  const kubeconfig = text(sd.kubeconfig_file);
  if (kubeconfig) return `kubeconfig_file ${kubeconfig}`;
  for (const key of ['bearer_token', 'basic_auth', 'oauth2']) if (sd[key] !== undefined && sd[key] !== null && sd[key] !== '') return key;
  const authorization = record(sd.authorization);
  if (text(authorization.credentials)) return 'authorization.credentials';
  return undefined;
}

function relabelRule(r: Record<string, unknown>, index: number): RelabelRule {
  const regexText = text(r.regex) ?? '(.*)';
  return {
    index,
    action: (text(r.action) ?? 'replace').toLowerCase(),
    sourceLabels: list(r.source_labels).map(text).filter((s): s is string => s !== undefined),
    separator: text(r.separator) ?? ';',
    regexText,
    regex: anchored(regexText),
    targetLabel: text(r.target_label),
    replacement: text(r.replacement) ?? '$1',
  };
}

/** A Prometheus (RE2) regex as JavaScript evaluates it, anchored the way Prometheus anchors it. */
export function anchored(regex: string): RegExp | undefined {
  let flags = '';
  let body = regex;
  const inline = /^\(\?([imsU]+)\)/.exec(body);
  if (inline) {
    flags = [...new Set(inline[1]!.replace('U', '').split(''))].filter((f) => f !== 'm').join('');
    body = body.slice(inline[0].length);
  }
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch {
    return undefined;
  }
}

/** Prometheus durations: `15s`, `1m30s`, `500ms`, `1h`, `1d`, `1w`, `1y`. */
export function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  let total = 0;
  let matched = '';
  for (const m of value.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0];
  }
  return matched === value && value ? total : NaN;
}

/** `15s`, `1m`, `1m30s`: how `wait` and Prometheus write durations. */
export function formatDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
}

/** The namespaces a job discovers in; undefined: all of them. */
export function jobNamespaces(job: JobConfig, promNamespace: string): string[] | undefined {
  const out = new Set<string>();
  for (const sd of job.sd) {
    if (!sd.namespaces) return undefined;
    for (const n of sd.namespaces) out.add(n);
    if (sd.ownNamespace) out.add(promNamespace);
  }
  return [...out];
}
