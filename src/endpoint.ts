/**
 * How the action reaches an HTTP service in the cluster (Prometheus, Grafana): through the API
 * server's service proxy, through a port-forward to one of its pods, or directly at a URL.
 * All three answer the same `request`, so the API clients do not know which one they use, and
 * `close()` ends what the endpoint opened (a port-forward, its connection pool).
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import type { Cluster, PortForwardHandle } from './cluster.js';
import { MfcError } from './errors.js';
import { clip, HttpError, httpRequest, parseJson, trimTrailingSlashes, type HttpResponse } from './http.js';
import type { ServiceRef } from './types.js';

export interface EndpointRequest {
  readonly method: 'GET' | 'POST';
  /** Path with query string, starting with `/`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** Names the exchange in messages. */
  readonly what: string;
}

export interface Endpoint {
  /** e.g. `service taskflow/prometheus:9090 through the API server's service proxy`. */
  readonly description: string;
  readonly mode: 'proxy' | 'port-forward' | 'direct';
  request(req: EndpointRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** An HTTP answer that is not a success, with the server's own reason. */
export class HttpStatusError extends MfcError {
  override name = 'HttpStatusError';
  constructor(
    message: string,
    readonly status: number,
    /** True when the API server's proxy answered, not the service behind it. */
    readonly fromProxy: boolean,
    readonly body: string,
  ) {
    super(message);
  }
}

export function proxyEndpoint(cluster: Cluster, namespace: string, svc: ServiceRef): Endpoint {
  return {
    description: `service ${namespace}/${svc.name}:${svc.port} through the API server's service proxy`,
    mode: 'proxy',
    request: (req) => cluster.proxy(namespace, svc.name, svc.port, req),
    close: async () => undefined,
  };
}

/** Requests to a URL; with `dispatcher`, through that connection pool, which `close()` then destroys. */
export function urlEndpoint(baseUrl: string, timeoutMs: number, description = baseUrl, dispatcher?: Dispatcher): Endpoint {
  const base = trimTrailingSlashes(baseUrl);
  return {
    description,
    mode: 'direct',
    request: (req) =>
      httpRequest({ url: base + req.path, method: req.method, headers: req.headers, body: req.body, signal: req.signal, timeoutMs, what: req.what, dispatcher }),
    close: async () => {
      await dispatcher?.destroy().catch(() => undefined);
    },
  };
}

/**
 * A port-forward to the first Running and Ready pod behind the Service, opened on first use
 * (the Service's port is mapped to the pod's container port as kube-proxy would). Its requests
 * use their own connection pool; a request the tunnel broke fails with the tunnel's reason (the
 * kubelet's words), not a bare reset. `close()` ends the forward and the pool.
 */
export function portForwardEndpoint(cluster: Cluster, namespace: string, svc: ServiceRef, selector: string, timeoutMs: number): Endpoint {
  interface Opened {
    endpoint: Endpoint;
    forward: PortForwardHandle;
    close(): Promise<void>;
  }
  let opened: Promise<Opened> | undefined;
  let closed = false;
  const open = async (signal?: AbortSignal): Promise<Opened> => {
    const [service, pods] = await Promise.all([cluster.readService(namespace, svc.name, signal), cluster.listPods(namespace, selector, signal)]);
    if (!service) throw new MfcError(`service ${namespace}/${svc.name} does not exist, so there is nothing to port-forward to`);
    const pod = pods.find(isReady);
    if (!pod?.metadata?.name) throw new MfcError(`no Running and Ready pod matches ${selector} in ${namespace}, so there is nothing to port-forward to`);
    const port = containerPortFor(service, svc.port, pod);
    if (port === undefined) throw new MfcError(`service ${namespace}/${svc.name} has no port ${svc.port}`);
    const forward = await cluster.portForward(namespace, pod.metadata.name, port);
    if (closed) {
      await forward.close();
      throw new MfcError(`the port-forward to pod ${namespace}/${pod.metadata.name} was closed: the run is over`);
    }
    const endpoint = urlEndpoint(forward.url, timeoutMs, forward.url, new Agent());
    return {
      endpoint,
      forward,
      close: async () => {
        await Promise.all([endpoint.close(), forward.close()]);
      },
    };
  };
  return {
    description: `pod behind service ${namespace}/${svc.name}:${svc.port} through a port-forward`,
    mode: 'port-forward',
    async request(req) {
      opened ??= open(req.signal);
      const { endpoint, forward } = await opened.catch((err: unknown) => {
        opened = undefined;
        throw err;
      });
      const before = forward.failure?.();
      try {
        return await endpoint.request(req);
      } catch (err) {
        // A tunnel the kubelet ended (nothing listens on the pod's port) looks like a reset here.
        const failure = forward.failure?.();
        if (err instanceof HttpError && err.code !== 'ABORTED' && failure && failure !== before) throw failure;
        throw err;
      }
    },
    async close() {
      closed = true;
      const current = opened;
      opened = undefined;
      if (current) await current.then((o) => o.close()).catch(() => undefined);
    },
  };
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && Boolean(pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

/** The container port a Service port (number or name) forwards to on a given pod. */
export function containerPortFor(service: V1Service, port: string, pod: V1Pod): number | undefined {
  const sp = service.spec?.ports?.find((p) => String(p.port) === port || p.name === port);
  if (!sp) return undefined;
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number' || /^\d+$/.test(String(target))) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    const named = c.ports?.find((p) => p.name === target);
    if (named) return named.containerPort;
  }
  return undefined;
}

/**
 * Throws an HttpStatusError for a non-2xx answer, naming who answered: the API server's proxy
 * (a Kubernetes Status body: no endpoints, service not found) or the service itself.
 */
export function expectOk(res: HttpResponse, what: string): HttpResponse {
  if (res.status >= 200 && res.status < 300) return res;
  const status = kubeStatus(res);
  if (status) {
    throw new HttpStatusError(`${what}: the API server's service proxy answered HTTP ${res.status}: ${status}`, res.status, true, res.text);
  }
  throw new HttpStatusError(`${what}: HTTP ${res.status}${serverMessage(res)}`, res.status, false, res.text);
}

/** The `message` of a Kubernetes Status body, if the answer is one. */
function kubeStatus(res: HttpResponse): string | undefined {
  if (!res.text.includes('"Status"')) return undefined;
  try {
    const body = JSON.parse(res.text) as { kind?: unknown; message?: unknown };
    return body.kind === 'Status' && typeof body.message === 'string' ? body.message : undefined;
  } catch {
    return undefined;
  }
}

/** `: <message>` from a JSON error body (`message` for Grafana, `error` for Prometheus). */
function serverMessage(res: HttpResponse): string {
  try {
    const body = parseJson<Record<string, unknown>>(res, '');
    const msg = body.message ?? body.error;
    return typeof msg === 'string' && msg ? `: ${clip(msg, 300)}` : '';
  } catch {
    const text = res.text.trim();
    if (!text) return '';
    if (/^<(!doctype|html)/i.test(text)) {
      const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
      return ` (an HTML page${title ? ` "${clip(title, 80)}"` : ''}: a proxy or ingress answered, not the service)`;
    }
    return `: ${clip(text.replace(/\s+/g, ' '), 200)}`;
  }
}
