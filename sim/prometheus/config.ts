/**
 * Adapts a Prometheus configuration written for a pod (kubernetes_sd_configs using the in-cluster
 * service account) to a Prometheus process running next to the simulated cluster: discovery goes
 * to the simulated API server with the Prometheus service account's token and the cluster CA.
 *
 * Two forms:
 * - `rewriteScrapeConfig`: keeps `kubernetes_sd_configs`, pointing them at the API server, for a
 *   Prometheus built with Kubernetes discovery.
 * - `bridgeKubernetesSd`: replaces each `kubernetes_sd_configs` entry with an `http_sd_configs`
 *   entry served by this package's own pod discovery (see kubernetes-sd.ts), for a Prometheus
 *   built without it (the Debian package is). Relabelling is unchanged either way.
 */
import YAML from 'yaml';

/** Where the in-cluster service account credentials are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ClusterAccess {
  /** Base URL of the API server, e.g. `https://127.0.0.1:6443`. */
  apiServerUrl: string;
  /** PEM file of the CA that signed the API server's certificate. */
  caFile: string;
  /** File holding the Prometheus service account's bearer token. */
  tokenFile: string;
}

export interface RewriteOptions extends ClusterAccess {
  /** Replaces the global and every job's scrape_interval (e.g. `1s`); timeouts are capped to it. */
  scrapeInterval?: string;
  /** Namespace of the Prometheus pod: what `namespaces.own_namespace: true` stands for. */
  namespace?: string;
}

export interface PodSelector {
  role: string;
  label?: string;
  field?: string;
}

/** One `kubernetes_sd_configs` entry, as the discovery needs it. */
export interface KubernetesSdSpec {
  jobName: string;
  role: string;
  /** Namespaces to watch; empty means all namespaces. */
  namespaces: string[];
  selectors: PodSelector[];
}

export interface BridgeOptions extends RewriteOptions {
  /** Base URL of the HTTP service-discovery server, e.g. `http://127.0.0.1:41234`. */
  sdBaseUrl: string;
  /** refresh_interval of the generated http_sd_configs (default `1s`). */
  refreshInterval?: string;
  /** First segment of the generated paths (default `sd`), so that successive configurations differ. */
  pathPrefix?: string;
}

/** A replaced `kubernetes_sd_configs` entry as written, for showing the configuration. */
export interface BridgedEntry {
  /** The `url` of the `http_sd_configs` entry that replaced it. */
  url: string;
  /** Its index in the `kubernetes_sd_configs` list of its job (or Alertmanager). */
  index: number;
  /** The entry (service-account files mapped like the rest of the configuration). */
  entry: Record<string, unknown>;
}

export interface BridgedConfig {
  yaml: string;
  /** One entry per replaced `kubernetes_sd_configs` entry; `path` is its URL path on the SD server. */
  sources: Array<KubernetesSdSpec & { path: string }>;
  /** The same entries (in the same order) as they were written. */
  entries: BridgedEntry[];
}

type Obj = Record<string, unknown>;

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1];

/** Milliseconds of a Prometheus duration (`1m30s`, `500ms`, `15s`). */
export function parsePromDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = DURATION_RE.exec(trimmed);
  if (!match || trimmed === '') throw new Error(`invalid duration "${text}"`);
  return DURATION_UNITS_MS.reduce((sum, unit, i) => sum + Number(match[i + 1] ?? 0) * unit, 0);
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseConfig(configYaml: string): Obj {
  const doc = YAML.parse(configYaml) as unknown;
  if (doc === null || doc === undefined) return {};
  if (!isObj(doc)) throw new Error('prometheus.yml: expected a mapping at the top level');
  return doc;
}

function scrapeConfigs(doc: Obj): Obj[] {
  const list = doc.scrape_configs;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new Error('prometheus.yml: scrape_configs must be a list');
  return list.filter(isObj);
}

/** Replaces, anywhere in the document, the pod's service-account file paths with the given files. */
function mapServiceAccountFiles(node: unknown, access: ClusterAccess): unknown {
  if (typeof node === 'string') {
    if (node === `${SERVICE_ACCOUNT_DIR}/token`) return access.tokenFile;
    if (node === `${SERVICE_ACCOUNT_DIR}/ca.crt`) return access.caFile;
    return node;
  }
  if (Array.isArray(node)) return node.map((item) => mapServiceAccountFiles(item, access));
  if (isObj(node)) {
    for (const key of Object.keys(node)) node[key] = mapServiceAccountFiles(node[key], access);
  }
  return node;
}

function capTimeout(holder: Obj, intervalMs: number, interval: string): void {
  const timeout = holder.scrape_timeout;
  if (typeof timeout === 'string' && parsePromDuration(timeout) > intervalMs) holder.scrape_timeout = interval;
}

