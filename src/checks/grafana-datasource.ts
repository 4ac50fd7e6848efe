/**
 * `grafana-datasource`: Grafana's API lists the datasource, of type `prometheus`, with the
 * expected URL. A datasource Grafana lists but nothing provisions warns: it lives only in
 * Grafana's database and is gone with it.
 */
import { KubeError } from '../cluster.js';
import { sameUrl } from '../datasource.js';
import type { GrafanaDatasource } from '../grafana.js';
import { grafanaRestart, profileOf } from '../stack/profiles/index.js';
import type { Stack } from '../stack/types.js';
import type { ClusterView } from '../view.js';
import { fail, pass, warn, type Check } from './check.js';
import { chooseDatasource, provided, readSources, type Provided } from './provisioning.js';

/** The provisioned datasources, when the sources can be read this attempt (undefined otherwise). */
async function provisionedList(view: ClusterView, stack: Stack): Promise<Provided[] | undefined> {
  if (!stack.datasource.ok || stack.datasource.value.delivery === 'none') return stack.datasource.ok ? [] : undefined;
  try {
    const sources = await readSources(view, stack.datasource.value);
    if (sources.reads.some((r) => r.state !== 'ok') && !sources.reads.some((r) => r.state === 'ok')) return undefined;
    return provided(sources.reads);
  } catch (err) {
    if (err instanceof KubeError) return undefined;
    throw err;
  }
}

/**
 * The datasource the Grafana checks look at: named `datasource-name` (or the stack's name), else
 * the one the stack provisions, else Grafana's default Prometheus datasource (else its only one).
 */
export async function findDatasource(view: ClusterView, stack: Stack): Promise<{ ds?: GrafanaDatasource; all: GrafanaDatasource[]; wanted?: string; provisioned?: Provided[] }> {
  const [all, provisioned] = await Promise.all([view.datasources(), provisionedList(view, stack)]);
  const wanted = stack.expect.datasourceName ?? (provisioned ? chooseDatasource(provisioned, undefined)?.name : undefined);
  return { ds: chooseDatasource(all, wanted), all, ...(wanted ? { wanted } : {}), ...(provisioned ? { provisioned } : {}) };
}

export const grafanaDatasource: Check = {
  id: 'grafana-datasource',
  title: 'Grafana lists the Prometheus datasource',
  needs: ['cluster-access', 'grafana-api'],
  async run({ stack, view }) {
    const { ds, all, wanted, provisioned } = await findDatasource(view, stack);
    const profile = profileOf(stack.kind);
    const route = stack.datasource.ok ? stack.datasource.value : undefined;
    if (!ds) {
      const names = all.map((d) => `"${d.name}" (${d.type})`).join(', ');
      const what = wanted ? `named "${wanted}"` : 'of type prometheus';
      return fail(
        `Grafana lists ${all.length ? `${all.length} datasource${all.length === 1 ? '' : 's'}: ${names}, but none` : 'no datasource at all, so none'} ${what}`,
        route?.delivery === 'sidecar'
          ? `Grafana was not given the datasource: check that the datasource ConfigMap carries the sidecar's label and that the sidecar reloaded Grafana (or ${grafanaRestart(stack)}).`
          : `Grafana was not provisioned with the datasource: check that ${route?.objects[0] ? `${route.objects[0].kind} ${route.objects[0].namespace}/${route.objects[0].name}` : 'the provisioning object'} exists, that the Grafana pod mounts it at ${route?.dir ?? 'the provisioning directory'}, and restart Grafana (it reads provisioning files at start-up): ${grafanaRestart(stack)}.`,
        { code: 'datasource.not-listed', ...(wanted ? { wanted } : {}), listed: all.map((d) => d.name) },
        { details: { datasources: all.map((d) => d.name) } },
      );
    }
    if (ds.type !== 'prometheus') {
      return fail(`Grafana's datasource "${ds.name}" has type "${ds.type}", not prometheus`, profile.editDatasource(stack, route?.objects[0], 'Set `type: prometheus`'), { code: 'datasource.type-mismatch', name: ds.name, type: ds.type }, { retryable: false });
    }
    const grafanaNs = stack.grafana.ok ? stack.grafana.value.workload.namespace : '';
    const expected = stack.expect.datasourceUrl;
    if (expected && !sameUrl(ds.url, expected, grafanaNs)) {
      return fail(
        `Grafana's datasource "${ds.name}" has url ${ds.url || '(none)'}, expected ${expected}`,
        `${profile.editDatasource(stack, route?.objects[0], `Fix the url (${expected})`)}${stack.expect.datasourceUrlGiven ? '' : ` Or set the datasource-url input if ${ds.url} is intended.`}`,
        { code: 'datasource.url-mismatch', name: ds.name, url: ds.url, expected },
        { retryable: false, details: { uid: ds.uid, url: ds.url } },
      );
    }
    const listed = `Grafana lists "${ds.name}" (prometheus, ${ds.url}, uid ${ds.uid}${ds.isDefault ? ', default' : ''})`;
    if (provisioned && !provisioned.some((p) => p.name === ds.name)) {
      return warn(
        `${listed}, but nothing provisions it: it lives only in Grafana's database`,
        `A datasource created in the UI or the API is lost with Grafana's database and differs between environments. ${route ? profile.createDatasource(stack, route) : ''}`.trim(),
        { code: 'datasource.unprovisioned', name: ds.name },
        { details: { uid: ds.uid } },
      );
    }
    return pass(listed, { details: { uid: ds.uid } });
  },
};
