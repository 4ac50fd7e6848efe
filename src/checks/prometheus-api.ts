/**
 * `prometheus-api`: Prometheus answers `/api/v1/targets` through the chosen access path — the
 * attempt's one read of the targets, which prometheus-targets shares.
 */
import { pass, type Check } from './check.js';

export const PROMETHEUS_NEEDS = ['cluster-access', 'prometheus-service'] as const;

export const prometheusApi: Check = {
  id: 'prometheus-api',
  title: 'Prometheus answers /api/v1/targets',
  needs: PROMETHEUS_NEEDS,
  async run({ stack, prometheus, view }) {
    const started = Date.now();
    const { targets, pool } = await view.targets(stack.expect.scrapeJob);
    const count = `${targets.length} active target${targets.length === 1 ? '' : 's'}${pool ? ` in scrape pool ${pool}` : ''}`;
    return pass(`Prometheus answered /api/v1/targets in ${Date.now() - started} ms (${count}) via ${prometheus.endpoint.description}`);
  },
};
