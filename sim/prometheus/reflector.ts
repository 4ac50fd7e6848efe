/**
 * The list-then-watch client of Prometheus 2.42's Kubernetes discovery (client-go v0.26.1's
 * Reflector behind a shared informer): lists a resource in one namespace (or all) with the
 * discovery's bearer token, then watches it from the list's resourceVersion, keeping a cache of
 * the objects. A failed list is logged with client-go's wording through klog, as Prometheus
 * writes it (`… reflector.go:169: failed to list *v1.Endpoints: endpoints is forbidden: …` and
 * `Failed to watch *v1.Endpoints: failed to list *v1.Endpoints: …`), and retried with client-go's
 * back-off (0.8 s doubling to 30 s, with jitter).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { ClusterAccess } from './config.js';
import { logfmt } from './logfmt.js';

/** The objects a reflector caches: anything with metadata. */
export interface KubeItem {
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** What is listed and watched: its URL path and its Go type name in log lines. */
export interface ReflectedResource {
  /** `/api/v1` or `/apis/discovery.k8s.io/v1`. */
  prefix: string;
  /** Plural resource name (`endpoints`, `endpointslices`, `services`, `pods`). */
  plural: string;
  /** How client-go names the type: `*v1.Endpoints`, `*v1.EndpointSlice`, `*v1.Service`, `*v1.Pod`. */
  typeName: string;
}

export const RESOURCES = {
  pods: { prefix: '/api/v1', plural: 'pods', typeName: '*v1.Pod' },
  services: { prefix: '/api/v1', plural: 'services', typeName: '*v1.Service' },
  endpoints: { prefix: '/api/v1', plural: 'endpoints', typeName: '*v1.Endpoints' },
  endpointslices: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', typeName: '*v1.EndpointSlice' },
} satisfies Record<string, ReflectedResource>;

export interface ReflectorOptions extends ClusterAccess {
  log(line: string): void;
}

const REFLECTOR = 'pkg/mod/k8s.io/client-go@v0.26.1/tools/cache/reflector.go:169';
export const USER_AGENT = 'Prometheus/2.42.0';
const INITIAL_BACKOFF_MS = 800;
const MAX_BACKOFF_MS = 30_000;

/** A failed request, with the message client-go would report. */
export class ApiError extends Error {}

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

export function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

/** Opens a GET request with the discovery's credentials; resolves once its status is 200. */
export async function openRequest(
  access: ClusterAccess,
  url: URL,
  accept: string,
  onRequest?: (req: http.ClientRequest) => void,
): Promise<http.IncomingMessage> {
  const token = (await readCredential(access.tokenFile)).toString('utf8').trim();
  const isHttps = url.protocol === 'https:';
  const ca = isHttps ? await readCredential(access.caFile) : undefined;
  return new Promise((resolve, reject) => {
    const req = (isHttps ? https : http).request(
      url,
      {
        method: 'GET',
        headers: { Accept: accept, Authorization: `Bearer ${token}`, 'User-Agent': USER_AGENT },
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
    onRequest?.(req);
    req.end();
  });
}

/** The initial list failed. */
class ListError extends Error {
  constructor(typeName: string, cause: Error) {
    super(`failed to list ${typeName}: ${cause.message}`);
  }
}

/** An established watch ended with an error (client-go lists again, logging a warning). */
class WatchEndedError extends Error {
  constructor(typeName: string, message: string) {
    super(`watch of ${typeName} ended with: ${message}`);
  }
}

function itemKey(item: KubeItem): string {
  return `${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
}

/** Sleeps that `stop()` can cut short. */
export class Sleeper {
  private wake?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  interrupt(): void {
    this.wake?.();
  }
}

/** List-then-watch of one resource in one namespace (or all), keeping a cache of the objects seen. */
export class Reflector<T extends KubeItem = KubeItem> {
  readonly items = new Map<string, T>();
  /** True once a list succeeded (the informer's HasSynced). */
  synced = false;
  /** Called after every change of the cache. */
  onChange?: () => void;
  private stopped = false;
  private current?: http.ClientRequest;
  private readonly sleeper = new Sleeper();

  constructor(
    private readonly opts: ReflectorOptions,
    private readonly resource: ReflectedResource,
    private readonly namespace: string | undefined,
    private readonly selector: { label?: string; field?: string } = {},
  ) {}

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
    this.sleeper.interrupt();
  }

  async run(): Promise<void> {
    let backoff = INITIAL_BACKOFF_MS;
    while (!this.stopped) {
      try {
        await this.listAndWatch(() => (backoff = INITIAL_BACKOFF_MS));
      } catch (err) {
        if (this.stopped) return;
        this.report(err as Error);
        await this.sleeper.sleep(backoff * (1 + Math.random()));
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
      if (Date.now() - started < 1000) await this.sleeper.sleep(1000);
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
    const type = this.resource.typeName;
    if (err instanceof ListError) {
      klog('warn', err.message);
      klog('error', `Failed to watch ${type}: ${err.message}`);
    } else if (err instanceof WatchEndedError) {
      klog('warn', err.message);
    } else {
      klog('error', `Failed to watch ${type}: ${err.message}`);
    }
  }

  private url(params: Record<string, string>): URL {
    const base = this.opts.apiServerUrl.replace(/\/+$/, '');
    const { prefix, plural } = this.resource;
    const path = this.namespace ? `${prefix}/namespaces/${encodeURIComponent(this.namespace)}/${plural}` : `${prefix}/${plural}`;
    const url = new URL(base + path);
    const query: Record<string, string> = { ...params };
    if (this.selector.label) query.labelSelector = this.selector.label;
    if (this.selector.field) query.fieldSelector = this.selector.field;
    for (const key of Object.keys(query).sort()) url.searchParams.set(key, query[key]!);
    return url;
  }

  private open(url: URL): Promise<http.IncomingMessage> {
    return openRequest(this.opts, url, 'application/vnd.kubernetes.protobuf, */*', (req) => (this.current = req));
  }

  /** Lists the objects, replaces the cache, returns the list's resourceVersion. */
  private async list(): Promise<string> {
    try {
      const res = await this.open(this.url({ limit: '500', resourceVersion: '0' }));
      const items: T[] = [];
      let list = JSON.parse(await readBody(res)) as { metadata?: { resourceVersion?: string; continue?: string }; items?: T[] };
      items.push(...(list.items ?? []));
      while (list.metadata?.continue) {
        const page = await this.open(this.url({ limit: '500', continue: list.metadata.continue }));
        list = JSON.parse(await readBody(page)) as typeof list;
        items.push(...(list.items ?? []));
      }
      this.items.clear();
      for (const item of items) this.items.set(itemKey(item), item);
      this.synced = true;
      this.onChange?.();
      return list.metadata?.resourceVersion ?? '';
    } catch (err) {
      throw new ListError(this.resource.typeName, err as Error);
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
    const type = this.resource.typeName;
    res.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const handle = (line: string): void => {
        if (!line.trim()) return;
        const event = JSON.parse(line) as { type: string; object: T & { code?: number; message?: string } };
        const object = event.object;
        switch (event.type) {
          case 'ADDED':
          case 'MODIFIED':
            this.items.set(itemKey(object), object);
            this.onChange?.();
            break;
          case 'DELETED':
            this.items.delete(itemKey(object));
            this.onChange?.();
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
            reject(new WatchEndedError(type, object.message ?? 'unknown error'));
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
      res.on('error', (err) => reject(new WatchEndedError(type, err.message)));
      res.on('close', () => resolve());
    });
    return expired ? undefined : last;
  }
}
