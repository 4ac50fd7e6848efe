/** `prometheus-query`: the query returns at least one series from Prometheus. */
import { fail, pass, type Check } from './check.js';
import { PROMETHEUS_NEEDS } from './prometheus-api.js';

export const prometheusQuery: Check = {
  id: 'prometheus-query',
  title: 'Query returns data from Prometheus',
  needs: PROMETHEUS_NEEDS,
  async run({ stack, prometheus, signal }) {
    const query = stack.expect.query;
    const series = await prometheus.query(query, signal);
    if (!series.length) {
      return fail(
        `${query} returned no series from Prometheus`,
        'Prometheus has no samples for this query yet: targets are scraped every scrape_interval, so a stack deployed less than a minute ago may have none. Raise the wait input, or check the query.',
        { code: 'query.no-series', query },
      );
    }
    return pass(`${query} returned ${series.length} series from Prometheus`, { details: { series: series.length } });
  },
};
