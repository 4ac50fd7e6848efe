/**
 * Hints for errors that end a check attempt (refusals, unreachable services, bad answers):
 * what is likely wrong and what to do, from who answered and how. Errors that carry their own
 * hint (RBAC refusals, Grafana credentials) keep it.
 */
import { KubeError } from './cluster.js';
import type { MfcError } from './errors.js';
import { HttpStatusError } from './endpoint.js';
import { GrafanaAuthError } from './grafana.js';
import { HttpError } from './http.js';
import type { CheckId } from './types.js';

export interface Explanation {
  readonly hint?: string;
  /** False when waiting cannot help: refused credentials or permissions. */
  readonly retryable: boolean;
}

export function explain(id: CheckId, err: MfcError): Explanation {
  if (err instanceof GrafanaAuthError) return { hint: err.hint, retryable: false };
  if (err instanceof KubeError) return { hint: err.hint ?? kubeHint(err), retryable: err.status !== 401 && err.status !== 403 };
  const service = id.startsWith('prometheus') ? 'Prometheus' : 'Grafana';
  const input = service === 'Prometheus' ? 'prometheus-service' : 'grafana-service';
  if (err instanceof HttpStatusError && err.fromProxy) return { hint: proxyHint(err, service, input), retryable: true };
  if (err instanceof HttpStatusError) return { hint: err.hint ?? statusHint(err.status, service), retryable: true };
  if (err instanceof HttpError) return { hint: networkHint(err, service), retryable: true };
  return { hint: err.hint ?? `${service} answered something unexpected: check that the ${input} input names ${service}'s HTTP port.`, retryable: true };
}

function kubeHint(err: KubeError): string | undefined {
  if (err.reason === 'Timeout') return 'The API server is slow or overloaded; raise request-timeout if this cluster is always slow.';
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

function statusHint(status: number, service: string): string {
  if (status === 404) return `${service} answered 404: the ${service === 'Prometheus' ? 'prometheus' : 'grafana'}-service port may not be ${service}'s HTTP API, or a path prefix (--web.route-prefix, root_url sub-path) is in use.`;
  if (status >= 500) return `${service} answered with a server error: look at its logs (kubectl logs -l app=${service.toLowerCase()}).`;
  return `${service} refused the request: check the access settings.`;
}

function networkHint(err: HttpError, service: string): string {
  if (err.code === 'TIMEOUT') return `${service} did not answer within request-timeout: it may be overloaded or starting; raise wait or request-timeout.`;
  if (err.code === 'ECONNREFUSED') return `Nothing listens at ${service}'s address: check the URL (direct access) or the port-forward's target port.`;
  return `${service} could not be reached: ${err.message}`;
}
