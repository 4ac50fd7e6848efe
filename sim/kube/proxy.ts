/**
 * The services/proxy and pods/proxy subresources: any method, the body and query string passed
 * through, the backend's answer returned unchanged. Like the real API server, the proxy drops the
 * `Authorization` header it authenticated the caller with, so it never reaches the backend.
 */
import http, { type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { KubeObject } from './view.js';
import type { ObjectStore } from './store.js';
import { badRequest, notFound, serviceUnavailable, type ApiError } from './status.js';
import { abortExchange, sendStatus } from './http-util.js';
import { podIP } from './pod-status.js';

export interface ProxyTarget {
  scheme: 'http' | 'https';
  address: string;
  port: number;
}

/** Headers that belong to one connection and are not forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `name`, `name:port` or `scheme:name:port`, as apimachinery's SplitSchemeNamePort reads it. */
function splitSchemeNamePort(id: string): { scheme: 'http' | 'https'; name: string; port: string } | undefined {
  const parts = id.split(':');
  if (parts.length > 3) return undefined;
  const [scheme, name, port] = parts.length === 3 ? parts : ['', parts[0], parts[1] ?? ''];
  if (!name || !['', 'http', 'https'].includes(scheme)) return undefined;
  return { scheme: (scheme || 'http') as 'http' | 'https', name, port };
}

interface EndpointSubset {
  addresses?: { ip: string }[];
  ports?: { name?: string; port: number }[];
}

/** Where a service proxy request goes: a ready endpoint of the Service, for the requested port. */
export function resolveServiceTarget(store: ObjectStore, namespace: string, id: string): ProxyTarget {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid service request "${id}"`);
  let portName = parsed.port;
  if (/^\d+$/.test(portName)) {
    const svc = store.get('Service', namespace, parsed.name);
    if (!svc) throw notFound('services', '', parsed.name);
    const ports = (svc.spec as { ports?: { name?: string; port: number }[] }).ports ?? [];
    const match = ports.find((p) => p.port === Number(portName));
    if (!match) throw serviceUnavailable(`no service port ${portName} found for service "${parsed.name}"`);
    portName = match.name ?? '';
  }
  const endpoints = store.get('Endpoints', namespace, parsed.name);
  if (!endpoints) throw notFound('endpoints', '', parsed.name);
  const subsets = (endpoints.subsets ?? []) as EndpointSubset[];
  if (subsets.length === 0) throw serviceUnavailable(`no endpoints available for service "${parsed.name}"`);
  for (const subset of subsets) {
    const port = subset.ports?.find((p) => (p.name ?? '') === portName);
    const addresses = subset.addresses ?? [];
    if (port && addresses.length > 0) {
      const pick = addresses[Math.floor(Math.random() * addresses.length)];
      return { scheme: parsed.scheme, address: pick.ip, port: port.port };
    }
  }
  throw serviceUnavailable(`no endpoints available for service "${id}"`);
}

function firstContainerPort(pod: KubeObject): number | undefined {
  const containers = (pod.spec as { containers?: { ports?: { containerPort: number }[] }[] }).containers ?? [];
  return containers.find((c) => c.ports?.length)?.ports?.[0].containerPort;
}

/** Where a pod proxy request goes: the pod's IP and the given (or first declared) port. */
export function resolvePodTarget(store: ObjectStore, namespace: string, id: string): ProxyTarget {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid pod request "${id}"`);
  const pod = store.get('Pod', namespace, parsed.name);
  if (!pod) throw notFound('pods', '', parsed.name);
  const ip = podIP(pod);
  if (!ip) throw badRequest(`pod ${parsed.name} does not have an IP address`);
  const port = parsed.port ? Number(parsed.port) : firstContainerPort(pod) ?? 80;
  if (!Number.isInteger(port)) throw badRequest(`invalid port "${parsed.port}"`);
  return { scheme: parsed.scheme, address: ip, port };
}

function forwardedHeaders(req: IncomingMessage, target: ProxyTarget): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    // An HTTP/2 request's pseudo-headers (`:method`, `:path`, `:authority`…) are not headers of
    // the HTTP/1.1 request to the backend (Go's reverse proxy builds that one from the request).
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'authorization' || name.startsWith(':')) continue;
    headers[name] = value;
  }
  headers.host = `${target.address}:${target.port}`;
  const client = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
  return headers;
}

/** The Go dial error a failed connection to the backend shows in the API server's answer. */
function dialError(err: NodeJS.ErrnoException, target: ProxyTarget): string {
  const where = `dial tcp ${target.address}:${target.port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${where}: connect: connection refused`;
    case 'ETIMEDOUT':
      return `${where}: i/o timeout`;
    case 'ECONNRESET':
      return `read tcp ${target.address}:${target.port}: read: connection reset by peer`;
    default:
      return `${where}: ${err.message}`;
  }
}

/** Forwards the request to `target` + `path` and streams the backend's answer back unchanged. */
export function forward(req: IncomingMessage, res: ServerResponse, target: ProxyTarget, path: string, search: string): void {
  const client = target.scheme === 'https' ? https : http;
  const upstream = client.request({
    host: target.address,
    port: target.port,
    method: req.method,
    path: `/${path}${search}`,
    headers: forwardedHeaders(req, target),
    rejectUnauthorized: false,
  });
  upstream.on('response', (answer) => {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    // HTTP/2 has no reason phrase (RFC 9113 §8.3.2): only an HTTP/1.1 answer carries the backend's.
    if (req.httpVersionMajor >= 2) res.writeHead(answer.statusCode ?? 502, headers);
    else res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
    answer.pipe(res);
    answer.on('error', () => abortExchange(res));
  });
  upstream.on('error', (err) => {
    if (res.headersSent) return void abortExchange(res);
    const error: ApiError = serviceUnavailable(`error trying to reach service: ${dialError(err, target)}`);
    sendStatus(res, error.status);
  });
  req.pipe(upstream);
}
