/**
 * `datasource-configmap`: the ConfigMap exists and provisions a Prometheus datasource named
 * `datasource-name`, whose URL is `datasource-url` and points at an existing Service and port.
 */
import { parseProvisioning, sameUrl, serviceTargetOf } from '../datasource.js';
import { fail, pass, type Check } from './check.js';

export const datasourceConfigmap: Check = {
  id: 'datasource-configmap',
  title: 'Datasource provisioning ConfigMap',
  needs: ['cluster-access'],
  async run({ settings, cluster, signal }) {
    const ns = settings.namespace;
    const cmName = settings.datasourceConfigmap;
    const ref = `ConfigMap ${ns}/${cmName}`;
    const cm = await cluster.readConfigMap(ns, cmName, signal);
    if (!cm) {
      return fail(
        `${ref} does not exist, so Grafana is given no Prometheus datasource`,
        `Create it with a datasources.yaml that provisions the Prometheus datasource (TaskFlow: kubectl apply -f 20-grafana-datasource.yaml), mount it at ${settings.datasourceMountPath} in the Grafana Deployment, and restart Grafana.`,
      );
    }
    const files = parseProvisioning(cm.data ?? {});
    if (!files.length) {
      return fail(`${ref} has no .yaml key (keys: ${Object.keys(cm.data ?? {}).join(', ') || 'none'})`, 'Grafana reads only *.yaml/*.yml provisioning files: name the key datasources.yaml.', { retryable: false });
    }
    const broken = files.find((f) => f.error);
    const all = files.flatMap((f) => f.datasources);
    const ds = all.find((d) => d.name === settings.datasourceName);
    if (!ds) {
      const names = all.map((d) => `"${d.name}"`).join(', ') || 'none';
      return fail(
        `${ref} provisions no datasource named "${settings.datasourceName}" (it has: ${names})${broken ? `; ${broken.error}` : ''}`,
        broken ? `Fix ${broken.file}: ${broken.error}.` : `Name the Prometheus datasource "${settings.datasourceName}" in ${ref}, or set the datasource-name input.`,
        { retryable: false },
      );
    }
    const where = `datasource "${ds.name}" in ${ref} (${ds.file})`;
    if (broken) return fail(`${where}: ${broken.error}`, `Grafana refuses the whole file: fix ${broken.file}.`, { retryable: false });
    if (ds.type !== 'prometheus') {
      return fail(`${where} has type "${ds.type}", not prometheus`, 'Set `type: prometheus` on the datasource.', { retryable: false });
    }
    if (!sameUrl(ds.url, settings.datasourceUrl, settings.namespace)) {
      return fail(
        `${where} has url ${ds.url || '(none)'}, expected ${settings.datasourceUrl}`,
        `Set \`url: ${settings.datasourceUrl}\` in ${ref} (then restart Grafana), or set the datasource-url input if ${ds.url} is intended.`,
        { retryable: false, details: { url: ds.url } },
      );
    }
    const target = serviceTargetOf(ds.url, ns);
    if (target) {
      const service = await cluster.readService(target.namespace, target.service, signal);
      if (!service) {
        return fail(`${where} points at Service ${target.namespace}/${target.service}, which does not exist`, `Point the url at the Prometheus Service (${settings.prometheusService.name}.${ns}.svc.cluster.local:${settings.prometheusService.port}).`);
      }
      if (!service.spec?.ports?.some((p) => p.port === target.port)) {
        const have = service.spec?.ports?.map((p) => p.port).join(', ') || 'none';
        return fail(`${where} uses port ${target.port}, but Service ${target.namespace}/${target.service} exposes ${have}`, `Use the Service's port in the url (http://${target.service}.${target.namespace}.svc.cluster.local:${service.spec?.ports?.[0]?.port ?? 9090}).`, { retryable: false });
      }
    }
    return pass(`${ref} provisions "${ds.name}" (prometheus, ${ds.url})${target ? ` → Service ${target.namespace}/${target.service}:${target.port}` : ''}`, {
      details: { file: ds.file, url: ds.url },
    });
  },
};
