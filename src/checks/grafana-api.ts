/** `grafana-api`: Grafana answers `/api/health` with its database ok. */
import { fail, pass, type Check } from './check.js';

export const grafanaApi: Check = {
  id: 'grafana-api',
  title: 'Grafana answers /api/health',
  needs: ['cluster-access'],
  async run({ grafana, signal }) {
    const health = await grafana.health(signal);
    if (health.database !== 'ok') {
      return fail(
        `Grafana answered /api/health but its database is "${health.database || 'unknown'}"`,
        "Grafana cannot use its database: check the pod's logs (kubectl logs -l app=grafana) and the storage behind /var/lib/grafana.",
      );
    }
    return pass(`Grafana${health.version ? ` ${health.version}` : ''} answered /api/health, database ok, via ${grafana.endpoint.description}`, {
      details: { version: health.version },
    });
  },
};
