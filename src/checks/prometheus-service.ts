/**
 * `prometheus-service`: the Service exists, exposes the port, and has ready endpoints — read from
 * its EndpointSlices, or from its Endpoints when the slices cannot be read (see ClusterView).
 */
import type { Address } from '../view.js';
import { fail, need, pass, type Check } from './check.js';

export const prometheusService: Check = {
  id: 'prometheus-service',
  title: 'Prometheus Service with ready endpoints',
  needs: ['cluster-access'],
  async run({ stack, view }) {
    const site = need(stack.prometheus, 'prometheus');
    if (!site.value) return site.outcome;
    const found = need(site.value.service, 'prometheus-service');
    if (!found.value) return found.outcome;
    const { namespace: ns, name, port } = found.value;
    const [service, endpoints] = await Promise.all([view.service(ns, name), view.serviceEndpoints(ns, name)]);
    if (!service) {
      return fail(
        `Service ${ns}/${name} does not exist`,
        `Create the Prometheus Service (kubectl get svc -n ${ns} lists what exists), or set the prometheus-service input to its namespace/name:port. Grafana reaches Prometheus through this Service's DNS name.`,
        { code: 'service.missing', namespace: ns, name },
      );
    }
    const ports = service.spec?.ports ?? [];
    const sp = ports.find((p) => String(p.port) === port || p.name === port);
    if (!sp) {
      const have = ports.map((p) => (p.name ? `${p.name}:${p.port}` : String(p.port))).join(', ') || 'none';
      return fail(`Service ${ns}/${name} does not expose port ${port} (it has: ${have})`, `Add port ${port} to the Service, or set the prometheus-service input to one of its ports.`, { code: 'service.no-port', namespace: ns, name, port }, { retryable: false });
    }
    // EndpointSlices and Endpoints name their ports after the Service's ports; an unnamed port is the only one.
    const matching = endpoints.groups.filter((g) => !sp.name || g.ports.some((p) => p.name === sp.name));
    // One endpoint per pod: a dual-stack Service has a slice per address family for the same pods.
    const ready = unique(matching.flatMap((g) => g.ready));
    const readyKeys = new Set(ready.map((a) => a.key));
    const notReady = unique(matching.flatMap((g) => g.notReady)).filter((a) => !readyKeys.has(a.key));
    const source = { source: endpoints.source, ...(endpoints.fallback ? { fallback: endpoints.fallback } : {}) };
    if (!ready.length) {
      const selector = Object.entries(service.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      return fail(
        `Service ${ns}/${name} has no ready endpoints${notReady.length ? ` (${notReady.length} not ready)` : ''}`,
        selector
          ? `No Ready pod matches the Service's selector ${selector}: check that the Prometheus pod is Running and Ready and carries these labels (kubectl get pods -n ${ns} -l ${selector}).`
          : 'The Service has no selector; its Endpoints must be managed by hand and list the Prometheus pod.',
        { code: 'service.no-endpoints', namespace: ns, name, notReady: notReady.length },
        { details: source },
      );
    }
    const from = endpoints.fallback ? ` (read from its Endpoints: ${endpoints.fallback})` : '';
    return pass(`Service ${ns}/${name} exposes port ${sp.port} → ${String(sp.targetPort ?? sp.port)} with ${ready.length} ready endpoint${ready.length === 1 ? '' : 's'}${from}`, {
      details: { clusterIP: service.spec?.clusterIP, endpoints: ready.map((a) => a.ip), ...source },
    });
  },
};

/** The addresses, one per endpoint (the first address of each). */
function unique(addresses: readonly Address[]): Address[] {
  const seen = new Map<string, Address>();
  for (const a of addresses) if (!seen.has(a.key)) seen.set(a.key, a);
  return [...seen.values()];
}
