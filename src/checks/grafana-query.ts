/** `grafana-query`: the query, sent through Grafana to the datasource, returns data. */
import { fail, pass, type Check } from './check.js';
import { healthHint, prometheusServiceText } from './grafana-datasource-health.js';
import { findDatasource } from './grafana-datasource.js';

export const grafanaQuery: Check = {
  id: 'grafana-query',
  title: 'Query returns data through Grafana',
  needs: ['cluster-access', 'grafana-datasource'],
  async run({ stack, view, grafana, signal }) {
    const query = stack.expect.query;
    const { ds, wanted } = await findDatasource(view, stack);
    if (!ds) return fail(`Grafana no longer lists "${wanted ?? 'the Prometheus datasource'}"`, 'The datasource disappeared during the run; run the check again.', { code: 'datasource.vanished', name: wanted ?? '' });
    const result = await grafana.query(ds, query, signal);
    if (result.error) {
      return fail(`${query} through Grafana failed (HTTP ${result.httpStatus}): ${result.error}`, healthHint(result.error, prometheusServiceText(stack)), {
        code: 'grafana-query.error',
        message: result.error,
        httpStatus: result.httpStatus,
      });
    }
    if (!result.series) {
      return fail(
        `${query} through Grafana returned no data`,
        'The datasource works but Prometheus has no samples for the query: check prometheus-targets and prometheus-query; a fresh stack needs one or two scrape intervals (raise the wait input).',
        { code: 'grafana-query.no-data', query },
      );
    }
    return pass(`${query} through Grafana returned ${result.series} series`, { details: { series: result.series } });
  },
};
