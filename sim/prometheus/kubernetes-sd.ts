/**
 * Kubernetes pod discovery with the behaviour of Prometheus 2.42's `kubernetes_sd_configs`
 * (role: pod): list then watch pods through the API server with a bearer token, and turn each
 * pod into targets carrying the same `__meta_kubernetes_*` labels. Failures are logged with the
 * client-go reflector's wording (`Failed to watch *v1.Pod: failed to list *v1.Pod: …`) and
 * retried with a growing back-off, as Prometheus does.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { ClusterAccess, PodSelector } from './config.js';
import { logfmt } from './logfmt.js';

/** One target group in the HTTP service-discovery format. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

interface Container {
  name?: string;
  image?: string;
  ports?: Array<{ containerPort?: number; name?: string; protocol?: string }>;
}

/** The parts of a Pod object that discovery reads. */
export interface PodObject {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }>;
    resourceVersion?: string;
  };
  spec?: { nodeName?: string; containers?: Container[]; initContainers?: Container[] };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: Array<{ type?: string; status?: string }>;
  };
}

const META = '__meta_kubernetes_';

/** Prometheus's strutil.SanitizeLabelName. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function podReady(pod: PodObject): string {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return (ready?.status ?? 'Unknown').toLowerCase();
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Labels shared by all targets of a pod. */
function podLabels(pod: PodObject): Record<string, string> {
  const meta = pod.metadata;
  const labels: Record<string, string> = {
    [`${META}namespace`]: meta.namespace ?? '',
    [`${META}pod_name`]: meta.name,
    [`${META}pod_ip`]: pod.status?.podIP ?? '',
    [`${META}pod_ready`]: podReady(pod),
    [`${META}pod_phase`]: pod.status?.phase ?? '',
    [`${META}pod_node_name`]: pod.spec?.nodeName ?? '',
    [`${META}pod_host_ip`]: pod.status?.hostIP ?? '',
    [`${META}pod_uid`]: meta.uid ?? '',
  };
  const controller = meta.ownerReferences?.find((ref) => ref.controller === true);
  if (controller?.kind) labels[`${META}pod_controller_kind`] = controller.kind;
  if (controller?.name) labels[`${META}pod_controller_name`] = controller.name;
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    const name = sanitizeLabelName(key);
    labels[`${META}pod_label_${name}`] = value;
    labels[`${META}pod_labelpresent_${name}`] = 'true';
  }
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    const name = sanitizeLabelName(key);
    labels[`${META}pod_annotation_${name}`] = value;
    labels[`${META}pod_annotationpresent_${name}`] = 'true';
  }
  return labels;
}

/**
 * The targets of one pod: one per container port (`podIP:port`), or one per container without
 * ports (`podIP`). A pod without an IP yet has none. Each group holds a single target.
 */
export function podTargetGroups(pod: PodObject): TargetGroup[] {
  const ip = pod.status?.podIP;
  if (!ip) return [];
  const shared = podLabels(pod);
  const containers = pod.spec?.containers ?? [];
  const all = [...containers, ...(pod.spec?.initContainers ?? [])];
  const groups: TargetGroup[] = [];
  all.forEach((container, i) => {
    const base = {
      ...shared,
      [`${META}pod_container_name`]: container.name ?? '',
      [`${META}pod_container_image`]: container.image ?? '',
      [`${META}pod_container_init`]: String(i >= containers.length),
    };
    const ports = container.ports ?? [];
    if (ports.length === 0) {
      groups.push({ targets: [ip], labels: base });
      return;
    }
    for (const port of ports) {
      const number = String(port.containerPort ?? 0);
      groups.push({
        targets: [joinHostPort(ip, number)],
        labels: {
          ...base,
          [`${META}pod_container_port_number`]: number,
          [`${META}pod_container_port_name`]: port.name ?? '',
          [`${META}pod_container_port_protocol`]: port.protocol ?? 'TCP',
        },
      });
    }
  });
  return groups;
}

export interface PodDiscoveryOptions extends ClusterAccess {
  /** Namespaces to watch; empty: all namespaces. */
  namespaces: string[];
  selectors?: PodSelector[];
  /** Receives each log line. */
  log(line: string): void;
}

const REFLECTOR = 'pkg/mod/k8s.io/client-go@v0.26.1/tools/cache/reflector.go:169';
const USER_AGENT = 'Prometheus/2.42.0';
const INITIAL_BACKOFF_MS = 800;
const MAX_BACKOFF_MS = 30_000;

/** A failed request, with the message client-go would report. */
class ApiError extends Error {}

