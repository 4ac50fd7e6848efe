/**
 * The Kubernetes Python client (kubernetes 32.x, CoreV1Api) as the k8s-sidecar uses it from
 * inside a pod: in-cluster credentials (the ServiceAccount token, the cluster CA), requests to
 * `https://10.96.0.1:443` (here the simulated API server), list with `limit`/`continue` paging and
 * watch streams (`watch=True`, `timeoutSeconds`). A non-2xx answer raises an ApiException whose
 * text is the client's (`(403)\nReason: Forbidden\nHTTP response headers: HTTPHeaderDict({…})\n
 * HTTP response body: b'…'\n`, kubernetes/client/exceptions.py); a refused connection is retried
 * as urllib3's Retry does, then raises MaxRetryError.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { httpHeaderDictRepr, pyBytesRepr, pyObjectAddress, type PyLogger } from './pylog.js';
import { RetryState, retryBackoffMs, type RetrySettings } from './retry.js';

/** Where the in-cluster configuration points (KUBERNETES_SERVICE_HOST/PORT of the default Service). */
export const IN_CLUSTER_HOST = '10.96.0.1';
export const IN_CLUSTER_PORT = 443;
const USER_AGENT = 'OpenAPI-Generator/32.0.1/python';

export type CoreResource = 'configmap' | 'secret';

/** What the client reads of a ConfigMap or Secret. */
export interface CoreObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  data?: Record<string, string> | null;
  binaryData?: Record<string, string> | null;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: CoreObject;
}

/** kubernetes.client.exceptions.ApiException. */
export class ApiException extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly rawHeaders?: readonly string[],
    readonly body?: Buffer,
  ) {
    super(ApiException.text(status, reason, rawHeaders, body));
  }

  private static text(status: number, reason: string, headers?: readonly string[], body?: Buffer): string {
    let text = `(${status})\nReason: ${reason}\n`;
    if (headers && headers.length > 0) text += `HTTP response headers: ${httpHeaderDictRepr(headers)}\n`;
    if (body && body.length > 0) text += `HTTP response body: ${pyBytesRepr(body)}\n`;
    return text;
  }
}

/** urllib3.exceptions.MaxRetryError, as raised through the Kubernetes client. */
export class MaxRetryError extends Error {}

export interface KubeClientOptions {
  /** The simulated API server's URL (`https://127.0.0.1:PORT`). */
  apiServerUrl: string;
  caPem: string;
  token: string;
  retry: RetrySettings;
  log: PyLogger;
  /** Aborts requests and sleeps when the process stops. */
  signal: AbortSignal;
}

function plural(resource: CoreResource): string {
  return resource === 'configmap' ? 'configmaps' : 'secrets';
}

/** `urlencode` of query parameters in the order the generated client adds them. */
function query(params: [string, string | number | undefined][]): string {
  const parts = params
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v)).replace(/%20/g, '+')}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export class KubeClient {
  constructor(private readonly options: KubeClientOptions) {}

  /** The path of a list or watch: namespaced, or cluster-wide for `ALL`. */
  private path(resource: CoreResource, namespace: string): string {
    return namespace === 'ALL' ? `/api/v1/${plural(resource)}` : `/api/v1/namespaces/${encodeURIComponent(namespace)}/${plural(resource)}`;
  }

  /** One page of list_namespaced_config_map / list_secret_for_all_namespaces etc. */
  async listPage(resource: CoreResource, namespace: string, labelSelector: string, limit: number, cont?: string) {
    const path = this.path(resource, namespace) + query([['continue', cont], ['labelSelector', labelSelector], ['limit', limit]]);
    const res = await this.request(path);
    const body = await readAll(res);
    if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) throw this.apiException(res, body);
    const list = JSON.parse(body.toString('utf8')) as { metadata?: { continue?: string }; items?: CoreObject[] };
    return { items: list.items ?? [], continue: list.metadata?.continue || undefined };
  }

  /** read_namespaced_config_map / read_namespaced_secret; undefined on 404. */
  async read(resource: CoreResource, namespace: string, name: string): Promise<CoreObject | undefined> {
    const res = await this.request(`${this.path(resource, namespace)}/${encodeURIComponent(name)}`);
    const body = await readAll(res);
    if (res.statusCode === 404) return undefined;
    if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) throw this.apiException(res, body);
    return JSON.parse(body.toString('utf8')) as CoreObject;
  }

  /**
   * A watch stream (`watch.Watch().stream(...)` with `timeout_seconds`): events until the server
   * ends it; an ERROR event raises ApiException(status=code, reason="Reason: message").
   */
  async *watch(resource: CoreResource, namespace: string, labelSelector: string, timeoutSeconds: number): AsyncGenerator<WatchEvent> {
    const path = this.path(resource, namespace) + query([['labelSelector', labelSelector], ['timeoutSeconds', timeoutSeconds], ['watch', 'True']]);
    const res = await this.request(path);
    if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) throw this.apiException(res, await readAll(res));
    let buffered = '';
    try {
      for await (const chunk of res) {
        buffered += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line) as { type: string; object: Record<string, unknown> };
          if (event.type === 'ERROR') {
            const status = event.object as { code?: number; reason?: string; message?: string };
            // A 410 Expired ends this stream; the caller starts a new one.
            if (status.code === 410) return;
            throw new ApiException(status.code ?? 500, `${status.reason}: ${status.message}`);
          }
          yield event as unknown as WatchEvent;
        }
      }
    } catch (error) {
      if (this.options.signal.aborted) return;
      throw error;
    } finally {
      res.destroy();
    }
  }

  private apiException(res: IncomingMessage, body: Buffer): ApiException {
    return new ApiException(res.statusCode ?? 0, res.statusMessage ?? '', res.rawHeaders, body);
  }

  /** A GET with urllib3's connect retries (Configuration.retries). */
  private async request(path: string): Promise<IncomingMessage> {
    const retry = new RetryState(this.options.retry);
    for (;;) {
      try {
        return await this.once(path);
      } catch (error) {
        if (this.options.signal.aborted) throw error;
        const reason = `NewConnectionError('<urllib3.connection.HTTPSConnection object at ${pyObjectAddress()}>: Failed to establish a new connection: [Errno 111] Connection refused')`;
        if (!retry.connectError()) {
          throw new MaxRetryError(
            `HTTPSConnectionPool(host='${IN_CLUSTER_HOST}', port=${IN_CLUSTER_PORT}): Max retries exceeded with url: ${path} (Caused by ${reason})`,
          );
        }
        await sleep(retryBackoffMs(this.options.retry, retry.errors), this.options.signal);
        this.options.log.warning(`Retrying (${retry.repr()}) after connection broken by '${reason}': ${path}`);
      }
    }
  }

  private once(path: string): Promise<IncomingMessage> {
    const base = new URL(this.options.apiServerUrl);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: base.hostname,
          port: base.port,
          path,
          method: 'GET',
          ca: this.options.caPem,
          headers: { Accept: 'application/json', 'User-Agent': USER_AGENT, authorization: `Bearer ${this.options.token}` },
          signal: this.options.signal,
          agent: false,
        },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
  }
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** Sleeps, or rejects as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
