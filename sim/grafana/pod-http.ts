/**
 * HTTP from inside the Grafana pod, the way Go's net/http client would do it there: the URL's
 * host is resolved and routed by the cluster (`ClusterView.dial`), and failures come back with
 * Go's wording, e.g. `Post "http://prometheus:9090/api/v1/query": dial tcp: lookup prometheus on
 * 10.96.0.10:53: no such host`.
 */
import { STATUS_CODES } from 'node:http';
import { Agent, request } from 'undici';
import type { ClusterView } from '../kube/view.js';

export interface PodHttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

export interface PodHttpResponse {
  readonly status: number;
  /** Go's `Response.Status`, e.g. `503 Service Unavailable`. */
  readonly statusLine: string;
  readonly body: string;
}

export type PodHttpResult = { readonly response: PodHttpResponse } | { readonly error: string };

function goMethod(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}

/** The first `code` along an error's cause chain (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, …). */
function errorCode(error: unknown): string | undefined {
  let current = error as { code?: unknown; cause?: unknown } | null | undefined;
  while (typeof current === 'object' && current !== null) {
    if (typeof current.code === 'string') return current.code;
    current = current.cause as typeof current;
  }
  return undefined;
}

export class PodHttpClient {
  private readonly agent = new Agent({ keepAliveTimeout: 1000 });

  constructor(
    private readonly view: ClusterView,
    private readonly namespace: string,
    private readonly userAgent: string,
  ) {}

  async send(req: PodHttpRequest): Promise<PodHttpResult> {
    const fail = (reason: string): PodHttpResult => ({ error: `${goMethod(req.method)} "${req.url}": ${reason}` });
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail('unsupported protocol scheme ""');
    }
    if (url.protocol === 'https:') return fail('http: server gave HTTP response to HTTPS client');
    if (url.protocol !== 'http:') return fail(`unsupported protocol scheme "${url.protocol.slice(0, -1)}"`);

    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port === '' ? 80 : Number(url.port);
    const route = this.view.dial(host, port, this.namespace);
    if ('error' in route) return fail(route.error);

    try {
      return { response: await this.exchange(req, url, route.address, route.port) };
    } catch (error) {
      // The address a Go client reports is the one it dialled: the Service's clusterIP.
      const target = `${this.view.lookupHost(host, this.namespace)?.address ?? route.address}:${port}`;
      switch (errorCode(error)) {
        case 'ECONNREFUSED':
          return fail(`dial tcp ${target}: connect: connection refused`);
        case 'UND_ERR_HEADERS_TIMEOUT':
        case 'UND_ERR_BODY_TIMEOUT':
          return fail('context deadline exceeded (Client.Timeout exceeded while awaiting headers)');
        case 'ECONNRESET':
          return fail(`read tcp ${target}: read: connection reset by peer`);
        default:
          return fail('EOF');
      }
    }
  }

  private async exchange(req: PodHttpRequest, url: URL, address: string, port: number): Promise<PodHttpResponse> {
    const headers: Record<string, string> = { host: url.host, 'user-agent': this.userAgent, ...req.headers };
    if (req.body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
    const response = await request(`http://${address}:${port}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.body,
      dispatcher: this.agent,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const text = await response.body.text();
    const reason = STATUS_CODES[response.statusCode] ?? '';
    return { status: response.statusCode, statusLine: `${response.statusCode} ${reason}`.trim(), body: text };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
