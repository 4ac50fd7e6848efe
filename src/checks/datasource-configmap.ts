/**
 * `datasource-configmap`: the object that provisions the datasource — a ConfigMap or Secret a
 * volume carries, or the objects carrying the datasource sidecar's label — exists and provisions
 * a Prometheus datasource (named `datasource-name`, else the stack's), whose URL is the expected
 * one and points at an existing Service and port. Where the credentials may not read the object
 * (a Secret), the file the Grafana container sees decides, with a warning.
 */
import { posix } from 'node:path';
import { KubeError } from '../cluster.js';
import { parseProvisioning, sameUrl, serviceTargetOf, type ProvisionedDatasource } from '../datasource.js';
import { serviceUrl } from '../stack/discover.js';
import { profileOf } from '../stack/profiles/index.js';
import type { SourceObject } from '../stack/types.js';
import { isReason } from '../reasons.js';
import type { CheckOutcome } from '../types.js';
import { fail, need, pass, warn, type Check, type CheckContext } from './check.js';
import { chooseDatasource, filesInContainer, grafanaPodOf, objectText, provided, provisioningFiles, readSources, type Provided, type SourceRead } from './provisioning.js';

export const datasourceConfigmap: Check = {
  id: 'datasource-configmap',
  title: 'Datasource provisioning object',
  needs: ['cluster-access'],
  async run(ctx) {
    const { stack, view } = ctx;
    const found = need(stack.datasource, 'datasource');
    if (!found.value) return found.outcome;
    const route = found.value;
    const profile = profileOf(stack.kind);
    if (route.delivery === 'none') {
      return warn(
        `nothing provisions a datasource: the Grafana pod mounts no ConfigMap or Secret at ${route.dir} and has no datasource sidecar`,
        `A datasource Grafana lists would live only in its database (lost with it). ${profile.createDatasource(stack, route)}`,
        { code: 'provisioning.nothing', dir: route.dir },
      );
    }
    const sources = await readSources(view, route);
    if (route.delivery === 'sidecar' && route.sidecar && !route.chosen) {
      if (!sources.reads.length) {
        return fail(
          `no ${route.sidecar.resource === 'both' ? 'ConfigMap or Secret' : route.sidecar.resource === 'secret' ? 'Secret' : 'ConfigMap'} labelled ${sources.selector} in ${sources.namespaces?.join(', ')}: the datasource sidecar ${route.sidecar.container} has nothing to copy into Grafana`,
          `Create the datasource ConfigMap with the label ${sources.selector}, or label the existing one. ${profile.createDatasource(stack, route)}`,
          { code: 'provisioning.unlabelled', selector: sources.selector ?? '', namespaces: sources.namespaces ?? [] },
        );
      }
    }
    if (route.delivery === 'grafana-operator') {
      const failing = operatorFailure(sources.reads, stack.expect.datasourceName);
      if (failing) return failing;
    }
    const missing = sources.reads.find((r) => r.state === 'missing');
    if (missing && !sources.reads.some((r) => r.state === 'ok')) {
      const o = missing.object;
      return fail(
        `${objectText(o)} does not exist, so Grafana is given no Prometheus datasource`,
        profile.createDatasource(stack, route),
        { code: 'provisioning.object-missing', object: o },
      );
    }
    const forbidden = sources.reads.find((r) => r.state === 'forbidden');
    if (forbidden && !sources.reads.some((r) => r.state === 'ok')) return fromContainer(ctx, forbidden.object);
    const byObject = provisioningFiles(sources.reads);
    const files = byObject.flatMap((x) => x.files.map((f) => ({ ...f, object: x.object })));
    const first = byObject[0]?.object ?? (sources.reads[0]?.object as SourceObject);
    if (!files.length) {
      const keys = sources.reads.flatMap((r) => Object.keys(r.data));
      return fail(
        `${objectText(first)} has no .yaml key (keys: ${keys.join(', ') || 'none'})`,
        'Grafana reads only *.yaml/*.yml provisioning files: name the key datasources.yaml.',
        { code: 'provisioning.no-yaml', object: first },
        { retryable: false },
      );
    }
    const outcome = await judge(ctx, provided(sources.reads), files.find((f) => f.error), byObject.map((x) => x.object));
    // The datasource may be in an object the credentials may not read (a labelled Secret): the file Grafana sees decides.
    if (forbidden && isReason(outcome.reason, 'provisioning.no-datasource')) return fromContainer(ctx, forbidden.object);
    return outcome;
  },
};

