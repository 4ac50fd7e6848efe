/** `grafana-datasource-health`: Grafana's own test of the datasource succeeds (the UI's "Save & Test"). */
import { serviceUrl } from '../stack/discover.js';
import type { Stack } from '../stack/types.js';
import { fail, pass, type Check } from './check.js';
import { findDatasource } from './grafana-datasource.js';

/** The seed guide's reading of Grafana's datasource errors: which link of the chain is broken. */
export function healthHint(message: string, service: string): string {
  if (/no such host|lookup/i.test(message)) {
    return `Grafana cannot resolve the datasource's host name: the url must name the Prometheus Service (${service}); check kubectl get svc -n <namespace>.`;
  }
  if (/connection refused/i.test(message)) {
    return 'Grafana reaches the host but nothing answers on that port: check the url\'s port against the Prometheus Service and that the Service has ready endpoints.';
  }
  if (/timeout|deadline/i.test(message)) return 'Grafana\'s request to Prometheus timed out: check NetworkPolicies between the Grafana and Prometheus pods.';
  return 'Open the datasource in Grafana and press "Save & Test" to see the same error; check the url and that Prometheus answers.';
}

/** The Prometheus Service as Grafana's pod reaches it (`prometheus.taskflow.svc.cluster.local:9090`). */
export function prometheusServiceText(stack: Stack): string {
  const s = stack.prometheus.ok && stack.prometheus.value.service.ok ? stack.prometheus.value.service.value : undefined;
  return s ? serviceUrl(s).replace(/^http:\/\//, '') : 'the Prometheus Service';
}

export const grafanaDatasourceHealth: Check = {
  id: 'grafana-datasource-health',
  title: 'Grafana datasource health',
  needs: ['cluster-access', 'grafana-datasource'],
  async run({ stack, view, grafana, signal }) {
    const { ds, wanted } = await findDatasource(view, stack);
    if (!ds) return fail(`Grafana no longer lists "${wanted ?? 'the Prometheus datasource'}"`, 'The datasource disappeared during the run; run the check again.', { code: 'datasource.vanished', name: wanted ?? '' });
    const health = await grafana.datasourceHealth(ds.uid, signal);
    if (!health.ok) {
      return fail(
        `Grafana's test of "${ds.name}" failed (HTTP ${health.httpStatus}, ${health.status}): ${health.message || 'no message'}`,
        healthHint(health.message, prometheusServiceText(stack)),
        { code: 'datasource.health-failed', name: ds.name, message: health.message, httpStatus: health.httpStatus },
      );
    }
    return pass(`Grafana's test of "${ds.name}" passed: ${health.message || 'OK'}`);
  },
};