function overrideIntervals(doc: Obj, interval: string): void {
  const intervalMs = parsePromDuration(interval);
  const global = isObj(doc.global) ? doc.global : (doc.global = {});
  (global as Obj).scrape_interval = interval;
  capTimeout(global as Obj, intervalMs, interval);
  for (const job of scrapeConfigs(doc)) {
    job.scrape_interval = interval;
    capTimeout(job, intervalMs, interval);
  }
}

/** Namespaces of an SD entry, resolving `own_namespace`. */
function resolveNamespaces(sd: Obj, ownNamespace: string | undefined, jobName: string): string[] {
  const ns = isObj(sd.namespaces) ? sd.namespaces : {};
  const names = Array.isArray(ns.names) ? ns.names.map(String) : [];
  if (ns.own_namespace === true) {
    if (!ownNamespace) throw new Error(`job "${jobName}": namespaces.own_namespace needs the Prometheus pod's namespace`);
    if (!names.includes(ownNamespace)) names.push(ownNamespace);
  }
  return names;
}

/**
 * What holds `kubernetes_sd_configs`: each scrape job, then each Alertmanager of `alerting`
 * (named `alertmanager/<i>` in log lines), with the path segment its SD entries are served under.
 */
function sdHolders(doc: Obj): Array<{ holder: Obj; name: string; segment: string }> {
  const holders = scrapeConfigs(doc).map((job, i) => ({ holder: job, name: String(job.job_name), segment: String(i) }));
  const alerting = isObj(doc.alerting) ? doc.alerting : undefined;
  const alertmanagers = Array.isArray(alerting?.alertmanagers) ? alerting.alertmanagers.filter(isObj) : [];
  alertmanagers.forEach((am, i) => holders.push({ holder: am, name: `alertmanager/${i}`, segment: `alerting/${i}` }));
  return holders;
}

function kubernetesSdEntries(job: Obj): Obj[] {
  const list = job.kubernetes_sd_configs;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new Error(`job "${String(job.job_name)}": kubernetes_sd_configs must be a list`);
  return list.filter(isObj);
}

function prepare(configYaml: string, opts: RewriteOptions): Obj {
  const doc = parseConfig(configYaml);
  mapServiceAccountFiles(doc, opts);
  if (opts.scrapeInterval) overrideIntervals(doc, opts.scrapeInterval);
  return doc;
}

/**
 * Points every `kubernetes_sd_configs` entry at the API server (`api_server`, `tls_config.ca_file`,
 * `authorization.credentials_file`), keeping role, namespaces and selectors. Pure.
 */
export function rewriteScrapeConfig(configYaml: string, opts: RewriteOptions): string {
  const doc = prepare(configYaml, opts);
  for (const { holder: job, name: jobName } of sdHolders(doc)) {
    for (const sd of kubernetesSdEntries(job)) {
      const names = resolveNamespaces(sd, opts.namespace, jobName);
      if (isObj(sd.namespaces)) {
        delete sd.namespaces.own_namespace;
        sd.namespaces.names = names;
      }
      for (const key of ['kubeconfig_file', 'bearer_token', 'bearer_token_file', 'basic_auth', 'oauth2']) delete sd[key];
      sd.api_server = opts.apiServerUrl;
      sd.tls_config = { ca_file: opts.caFile };
      sd.authorization = { type: 'Bearer', credentials_file: opts.tokenFile };
    }
  }
  return YAML.stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * Replaces every `kubernetes_sd_configs` entry with an `http_sd_configs` entry on `sdBaseUrl`
 * and returns what each one must discover. Pure.
 */
export function bridgeKubernetesSd(configYaml: string, opts: BridgeOptions): BridgedConfig {
  const doc = prepare(configYaml, opts);
  const base = opts.sdBaseUrl.replace(/\/+$/, '');
  const prefix = opts.pathPrefix ?? 'sd';
  const sources: BridgedConfig['sources'] = [];
  const written: BridgedEntry[] = [];
  sdHolders(doc).forEach(({ holder: job, name: jobName, segment }) => {
    const entries = kubernetesSdEntries(job);
    if (entries.length === 0) return;
    const httpSd = Array.isArray(job.http_sd_configs) ? job.http_sd_configs : [];
    entries.forEach((sd, sdIndex) => {
      const path = `/${prefix}/${segment}/${sdIndex}`;
      const selectors = Array.isArray(sd.selectors)
        ? sd.selectors.filter(isObj).map((s) => ({
            role: String(s.role),
            ...(s.label !== undefined ? { label: String(s.label) } : {}),
            ...(s.field !== undefined ? { field: String(s.field) } : {}),
          }))
        : [];
      sources.push({
        jobName,
        role: String(sd.role ?? ''),
        namespaces: resolveNamespaces(sd, opts.namespace, jobName),
        selectors,
        path,
      });
      written.push({ url: `${base}${path}`, index: sdIndex, entry: structuredClone(sd) });
      httpSd.push({ url: `${base}${path}`, refresh_interval: opts.refreshInterval ?? '1s' });
    });
    delete job.kubernetes_sd_configs;
    job.http_sd_configs = httpSd;
  });
  return { yaml: YAML.stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }), sources, entries: written };
}