/** Conditions of a GrafanaDatasource that say its datasource is not in Grafana (controllers/datasource_controller.go). */
const FAILING_WHEN_TRUE = new Set(['NoMatchingInstance', 'InvalidSpec', 'Suspended']);

/** The GrafanaDatasource of the expected datasource not applied to Grafana, per its status conditions. */
function operatorFailure(reads: readonly SourceRead[], wanted: string | undefined): CheckOutcome | undefined {
  for (const r of reads) {
    const ds = provided([r])[0];
    if (!ds || (wanted ? ds.name !== wanted : ds.type !== 'prometheus')) continue;
    const c = r.conditions?.find((x) => (x.type === 'DatasourceSynchronized' && x.status === 'False') || (FAILING_WHEN_TRUE.has(x.type ?? '') && x.status === 'True'));
    if (!c) continue;
    const condition = `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
    return fail(
      `${objectText(r.object)} (datasource "${ds.name}") is not applied to Grafana: condition ${condition}`,
      c.type === 'NoMatchingInstance'
        ? "Its spec.instanceSelector matches no Grafana object: give the Grafana object the selector's labels, or fix the selector."
        : "Fix what Grafana answered the operator (the condition's message); the operator retries every resyncPeriod.",
      { code: 'provisioning.operator-failed', object: objectText(r.object), condition },
    );
  }
  return undefined;
}

/** Judges the provisioned datasources: the expected one exists, is Prometheus, has the URL, which leads to a Service port. */
async function judge(
  ctx: CheckContext,
  all: readonly Provided[],
  broken: { file: string; error?: string; object: SourceObject } | undefined,
  objects: readonly SourceObject[],
): Promise<CheckOutcome> {
  const { stack, view } = ctx;
  const profile = profileOf(stack.kind);
  const route = stack.datasource.ok ? stack.datasource.value : undefined;
  const wanted = stack.expect.datasourceName;
  const refs = objects.map(objectText).join(', ');
  const ds = chooseDatasource(all, wanted);
  if (!ds) {
    const names = all.map((d) => `"${d.name}"`).join(', ') || 'none';
    return fail(
      `${refs} provision${objects.length === 1 ? 's' : ''} no ${wanted ? `datasource named "${wanted}"` : 'Prometheus datasource'} (it has: ${names})${broken ? `; ${broken.error}` : ''}`,
      broken ? `Fix ${broken.file}: ${broken.error}.` : wanted ? `Name the Prometheus datasource "${wanted}" in ${refs}, or set the datasource-name input.` : route ? profile.createDatasource(stack, route) : 'Provision a Prometheus datasource.',
      { code: 'provisioning.no-datasource', names: all.map((d) => d.name), ...(wanted ? { wanted } : {}) },
      { retryable: false },
    );
  }
  const where = `datasource "${ds.name}" in ${objectText(ds.object)} (${ds.file})`;
  if (broken) return fail(`${where}: ${broken.error}`, `Grafana refuses the whole file: fix ${broken.file}.`, { code: 'provisioning.invalid', object: broken.object, file: broken.file, error: broken.error ?? '' }, { retryable: false });
  if (ds.type !== 'prometheus') {
    return fail(`${where} has type "${ds.type}", not prometheus`, profile.editDatasource(stack, ds.object, 'Set `type: prometheus` on the datasource'), { code: 'provisioning.type-mismatch', object: ds.object, datasource: ds.name, type: ds.type }, { retryable: false });
  }
  const grafanaNs = stack.grafana.ok ? stack.grafana.value.workload.namespace : ds.object.namespace;
  const expected = stack.expect.datasourceUrl;
  if (expected && !sameUrl(ds.url, expected, grafanaNs)) {
    return fail(
      `${where} has url ${ds.url || '(none)'}, expected ${expected}`,
      `${profile.editDatasource(stack, ds.object, `Set \`url: ${expected}\``)}${stack.expect.datasourceUrlGiven ? '' : ` Or set the datasource-url input if ${ds.url} is intended.`}`,
      { code: 'provisioning.url-mismatch', object: ds.object, datasource: ds.name, url: ds.url, expected },
      { retryable: false, details: { url: ds.url } },
    );
  }
  const target = serviceTargetOf(ds.url, grafanaNs);
  const promService = stack.prometheus.ok && stack.prometheus.value.service.ok ? stack.prometheus.value.service.value : undefined;
  const promUrl = promService ? serviceUrl(promService) : undefined;
  if (target) {
    const service = await view.service(target.namespace, target.service);
    const svcText = `${target.namespace}/${target.service}`;
    if (!service) {
      return fail(
        `${where} points at Service ${svcText}, which does not exist`,
        profile.editDatasource(stack, ds.object, `Point the url at the Prometheus Service (${promUrl ?? expected ?? 'its in-cluster URL'})`),
        { code: 'provisioning.service-missing', object: ds.object, datasource: ds.name, service: svcText },
      );
    }
    if (!service.spec?.ports?.some((p) => p.port === target.port)) {
      const have = service.spec?.ports?.map((p) => p.port).join(', ') || 'none';
      return fail(
        `${where} uses port ${target.port}, but Service ${svcText} exposes ${have}`,
        profile.editDatasource(stack, ds.object, `Use the Service's port in the url (http://${target.service}.${target.namespace}.svc.cluster.local:${service.spec?.ports?.[0]?.port ?? 9090})`),
        { code: 'provisioning.port-mismatch', object: ds.object, datasource: ds.name, service: svcText, port: target.port },
        { retryable: false },
      );
    }
  }
  const summary = `${objectText(ds.object)} provisions "${ds.name}" (prometheus, ${ds.url})${target ? ` → Service ${target.namespace}/${target.service}:${target.port}` : ''}`;
  return pass(summary, { details: { file: ds.file, url: ds.url, object: objectText(ds.object) } });
}

