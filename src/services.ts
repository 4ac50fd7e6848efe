/**
 * Builds the Prometheus and Grafana clients for the chosen `access` mode, the stack that was
 * found, and the Grafana credentials. In `proxy` mode the API server strips `Authorization`, so
 * Grafana's authenticated API is reached with a login session (password) or, when only a token
 * is given, through a port-forward.
 */
import type { Cluster } from './cluster.js';
import { portForwardEndpoint, proxyEndpoint, urlEndpoint, type Endpoint } from './endpoint.js';
import { MfcError } from './errors.js';
import { GrafanaClient, type GrafanaAuth } from './grafana.js';
import { prefixed } from './paths.js';
import { PrometheusClient } from './prometheus.js';
import type { Found, GrafanaSite, PrometheusSite, Stack } from './stack/types.js';
import type { Settings } from './types.js';

export interface Services {
  readonly prometheus: PrometheusClient;
  readonly grafana: GrafanaClient;
  /** Closes port-forwards. */
  close(): Promise<void>;
}

/** Grafana credentials: the inputs, or what was read from the cluster (see credentials.ts). */
export interface GrafanaCredentials {
  readonly user: string;
  readonly password: string;
  readonly token: string;
}

export function connectServices(settings: Settings, stack: Stack, cluster: Cluster, credentials: GrafanaCredentials = inputCredentials(settings)): Services {
  const timeout = settings.requestTimeoutMs;
  const tokenOnly = Boolean(credentials.token) && !credentials.password;
  const prometheusEndpoint = prefixed(endpointFor(settings, stack.prometheus, cluster, settings.prometheusUrl, false, 'Prometheus'), pathOf(settings, settings.prometheusPath, stack.prometheus));
  const grafanaEndpoint = prefixed(endpointFor(settings, stack.grafana, cluster, settings.grafanaUrl, tokenOnly, 'Grafana'), pathOf(settings, settings.grafanaPath, stack.grafana));
  return {
    prometheus: new PrometheusClient(prometheusEndpoint),
    grafana: new GrafanaClient(grafanaEndpoint, grafanaAuth(credentials, grafanaEndpoint.mode === 'proxy')),
    close: async () => {
      await Promise.all([prometheusEndpoint.close(), grafanaEndpoint.close()]);
    },
  };

  function endpointFor(s: Settings, found: Found<PrometheusSite | GrafanaSite>, c: Cluster, url: string, forward: boolean, title: string): Endpoint {
    if (s.access === 'direct') return urlEndpoint(url, timeout);
    if (!found.ok) return missingEndpoint(`${title} was not found: ${found.problem.message}`, found.problem.hint);
    const site = found.value;
    if (!site.service.ok) return missingEndpoint(`${title} cannot be reached: ${site.service.problem.message}`, site.service.problem.hint);
    const svc = site.service.value;
    if (s.access === 'port-forward' || forward) return portForwardEndpoint(c, svc.namespace, svc, site.workload.selector, timeout);
    return proxyEndpoint(c, svc.namespace, svc);
  }
}

/**
 * The path prefix of a component's API: what discovery settled (the input, else the container's
 * flags or env). With `access: direct` the URL is the user's own (an ingress may map the prefix
 * away), so only the input applies there, after the URL's own path.
 */
function pathOf(settings: Settings, given: string | undefined, found: Found<{ readonly path?: string }>): string {
  if (settings.access === 'direct') return given ?? '';
  return (found.ok ? found.value.path : undefined) ?? given ?? '';
}

/** The credentials the inputs give. */
export function inputCredentials(s: Settings): GrafanaCredentials {
  return { user: s.grafanaUsername ?? 'admin', password: s.grafanaPassword, token: s.grafanaToken };
}

/** Only a Grafana token is given: through the service proxy it would be stripped, so Grafana is port-forwarded. */
export function grafanaTokenOnly(c: GrafanaCredentials): boolean {
  return Boolean(c.token) && !c.password;
}

/** An endpoint for a component discovery did not find: every request fails saying so. */
function missingEndpoint(message: string, hint: string): Endpoint {
  return {
    description: 'no endpoint (not found)',
    mode: 'proxy',
    request: async () => {
      throw new MfcError(message, hint);
    },
    close: async () => undefined,
  };
}

function grafanaAuth(c: GrafanaCredentials, throughProxy: boolean): GrafanaAuth {
  if (c.token && !throughProxy) return { kind: 'token', token: c.token };
  if (c.password) {
    return throughProxy ? { kind: 'session', user: c.user, password: c.password } : { kind: 'basic', user: c.user, password: c.password };
  }
  return { kind: 'none' };
}
