/**
 * The proxy in front of the API server, chosen as kubectl chooses it: the cluster's `proxy-url`
 * when the kubeconfig sets one (client-go tools/clientcmd/client_config.go, ClientConfig), else
 * the environment as Go's net/http reads it (transport/cache.go uses http.ProxyFromEnvironment,
 * which is golang.org/x/net/http/httpproxy):
 *
 * - `HTTPS_PROXY` (else `https_proxy`) for an https:// server, `HTTP_PROXY` (else `http_proxy`)
 *   for an http:// one — an https server never falls back to HTTP_PROXY;
 * - a value without a scheme is `http://` + the value;
 * - `localhost` and loopback addresses are never proxied;
 * - `NO_PROXY` (else `no_proxy`): comma-separated `*`, IP addresses, CIDRs, domains (`foo.com`
 *   matches foo.com and its subdomains, `.foo.com` and `*.foo.com` only the subdomains), each
 *   optionally with a port (`foo.com:6443`, `10.0.0.1:443`, `[::1]:443`).
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { MfcError } from './errors.js';

export interface ChosenProxy {
  /** The proxy's URL (with any `user:password@` it carries). */
  readonly url: URL;
  /** Where it came from: `proxy-url`, `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`, `http_proxy`. */
  readonly from: string;
}

/** Proxy schemes client-go accepts in `proxy-url` (helpers.go parseProxyURL). */
const KUBECONFIG_SCHEMES = new Set(['http:', 'https:', 'socks5:']);
/** Proxy schemes Go's transport dials (net/http transport.go: http, https, socks5, socks5h). */
const ENV_SCHEMES = new Set(['http:', 'https:', 'socks5:', 'socks5h:']);

/** The cluster's `proxy-url`, validated as client-go does; undefined when empty. */
export function kubeconfigProxy(proxyUrl: string | undefined, cluster: string, source: string): ChosenProxy | undefined {
  if (!proxyUrl) return undefined;
  let url: URL;
  try {
    url = new URL(String(proxyUrl));
  } catch {
    throw new MfcError(`cluster "${cluster}" in ${source} has a proxy-url that is not a URL`);
  }
  if (!KUBECONFIG_SCHEMES.has(url.protocol)) {
    throw new MfcError(`cluster "${cluster}" in ${source} has a proxy-url with scheme "${url.protocol.replace(/:$/, '')}"; it must be http, https or socks5`);
  }
  return { url, from: 'proxy-url' };
}

/** The proxy the environment gives for requests to `target` (the API server URL), or undefined. */
export function environmentProxy(target: string, env: NodeJS.ProcessEnv): ChosenProxy | undefined {
  const request = new URL(target);
  const names = request.protocol === 'https:' ? ['HTTPS_PROXY', 'https_proxy'] : request.protocol === 'http:' ? ['HTTP_PROXY', 'http_proxy'] : [];
  const from = names.find((n) => env[n]);
  if (!from) return undefined;
  const url = parseProxy(env[from] as string, from);
  if (!url) return undefined;
  const host = hostnameOf(request);
  const port = request.port || (request.protocol === 'https:' ? '443' : '80');
  if (!useProxy(host, port, noProxyMatchers(env.NO_PROXY || env.no_proxy || ''))) return undefined;
  // httpproxy's proxyForURL: a CGI handler refuses HTTP_PROXY, which a client could set (golang.org/s/cgihttpproxy).
  if (request.protocol === 'http:' && env.REQUEST_METHOD) {
    throw new MfcError(`refusing to use ${from} in a CGI environment (REQUEST_METHOD is set); see golang.org/s/cgihttpproxy`);
  }
  return { url, from };
}

/** httpproxy's parseProxy: a URL, else `http://` + the value; unusable values are ignored as Go ignores them. */
function parseProxy(value: string, variable: string): URL | undefined {
  let url: URL | undefined;
  try {
    const parsed = new URL(value);
    if (parsed.host) url = parsed;
  } catch {
    // not a URL: try it as host[:port]
  }
  if (!url) {
    try {
      url = new URL(`http://${value}`);
    } catch {
      return undefined;
    }
  }
  if (!ENV_SCHEMES.has(url.protocol)) {
    throw new MfcError(`$${variable} names a proxy with scheme "${url.protocol.replace(/:$/, '')}"; Go's HTTP client (and kubectl) dial only http, https, socks5 and socks5h proxies`);
  }
  return url;
}

// ---- NO_PROXY ----------------------------------------------------------------------------

type Matcher =
  | { readonly kind: 'all' }
  | { readonly kind: 'cidr'; readonly net: Uint8Array; readonly bits: number }
  | { readonly kind: 'ip'; readonly ip: Uint8Array; readonly port: string }
  | { readonly kind: 'domain'; readonly host: string; readonly port: string; readonly matchHost: boolean };