/** The object may not be read (a Secret): the provisioning file the grafana container sees decides, with a warning. */
async function fromContainer(ctx: CheckContext, object: SourceObject): Promise<CheckOutcome> {
  const { stack, view } = ctx;
  const route = stack.datasource.ok ? stack.datasource.value : undefined;
  const grafana = stack.grafana.ok ? stack.grafana.value : undefined;
  const pod = await grafanaPodOf(view, stack);
  const labelled = object.name.startsWith('(');
  const unread = labelled ? `the Secrets ${object.name} in ${object.namespace} could not be listed (list secrets is forbidden)` : `${objectText(object)} could not be read (get secrets ${object.name} is forbidden)`;
  const hint = labelled
    ? 'The file Grafana sees was checked instead; allow list on secrets in that namespace to check the objects themselves.'
    : `Allow get on that one Secret to check it directly:\n- apiGroups: [""]\n  resources: ["secrets"]\n  resourceNames: ["${object.name}"]\n  verbs: ["get"]`;
  if (!pod || !grafana || !route || pod.status?.phase !== 'Running') {
    return warn(`${unread}, and the Grafana pod is not running, so its file was not read either`, hint, { code: 'provisioning.unreadable', object });
  }
  let files: Map<string, string>;
  try {
    files = await filesInContainer(view, pod, grafana.container, route.dir);
  } catch (err) {
    if (!(err instanceof KubeError)) throw err;
    return warn(`${unread}, and the file in the Grafana container could not be read (${err.status === 403 ? 'exec is forbidden' : err.message})`, hint, { code: 'provisioning.unreadable', object });
  }
  const parsed = parseProvisioning(Object.fromEntries([...files].map(([path, text]) => [posix.basename(path), text])));
  const all: Provided[] = parsed.flatMap((f) => f.datasources.map((d: ProvisionedDatasource) => ({ ...d, object })));
  const broken = parsed.find((f) => f.error);
  const outcome = await judge(ctx, all, broken ? { file: broken.file, error: broken.error, object } : undefined, [object]);
  if (outcome.status !== 'pass') return outcome;
  return warn(`${outcome.summary}, as read in ${pod.metadata?.name}:${route.dir}; ${unread}`, hint, { code: 'provisioning.unreadable', object });
}
