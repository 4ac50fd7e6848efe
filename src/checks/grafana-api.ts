/** `grafana-api`: Grafana answers `/api/health` with its database ok. */
import { grafanaRestart } from '../stack/profiles/index.js';
import { fail, need, pass, type Check } from './check.js';

export const grafanaApi: Check = {
  id: 'grafana-api',
  title: 'Grafana answers /api/health',
  needs: ['cluster-access'],
  async run({ stack, grafana, signal, settings }) {
    if (settings.access !== 'direct') {
      const site = need(stack.grafana, 'grafana');
      if (!site.value) return site.outcome;
    }
    const health = await grafana.health(signal);
    if (health.database !== 'ok') {
      const w = stack.grafana.ok ? stack.grafana.value.workload : undefined;
      return fail(
        `Grafana answered /api/health but its database is "${health.database || 'unknown'}"`,
        `Grafana cannot use its database: check the pod's logs (kubectl logs -n ${w?.namespace ?? '<namespace>'} -l ${w?.selector ?? 'app.kubernetes.io/name=grafana'}) and the storage behind /var/lib/grafana; then ${grafanaRestart(stack)}.`,
        { code: 'grafana.database', database: health.database },
      );
    }
    return pass(`Grafana${health.version ? ` ${health.version}` : ''} answered /api/health, database ok, via ${grafana.endpoint.description}`, {
      details: { version: health.version },
    });
  },
};