/** The message client-go would give for a failed request. */
function describeNetworkError(err: NodeJS.ErrnoException, method: string, url: URL): string {
  const prefix = `${method === 'GET' ? 'Get' : method} "${url.toString()}"`;
  const hostPort = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${prefix}: dial tcp ${hostPort}: connect: connection refused`;
    case 'ECONNRESET':
      return `${prefix}: read tcp ${hostPort}: read: connection reset by peer`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `${prefix}: x509: certificate signed by unknown authority`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `${prefix}: x509: certificate is not valid for ${url.hostname}`;
    default:
      return `${prefix}: ${err.message}`;
  }
}

function statusMessage(code: number, body: string): string {
  try {
    const status = JSON.parse(body) as { kind?: string; message?: string };
    if (status.kind === 'Status' && status.message) return status.message;
  } catch {
    // not a Status object
  }
  if (code === 401) return 'Unauthorized';
  if (code === 403) return 'Forbidden';
  if (code === 404) return 'the server could not find the requested resource';
  return `the server responded with the status code ${code} but did not return more information`;
}

/** Reads the token or CA file, failing as a Go program would (`open <path>: no such file or directory`). */
async function readCredential(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new ApiError(`open ${path}: ${reason}`);
  }
}

/** List-then-watch of pods in one namespace (or all), keeping a cache of the pods seen. */
class PodReflector {
  readonly pods = new Map<string, PodObject>();
  private stopped = false;
  private current?: http.ClientRequest;
  private wake?: () => void;

  constructor(
    private readonly opts: PodDiscoveryOptions,
    private readonly namespace: string | undefined,
  ) {}

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
    this.wake?.();
  }

  async run(): Promise<void> {
    let backoff = INITIAL_BACKOFF_MS;
    while (!this.stopped) {
      try {
        await this.listAndWatch(() => (backoff = INITIAL_BACKOFF_MS));
      } catch (err) {
        if (this.stopped) return;
        this.report(err as Error);
        await this.sleep(backoff * (1 + Math.random()));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Lists, then watches until the resourceVersion expires (resolves: list again) or an error. */
  private async listAndWatch(onListed: () => void): Promise<void> {
    let resourceVersion = await this.list();
    onListed();
    while (!this.stopped) {
      const started = Date.now();
      const next = await this.watch(resourceVersion);
      if (next === undefined) return;
      resourceVersion = next;
      // A server ending watches at once must not be polled in a tight loop.
      if (Date.now() - started < 1000) await this.sleep(1000);
    }
  }

  private report(err: Error): void {
    const klog = (level: 'warn' | 'error', msg: string) =>
      this.opts.log(
        logfmt(level === 'warn' ? 'klog.go:108' : 'klog.go:116', level, {
          component: 'k8s_client_runtime',
          func: level === 'warn' ? 'Warningf' : 'ErrorDepth',
          msg: `${REFLECTOR}: ${msg}`,
        }),
      );
    if (err instanceof ListError) {
      klog('warn', err.message);
      klog('error', `Failed to watch *v1.Pod: ${err.message}`);
    } else if (err instanceof WatchEndedError) {
      klog('warn', err.message);
    } else {
      klog('error', `Failed to watch *v1.Pod: ${err.message}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private url(params: Record<string, string>): URL {
    const base = this.opts.apiServerUrl.replace(/\/+$/, '');
    const path = this.namespace ? `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods` : '/api/v1/pods';
    const url = new URL(base + path);
    const query: Record<string, string> = { ...params };
    const selectors = (this.opts.selectors ?? []).filter((s) => s.role === 'pod');
    const label = selectors.map((s) => s.label).filter(Boolean).join(',');
    const field = selectors.map((s) => s.field).filter(Boolean).join(',');
    if (label) query.labelSelector = label;
    if (field) query.fieldSelector = field;
    for (const key of Object.keys(query).sort()) url.searchParams.set(key, query[key]!);
    return url;
  }

  /** Opens a GET request; resolves with the response once its status is 200. */
  private async open(url: URL): Promise<http.IncomingMessage> {
    const token = (await readCredential(this.opts.tokenFile)).toString('utf8').trim();
    const isHttps = url.protocol === 'https:';
    const ca = isHttps ? await readCredential(this.opts.caFile) : undefined;
    return new Promise((resolve, reject) => {
      const req = (isHttps ? https : http).request(
        url,
        {
          method: 'GET',
          headers: {
            Accept: 'application/vnd.kubernetes.protobuf, */*',
            Authorization: `Bearer ${token}`,
            'User-Agent': USER_AGENT,
          },
          ...(isHttps ? { ca, agent: false as const } : { agent: false as const }),
        },
        (res) => {
          if (res.statusCode === 200) {
            resolve(res);
            return;
          }
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => reject(new ApiError(statusMessage(res.statusCode ?? 0, body))));
          res.on('error', (err) => reject(new ApiError(describeNetworkError(err, 'GET', url))));
        },
      );
      req.on('error', (err) => reject(new ApiError(describeNetworkError(err, 'GET', url))));
      // A long-running watch never keeps the caller alive by itself.
      req.on('socket', (socket) => socket.unref());
      this.current = req;
      req.end();
    });
  }

  /** Lists the pods, replaces the cache, returns the list's resourceVersion. */
  private async list(): Promise<string> {
    try {
      const res = await this.open(this.url({ limit: '500', resourceVersion: '0' }));
      const items: PodObject[] = [];
      let body = await readBody(res);
      let list = JSON.parse(body) as { metadata?: { resourceVersion?: string; continue?: string }; items?: PodObject[] };
      items.push(...(list.items ?? []));
      while (list.metadata?.continue) {
        const page = await this.open(this.url({ limit: '500', continue: list.metadata.continue }));
        body = await readBody(page);
        list = JSON.parse(body) as typeof list;
        items.push(...(list.items ?? []));
      }
      this.pods.clear();
      for (const pod of items) this.pods.set(podKey(pod), pod);
      return list.metadata?.resourceVersion ?? '';
    } catch (err) {
      throw new ListError(err as Error);
    }
  }

  /**
   * Watches from `resourceVersion`, applying events to the cache. Resolves with the last
   * resourceVersion when the server ends the stream, or undefined when it has expired.
   */
  private async watch(resourceVersion: string): Promise<string | undefined> {
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const res = await this.open(
      this.url({
        allowWatchBookmarks: 'true',
        resourceVersion,
        timeout: `${Math.floor(timeoutSeconds / 60)}m${timeoutSeconds % 60}s`,
        timeoutSeconds: String(timeoutSeconds),
        watch: 'true',
      }),
    );
    let last = resourceVersion;
    let expired = false;
    let buffered = '';
    res.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const handle = (line: string): void => {
        if (!line.trim()) return;
        const event = JSON.parse(line) as { type: string; object: PodObject & { code?: number; message?: string } };
        const object = event.object;
        switch (event.type) {
          case 'ADDED':
          case 'MODIFIED':
            this.pods.set(podKey(object), object);
            break;
          case 'DELETED':
            this.pods.delete(podKey(object));
            break;
          case 'BOOKMARK':
            break;
          case 'ERROR':
            if (object.code === 410) {
              expired = true;
              res.destroy();
              resolve();
              return;
            }
            res.destroy();
            reject(new WatchEndedError(object.message ?? 'unknown error'));
            return;
        }
        if (object.metadata?.resourceVersion) last = object.metadata.resourceVersion;
      };
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          try {
            handle(line);
          } catch (err) {
            res.destroy();
            reject(err as Error);
            return;
          }
        }
      });
      res.on('end', () => {
        try {
          handle(buffered);
        } catch (err) {
          reject(err as Error);
          return;
        }
        resolve();
      });
      res.on('error', (err) => reject(new WatchEndedError(err.message)));
      res.on('close', () => resolve());
    });
    return expired ? undefined : last;
  }
}

