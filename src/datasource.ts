/**
 * Grafana datasource provisioning files (what the ConfigMap holds) and datasource URLs (which
 * Service and port they point at, as the cluster's DNS would resolve them from Grafana's pod).
 */
import { trimTrailingSlashes } from './http.js';
import { parseAllDocuments } from 'yaml';

export interface ProvisionedDatasource {
  readonly name: string;
  readonly type: string;
  readonly url: string;
  readonly access: string;
  readonly isDefault: boolean;
  /** `editable: true`: Grafana lets its UI change it, and lists it with readOnly false. */
  readonly editable?: boolean;
  /** The ConfigMap key (file name) it came from. */
  readonly file: string;
}

export interface ProvisioningFile {
  readonly file: string;
  readonly datasources: readonly ProvisionedDatasource[];
  /** Why the file is not a usable provisioning file, if it is not. */
  readonly error?: string;
}

/**
 * Parses every `.yaml`/`.yml` key of a ConfigMap's data as a Grafana provisioning file. Grafana
 * allows one default datasource per organization across all files: files that together mark
 * more than one are all in error, as Grafana then provisions none of them.
 */
export function parseProvisioning(data: Readonly<Record<string, string>>): ProvisioningFile[] {
  const files = Object.entries(data)
    .filter(([key]) => /\.ya?ml$/i.test(key))
    .map(([file, text]) => parseFile(file, text));
  const defaults = files.flatMap((f) => f.datasources.filter((d) => d.isDefault));
  if (defaults.length <= 1) return files;
  const error = `${defaults.length} datasources are marked isDefault (${defaults.map((d) => `"${d.name}" in ${d.file}`).join(', ')}); Grafana provisions none of them: only one default datasource per organization`;
  return files.map((f) => (f.error || !f.datasources.some((d) => d.isDefault) ? f : { ...f, error }));
}

function parseFile(file: string, text: string): ProvisioningFile {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const first = list[0];
  if (!first || first.errors.length) {
    const err = first?.errors[0];
    const line = err?.linePos?.[0]?.line;
    return { file, datasources: [], error: `${file} is not valid YAML${line ? ` (line ${line})` : ''}` };
  }
  let doc: unknown;
  try {
    doc = first.toJS();
  } catch (err) {
    // Anchors that expand exponentially ("Excessive alias count"): Grafana refuses them too.
    return { file, datasources: [], error: `${file} is not usable YAML (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!isRecord(doc) || !Array.isArray(doc.datasources)) {
    return { file, datasources: [], error: `${file} has no \`datasources:\` list` };
  }
  const datasources = doc.datasources.filter(isRecord).map((d) => ({
    name: str(d.name),
    type: str(d.type),
    url: str(d.url),
    access: str(d.access) || 'proxy',
    isDefault: d.isDefault === true,
    editable: d.editable === true,
    file,
  }));
  return { file, datasources };
}

/** Where a datasource URL points inside the cluster. */
export interface ServiceTarget {
  readonly service: string;
  readonly namespace: string;
  readonly port: number;
}

/**
 * Resolves `http://svc[.ns[.svc[.cluster.local]]]:port` as cluster DNS would from a pod in
 * `fromNamespace`. Undefined for hosts that are not a Service name (IPs, external names).
 */
export function serviceTargetOf(url: string, fromNamespace: string): ServiceTarget | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const labels = parsed.hostname.toLowerCase().split('.');
  if (!labels[0] || /^\d+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  const [service, namespace, svc] = labels as [string, string?, string?];
  if (!namespace) return { service, namespace: fromNamespace, port };
  if (labels.length === 2 || svc === 'svc') return { service, namespace, port };
  return undefined;
}

/**
 * Compares datasource URLs by where they lead from a pod in `namespace`: the same scheme, path
 * and Service (so `http://prometheus:9090` and `http://prometheus.taskflow.svc.cluster.local:9090`
 * are the same from taskflow), or else the same scheme, host, port and path.
 */
export function sameUrl(a: string, b: string, namespace: string): boolean {
  if (normalizeUrl(a) === normalizeUrl(b)) return true;
  const [ta, tb] = [serviceTargetOf(a, namespace), serviceTargetOf(b, namespace)];
  if (!ta || !tb) return false;
  const rest = (u: string) => normalizeUrl(u).replace(/\/\/[^/]+/, '//');
  return ta.service === tb.service && ta.namespace === tb.namespace && ta.port === tb.port && rest(a) === rest(b);
}

function normalizeUrl(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${u.protocol}//${u.hostname.toLowerCase()}:${port}${trimTrailingSlashes(u.pathname)}`;
  } catch {
    return trimTrailingSlashes(url.trim());
  }
}


function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A scalar field as text; a list or mapping where text belongs reads as empty. */
function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return '';
}
