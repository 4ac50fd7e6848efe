/** `prometheus-api`: Prometheus answers `/api/v1/targets` through the chosen access path. */
import { pass, type Check } from './check.js';

export const PROMETHEUS_NEEDS = ['cluster-access', 'prometheus-service'] as const;

export const prometheusApi: Check = {
  id: 'prometheus-api',
  title: 'Prometheus answers /api/v1/targets',
  needs: PROMETHEUS_NEEDS,
  async run({ prometheus, view }) {
    const started = Date.now();
    const targets = await view.targets();
    return pass(`Prometheus answered /api/v1/targets in ${Date.now() - started} ms (${targets.length} active target${targets.length === 1 ? '' : 's'}) via ${prometheus.endpoint.description}`);
  },
};