/** The initial list failed. */
class ListError extends Error {
  constructor(cause: Error) {
    super(`failed to list *v1.Pod: ${cause.message}`);
  }
}

/** An established watch ended with an error (client-go lists again, logging a warning). */
class WatchEndedError extends Error {
  constructor(message: string) {
    super(`watch of *v1.Pod ended with: ${message}`);
  }
}

function podKey(pod: PodObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

/** Pod discovery for one `kubernetes_sd_configs` entry (role: pod). */
export class PodDiscovery {
  private readonly reflectors: PodReflector[];

  constructor(opts: PodDiscoveryOptions) {
    const namespaces = opts.namespaces.length > 0 ? opts.namespaces : [undefined];
    this.reflectors = namespaces.map((ns) => new PodReflector(opts, ns));
  }

  start(): void {
    for (const reflector of this.reflectors) void reflector.run();
  }

  stop(): void {
    for (const reflector of this.reflectors) reflector.stop();
  }

  /** Current targets, one group per target, ordered by pod. */
  targetGroups(): TargetGroup[] {
    const pods = this.reflectors.flatMap((r) => [...r.pods.values()]);
    pods.sort((a, b) => podKey(a).localeCompare(podKey(b)));
    return pods.flatMap(podTargetGroups);
  }
}
