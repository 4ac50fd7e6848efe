/** `grafana-datasource`: Grafana's API lists the datasource, of type `prometheus`, with the expected URL. */
import { sameUrl } from '../datasource.js';
import type { GrafanaClient, GrafanaDatasource } from '../grafana.js';
import type { Settings } from '../types.js';
import { fail, pass, type Check } from './check.js';

/** The datasource named `datasource-name` as Grafana lists it, and everything it lists. */
export async function findDatasource(grafana: GrafanaClient, settings: Settings, signal: AbortSignal): Promise<{ ds?: GrafanaDatasource; all: GrafanaDatasource[] }> {
  const all = await grafana.datasources(signal);
  return { ds: all.find((d) => d.name === settings.datasourceName), all };
}

export const grafanaDatasource: Check = {
  id: 'grafana-datasource',
  title: 'Grafana lists the Prometheus datasource',
  needs: ['cluster-access'],
  async run({ settings, grafana, signal }) {
    const { ds, all } = await findDatasource(grafana, settings, signal);
    if (!ds) {
      const names = all.map((d) => `"${d.name}" (${d.type})`).join(', ');
      return fail(
        `Grafana lists ${all.length ? `${all.length} datasource${all.length === 1 ? '' : 's'}: ${names}, but none` : 'no datasource at all, so none'} named "${settings.datasourceName}"`,
        `Grafana was not provisioned with the datasource: check that ConfigMap ${settings.namespace}/${settings.datasourceConfigmap} exists, that the Grafana Deployment mounts it at ${settings.datasourceMountPath}, and restart Grafana (it reads provisioning files at start-up): kubectl rollout restart deployment/grafana -n ${settings.namespace}.`,
        { details: { datasources: all.map((d) => d.name) } },
      );
    }
    if (ds.type !== 'prometheus') {
      return fail(`Grafana's datasource "${ds.name}" has type "${ds.type}", not prometheus`, 'Set `type: prometheus` in the provisioning file and restart Grafana.', { retryable: false });
    }
    if (!sameUrl(ds.url, settings.datasourceUrl, settings.namespace)) {
      return fail(
        `Grafana's datasource "${ds.name}" has url ${ds.url || '(none)'}, expected ${settings.datasourceUrl}`,
        `Fix the url in ConfigMap ${settings.namespace}/${settings.datasourceConfigmap} and restart Grafana, or set the datasource-url input if ${ds.url} is intended.`,
        { retryable: false, details: { uid: ds.uid, url: ds.url } },
      );
    }
    return pass(`Grafana lists "${ds.name}" (prometheus, ${ds.url}, uid ${ds.uid}${ds.isDefault ? ', default' : ''})`, { details: { uid: ds.uid } });
  },
};
