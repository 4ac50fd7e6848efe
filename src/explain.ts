/**
 * Hints for errors that end a check attempt (refusals, unreachable services, bad answers):
 * what is likely wrong and what to do, from who answered and how. Errors that carry their own
 * hint (RBAC refusals, Grafana credentials) keep it.
 */
import { KubeError } from './cluster.js';
import type { MfcError } from './errors.js';
import { HttpStatusError } from './endpoint.js';
import { GrafanaAuthError } from './grafana.js';
import { CUT_SHORT, DEFAULT_MAX_BYTES, HttpError } from './http.js';
import type { Reason } from './reasons.js';
import type { CheckId } from './types.js';

export interface Explanation {
  readonly hint?: string;
  /** False when waiting cannot help: refused credentials or permissions. */
  readonly retryable: boolean;
  readonly reason: Reason;
}

export function explain(id: CheckId, err: MfcError): Explanation {
  if (err instanceof GrafanaAuthError) {
    const status = err.status === 403 ? 403 : 401;
    return { hint: err.hint, retryable: false, reason: { code: 'grafana.auth', status, message: err.grafanaMessage, ...(err.basicAuthIgnored ? { basicAuthIgnored: true } : {}) } };
  }
  // Waiting cannot fix refused credentials or permissions, nor an API server certificate the kubeconfig does not trust.
  if (err instanceof KubeError) {
    return { hint: err.hint ?? kubeHint(err), retryable: err.status !== 401 && err.status !== 403 && err.reason !== 'TLSError', reason: { code: err.reason === 'Timeout' ? 'error.timeout' : 'error.kube', status: err.status, reason: err.reason } as Reason };
  }
  const service = id.startsWith('prometheus') ? 'Prometheus' : 'Grafana';
  const input = service === 'Prometheus' ? 'prometheus-service' : 'grafana-service';
  if (err instanceof HttpStatusError && err.fromProxy) return { hint: proxyHint(err, service, input), retryable: true, reason: { code: 'error.proxy', status: err.status, message: err.message } };
  // A 404 is about the path (a prefix, the port), even as an HTML page: Grafana renders its index page for paths it does not route.
  if (err instanceof HttpStatusError) return { hint: err.hint ?? (isHtml(err.body) && err.status !== 404 ? htmlHint(service) : statusHint(err.status, service)), retryable: true, reason: { code: 'error.http', status: err.status } };
  if (err instanceof HttpError) return { hint: networkHint(err, service), retryable: true, reason: err.code === 'TIMEOUT' ? { code: 'error.timeout' } : { code: 'error.network', network: err.code } };
  return { hint: err.hint ?? `${service} answered something unexpected: check that the ${input} input names ${service}'s HTTP port.`, retryable: true, reason: { code: 'error.other' } };
}

function kubeHint(err: KubeError): string | undefined {
  if (err.reason === 'Timeout') return 'The API server is slow or overloaded; raise request-timeout if this cluster is always slow.';
  if (err.status >= 500) return 'The API server, or a proxy or load balancer in front of it, failed to answer: retry; if it persists, check the control plane\'s health.';
  return undefined;
}

function proxyHint(err: HttpStatusError, service: string, input: string): string {
  const text = err.message;
  if (/no endpoints available/.test(text)) return `The ${service} Service has no ready pod behind it: check that the ${service} pod is Running and Ready and matches the Service's selector.`;
  if (/not found/.test(text)) return `The Service named by the ${input} input does not exist in this namespace, or has no such port.`;
  if (/no service port/.test(text)) return `The Service has no such port: fix the ${input} input (name:port).`;
  if (/error trying to reach service/.test(text)) return `The API server reached the ${service} pod's address but nothing answered on the target port: check the Service's targetPort against the container port.`;
  return `The API server's proxy could not reach ${service}: check the ${input} input and the Service.`;
}

function isHtml(body: string): boolean {
  return /^\s*<(!doctype|html)/i.test(body);
}

function htmlHint(service: string): string {
  return `An HTML error page came back instead of ${service}'s JSON: a proxy, ingress or load balancer between the runner and ${service} answered with a server error. Check that it routes to ${service}, its logs, and ${service}'s (kubectl logs -l app=${service.toLowerCase()}).`;
}

function statusHint(status: number, service: string): string {
  if (status === 503 && service === 'Prometheus') return 'Prometheus answers 503 while it starts (replaying its write-ahead log) or when it is overloaded: raise wait if it was just deployed, else look at its logs (kubectl logs -l app=prometheus).';
  if (status === 404) {
    return service === 'Prometheus'
      ? "Prometheus answered 404: the prometheus-service port may not be Prometheus's HTTP API, or it serves the API under a path prefix (--web.route-prefix): set the prometheus-path input to it."
      : "Grafana answered 404: the grafana-service port may not be Grafana's HTTP API, or the grafana-path input is not Grafana's sub-path (the path of its root_url, with serve_from_sub_path = true; / when it serves from the root).";
  }
  if (status >= 500) return `${service} answered with a server error: look at its logs (kubectl logs -l app=${service.toLowerCase()}).`;
  return `${service} refused the request: check the access settings.`;
}

function networkHint(err: HttpError, service: string): string {
  if (err.code === 'TIMEOUT') return `${service} did not answer within request-timeout: it may be overloaded or starting; raise wait or request-timeout.`;
  if (err.code === 'ECONNREFUSED') return `Nothing listens at ${service}'s address: check the URL (direct access) or the port-forward's target port.`;
  if (err.code === 'TOO_LARGE') return `The action reads at most ${DEFAULT_MAX_BYTES / 1048576} MiB per answer: a proxy in front of ${service} may be answering instead of it, or the answer is unusually large.`;
  if (CUT_SHORT.has(err.code)) {
    return `The connection broke during the answer: ${service}, or a proxy in front of it (the API server's service proxy, an ingress), closed it. ${service} may be restarting: look at its pod's restarts and logs.`;
  }
  return `${service} could not be reached: ${err.message}`;
}
