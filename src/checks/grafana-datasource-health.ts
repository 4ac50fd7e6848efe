/**
 * `grafana-datasource-health`: Grafana's own test of the datasource succeeds (the UI's "Save &
 * Test"). Grafana 9.x has no backend health check for Prometheus datasources (the endpoint answers
 * 404 `{"message":"Not found"}`, grafana/grafana#65970; its UI tested them with a `1+1` query):
 * there the check runs that `1+1` instant query through `/api/ds/query` instead, and its result
 * decides.
 */
import type { GrafanaClient, GrafanaDatasource } from '../grafana.js';
import { serviceUrl } from '../stack/discover.js';
import type { Stack } from '../stack/types.js';
import type { CheckOutcome } from '../types.js';
import { fail, pass, type Check } from './check.js';
import { findDatasource } from './grafana-datasource.js';

/** The query Grafana's own health check (10.0+) and the 9.x UI's test run. */
export const HEALTH_QUERY = '1+1';

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

/** `Grafana 9.5.x` from the version Grafana reports, `This Grafana` when it hides it. */
async function releaseText(grafana: GrafanaClient, signal: AbortSignal | undefined): Promise<string> {
  const version = grafana.version ?? (await grafana.health(signal).then((h) => h.version, () => ''));
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  return match ? `Grafana ${match[1]}.${match[2]}.x` : 'This Grafana';
}

/** No health check for the datasource's plugin: a Prometheus datasource is tested with `1+1` through Grafana. */
async function withoutHealthCheck(ds: GrafanaDatasource, stack: Stack, grafana: GrafanaClient, signal: AbortSignal | undefined): Promise<CheckOutcome> {
  const release = await releaseText(grafana, signal);
  if (ds.type !== 'prometheus') {
    return fail(
      `${release} has no health check for "${ds.name}" (type ${ds.type})`,
      'Only Prometheus datasources are tested without a health check; check the datasource\'s type.',
      { code: 'datasource.health-failed', name: ds.name, message: `no health check for type ${ds.type}`, httpStatus: 404 },
    );
  }
  const result = await grafana.query(ds, HEALTH_QUERY, signal);
  if (result.error !== undefined) {
    return fail(
      `${release} has no health check for Prometheus datasources, and a ${HEALTH_QUERY} query through Grafana to "${ds.name}" failed (HTTP ${result.httpStatus}): ${result.error}`,
      healthHint(result.error, prometheusServiceText(stack)),
      { code: 'datasource.health-failed', name: ds.name, message: result.error, httpStatus: result.httpStatus, via: 'query' },
    );
  }
  return pass(`${release} has no health check for Prometheus datasources; a ${HEALTH_QUERY} query through Grafana succeeded`, {
    details: { healthCheck: 'unsupported', query: HEALTH_QUERY },
  });
}

export const grafanaDatasourceHealth: Check = {
  id: 'grafana-datasource-health',
  title: 'Grafana datasource health',
  needs: ['cluster-access', 'grafana-datasource'],
  async run({ stack, view, grafana, signal }) {
    const { ds, wanted } = await findDatasource(view, stack);
    if (!ds) return fail(`Grafana no longer lists "${wanted ?? 'the Prometheus datasource'}"`, 'The datasource disappeared during the run; run the check again.', { code: 'datasource.vanished', name: wanted ?? '' });
    const health = await grafana.datasourceHealth(ds.uid, signal);
    if (health.unsupported) return withoutHealthCheck(ds, stack, grafana, signal);
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
