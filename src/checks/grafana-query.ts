/** `grafana-query`: the query, sent through Grafana to the datasource, returns data. */
import { fail, pass, type Check } from './check.js';
import { healthHint } from './grafana-datasource-health.js';
import { findDatasource } from './grafana-datasource.js';

export const grafanaQuery: Check = {
  id: 'grafana-query',
  title: 'Query returns data through Grafana',
  needs: ['cluster-access', 'grafana-datasource'],
  async run({ settings, grafana, signal }) {
    const { ds } = await findDatasource(grafana, settings, signal);
    if (!ds) return fail(`Grafana no longer lists "${settings.datasourceName}"`, 'The datasource disappeared during the run; run the check again.');
    const result = await grafana.query(ds, settings.query, signal);
    if (result.error) {
      return fail(
        `${settings.query} through Grafana failed (HTTP ${result.httpStatus}): ${result.error}`,
        healthHint(result.error, `${settings.prometheusService.name}.${settings.namespace}.svc.cluster.local:${settings.prometheusService.port}`),
      );
    }
    if (!result.series) {
      return fail(
        `${settings.query} through Grafana returned no data`,
        'The datasource works but Prometheus has no samples for the query: check prometheus-targets and prometheus-query; a fresh stack needs one or two scrape intervals (raise the wait input).',
      );
    }
    return pass(`${settings.query} through Grafana returned ${result.series} series`, { details: { series: result.series } });
  },
};
