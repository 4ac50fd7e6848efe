/**
 * Path prefixes: where Prometheus and Grafana serve their HTTP APIs when not at the root, read
 * from their containers as the servers themselves read their configuration.
 *
 * - Prometheus: `--web.route-prefix`, else the path of `--web.external-url`, made `/` + the path
 *   trimmed of slashes (cmd/prometheus/main.go of v2.42.0); the router then serves only under it
 *   and answers `/` with a redirect to it (web/web.go, New).
 * - Grafana: with `serve_from_sub_path` true, the path of `root_url` without its trailing slash
 *   (pkg/setting/setting.go, parseAppUrlAndSubUrl), from the `GF_SERVER_SERVE_FROM_SUB_PATH` and
 *   `GF_SERVER_ROOT_URL` environment overrides; grafana.ini in a ConfigMap is not read.
 *
 * `prefixed` wraps an endpoint so that every request path carries the prefix, whichever way the
 * service is reached (service proxy, port-forward, URL).
 */
import type { V1Container } from '@kubernetes/client-node';
import type { Endpoint } from './endpoint.js';
import { SettingsError } from './errors.js';
import { parsePathPrefix } from './settings.js';

export interface FoundPath {
  /** `/prometheus`; `''`: the root. */
  readonly path: string;
  /** What it was read from: `--web.route-prefix=/prometheus`. */
  readonly from: string;
}

/** Prometheus's route prefix from its container's flags; undefined when no flag sets one. */
export function prometheusPathOf(container: V1Container | undefined): FoundPath | undefined {
  const args = [...(container?.command ?? []), ...(container?.args ?? [])];
  const prefix = flagValue(args, 'web.route-prefix');
  if (prefix !== undefined) return normalized(prefix, `--web.route-prefix=${prefix}`);
  const external = flagValue(args, 'web.external-url');
  if (external !== undefined) return normalized(pathOfUrl(external), `the path of --web.external-url=${external}`);
  return undefined;
}

/** Grafana's sub-path from its container's environment; `unknown` when it serves from one its env does not name. */
export function grafanaPathOf(container: V1Container | undefined): FoundPath | { readonly unknown: string } | undefined {
  const env = container?.env ?? [];
  const subPath = env.find((e) => e.name === 'GF_SERVER_SERVE_FROM_SUB_PATH');
  if (!subPath || !isTrue(subPath.value)) return undefined;
  const root = env.find((e) => e.name === 'GF_SERVER_ROOT_URL');
  if (!root?.value) return { unknown: 'GF_SERVER_SERVE_FROM_SUB_PATH is true but GF_SERVER_ROOT_URL is not given literally in its env' };
  return normalized(pathOfUrl(root.value), `GF_SERVER_ROOT_URL=${root.value} with GF_SERVER_SERVE_FROM_SUB_PATH=true`);
}

/** `prefix` + `path` (path starts with `/`): the request path an endpoint is asked for. */
export function withPrefix(prefix: string, path: string): string {
  return prefix ? `${prefix}${path}` : path;
}

/** An endpoint that puts a path prefix before every request path. */
export interface PrefixedEndpoint extends Endpoint {
  readonly prefix: string;
}

/**
 * The endpoint with every request path under `prefix` (`/prometheus/api/v1/targets`), whichever
 * way it reaches the service: the service proxy, a port-forward, or a URL.
 */
export function prefixed(endpoint: Endpoint, prefix: string): Endpoint {
  if (!prefix) return endpoint;
  const wrapped: PrefixedEndpoint = {
    description: `${endpoint.description}, under ${prefix}`,
    mode: endpoint.mode,
    prefix,
    request: (req) => endpoint.request({ ...req, path: withPrefix(prefix, req.path) }),
    close: () => endpoint.close(),
  };
  return wrapped;
}

/** The path prefix an endpoint puts before every request (`''`: none). */
export function prefixOf(endpoint: Endpoint): string {
  return 'prefix' in endpoint && typeof endpoint.prefix === 'string' ? endpoint.prefix : '';
}

/** The value of a kingpin flag, `--name=value` or `--name value` (the last one given). */
function flagValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    else if (arg === `--${name}` && i + 1 < args.length) value = args[++i];
  }
  return value;
}

/** The path of a URL (`http://host:9090/prometheus/` → `/prometheus/`), or the text itself when it has no scheme and host. */
function pathOfUrl(text: string): string {
  const rest = text.replace(/^[A-Za-z%][^:/?#]*:\/\/[^/?#]*/, '');
  return rest.split(/[?#]/)[0] ?? '';
}

/** The prefix as the inputs take it; undefined for what cannot be one (a `$(VAR)` the kubelet expands, odd characters). */
function normalized(raw: string, from: string): FoundPath | undefined {
  if (raw.includes('$(')) return undefined;
  try {
    return { path: parsePathPrefix(raw, 'path'), from };
  } catch (err) {
    if (err instanceof SettingsError) return undefined;
    throw err;
  }
}

/** go-ini's boolean (Key.MustBool): 1, t, true, yes, y, on in any case. */
function isTrue(value: string | undefined): boolean {
  return ['1', 't', 'true', 'yes', 'y', 'on'].includes((value ?? '').trim().toLowerCase());
}
