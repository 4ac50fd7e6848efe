/**
 * Builds the Prometheus and Grafana clients for the chosen `access` mode and Grafana credentials.
 * In `proxy` mode the API server strips `Authorization`, so Grafana's authenticated API is reached
 * with a login session (password) or, when only a token is given, through a port-forward.
 */
import type { Cluster } from './cluster.js';
import { portForwardEndpoint, proxyEndpoint, urlEndpoint, type Endpoint } from './endpoint.js';
import { GrafanaClient, type GrafanaAuth } from './grafana.js';
import { PrometheusClient } from './prometheus.js';
import type { Settings } from './types.js';

export interface Services {
  readonly prometheus: PrometheusClient;
  readonly grafana: GrafanaClient;
  /** Closes port-forwards. */
  close(): Promise<void>;
}

export function connectServices(settings: Settings, cluster: Cluster): Services {
  const ns = settings.namespace;
  const timeout = settings.requestTimeoutMs;
  const forward = (svc: Settings['grafanaService'], selector: string): Endpoint => portForwardEndpoint(cluster, ns, svc, selector, timeout);
  let prometheusEndpoint: Endpoint;
  let grafanaEndpoint: Endpoint;
  switch (settings.access) {
    case 'direct':
      prometheusEndpoint = urlEndpoint(settings.prometheusUrl, timeout);
      grafanaEndpoint = urlEndpoint(settings.grafanaUrl, timeout);
      break;
    case 'port-forward':
      prometheusEndpoint = forward(settings.prometheusService, settings.prometheusSelector);
      grafanaEndpoint = forward(settings.grafanaService, settings.grafanaSelector);
      break;
    case 'proxy':
      prometheusEndpoint = proxyEndpoint(cluster, ns, settings.prometheusService);
      grafanaEndpoint = grafanaTokenOnly(settings) ? forward(settings.grafanaService, settings.grafanaSelector) : proxyEndpoint(cluster, ns, settings.grafanaService);
      break;
  }
  return {
    prometheus: new PrometheusClient(prometheusEndpoint),
    grafana: new GrafanaClient(grafanaEndpoint, grafanaAuth(settings, grafanaEndpoint.mode === 'proxy')),
    close: async () => {
      await Promise.all([prometheusEndpoint.close(), grafanaEndpoint.close()]);
    },
  };
}

/** Only a Grafana token is given: through the service proxy it would be stripped, so Grafana is port-forwarded. */
export function grafanaTokenOnly(s: Settings): boolean {
  return Boolean(s.grafanaToken) && !s.grafanaPassword;
}

function grafanaAuth(s: Settings, throughProxy: boolean): GrafanaAuth {
  if (s.grafanaToken && !throughProxy) return { kind: 'token', token: s.grafanaToken };
  if (s.grafanaPassword) {
    return throughProxy ? { kind: 'session', user: s.grafanaUsername, password: s.grafanaPassword } : { kind: 'basic', user: s.grafanaUsername, password: s.grafanaPassword };
  }
  return { kind: 'none' };
}