/** httpproxy's config.init: NO_PROXY parsed into matchers; malformed entries are ignored. */
export function noProxyMatchers(noProxy: string): Matcher[] {
  const matchers: Matcher[] = [];
  for (const raw of noProxy.split(',')) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return [{ kind: 'all' }];
    const cidr = parseCidr(p);
    if (cidr) {
      matchers.push({ kind: 'cidr', ...cidr });
      continue;
    }
    const split = splitHostPort(p);
    let host = split ? split[0] : p;
    const port = split ? split[1] : '';
    if (split && !host) continue;
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const ip = parseIp(host);
    if (ip) {
      matchers.push({ kind: 'ip', ip, port });
      continue;
    }
    if (!host) continue;
    if (host.startsWith('*.')) host = host.slice(1);
    const matchHost = !host.startsWith('.');
    if (matchHost) host = `.${host}`;
    const ascii = domainToASCII(host.slice(1));
    if (ascii) host = `.${ascii}`;
    matchers.push({ kind: 'domain', host, port, matchHost });
  }
  return matchers;
}

/** httpproxy's useProxy: false for localhost, loopback addresses, and what NO_PROXY matches. */
export function useProxy(hostname: string, port: string, matchers: readonly Matcher[]): boolean {
  const host = hostname.trim().toLowerCase();
  if (host === 'localhost') return false;
  const ip = parseIp(host);
  if (ip && isLoopback(ip)) return false;
  for (const m of matchers) {
    switch (m.kind) {
      case 'all':
        return false;
      case 'cidr':
        // Go's IPNet.Contains: an IPv4 address only in an IPv4 network, an IPv6 one only in an IPv6 one.
        if (ip && isV4(ip) === isV4(m.net) && inNet(ip, m.net, m.bits)) return false;
        break;
      case 'ip':
        if (ip && equalBytes(ip, m.ip) && (m.port === '' || m.port === port)) return false;
        break;
      case 'domain':
        if (!ip && (host.endsWith(m.host) || (m.matchHost && host === m.host.slice(1))) && (m.port === '' || m.port === port)) return false;
        break;
    }
  }
  return true;
}

/** The URL's host without IPv6 brackets (Go's url.Hostname). */
function hostnameOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** Go's net.SplitHostPort, enough for NO_PROXY entries: undefined when there is no port part. */
function splitHostPort(text: string): [string, string] | undefined {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return undefined;
    const port = text.slice(end + 2);
    return port.includes(':') ? undefined : [text.slice(1, end), port];
  }
  const i = text.lastIndexOf(':');
  if (i < 0) return undefined;
  const host = text.slice(0, i);
  if (host.includes(':') || host.includes('[') || host.includes(']')) return undefined;
  return [host, text.slice(i + 1)];
}

function parseCidr(text: string): { net: Uint8Array; bits: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  const family = isIP(address);
  if (!family || !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = Number(prefix);
  if (bits > (family === 4 ? 32 : 128)) return undefined;
  const ip = parseIp(address) as Uint8Array;
  // An IPv4 network is held as IPv4-mapped IPv6, as Go's net.IP holds it.
  return { net: ip, bits: family === 4 ? bits + 96 : bits };
}

/** An IP address as 16 bytes (IPv4 as IPv4-mapped IPv6); undefined when it is not one. */
export function parseIp(text: string): Uint8Array | undefined {
  const family = isIP(text);
  if (family === 4) return mapped(text.split('.').map(Number));
  if (family !== 6) return undefined;
  const bytes = new Uint8Array(16);
  let head = text;
  let v4: number[] | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    v4 = text.slice(lastColon + 1).split('.').map(Number);
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const l = groups(left);
  const r = groups(right);
  const all = right === undefined ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (v4) bytes.set(v4, 12);
  return bytes;
}

function mapped(octets: number[]): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(octets, 12);
  return bytes;
}

function isV4(ip: Uint8Array): boolean {
  return ip.slice(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
}

/** Go's net.IP.IsLoopback: 127.0.0.0/8 (IPv4-mapped too) and ::1. */
function isLoopback(ip: Uint8Array): boolean {
  if (isV4(ip)) return ip[12] === 127;
  return ip.slice(0, 15).every((b) => b === 0) && ip[15] === 1;
}

function inNet(ip: Uint8Array, net: Uint8Array, bits: number): boolean {
  for (let i = 0; i < 16; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) return true;
    const mask = (0xff << (8 - take)) & 0xff;
    if (((ip[i] as number) & mask) !== ((net[i] as number) & mask)) return false;
  }
  return true;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
