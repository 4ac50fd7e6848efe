/**
 * `cluster-access`: the API server answers these credentials, and they may read what the checks
 * need — in the namespaces where the stack was found, for the way the datasource reaches Grafana,
 * and with `get` and `create` on the streams (exec, port-forward), as Kubernetes 1.35 requires
 * for WebSocket upgrades (kubernetes/kubernetes#134577).
 */
import { reviewAll } from '../access.js';
import { describePermission, KubeError, roleRule, type Permission } from '../cluster.js';
import { grafanaTokenOnly, inputCredentials } from '../services.js';
import type { Stack } from '../stack/types.js';
import type { CheckId, Settings } from '../types.js';
import { fail, pass, warn, type Check } from './check.js';

interface Need extends Permission {
  /** The checks that need it; the permission is required only when one of them runs. */
  readonly usedBy: readonly CheckId[];
  /** A permission that does instead when this one is refused (it is reviewed only then). */
  readonly orElse?: Permission;
}

const PROMETHEUS_HTTP: CheckId[] = ['prometheus-api', 'prometheus-targets', 'prometheus-query'];
const GRAFANA_HTTP: CheckId[] = ['grafana-api', 'grafana-datasource', 'grafana-datasource-health', 'grafana-query'];
const GRAFANA_AUTHED: CheckId[] = ['grafana-datasource', 'grafana-datasource-health', 'grafana-query'];

/** A stream (exec, port-forward): `get` and `create`, both reviewed. */
function stream(subresource: string, namespace: string, usedBy: CheckId[]): Need[] {
  return ['get', 'create'].map((verb) => ({ verb, resource: 'pods', subresource, namespace, usedBy }));
}

/** The permissions the enabled checks need, given the stack, the access mode and Grafana credentials. */
export function requiredPermissions(s: Settings, stack: Stack, defaultNamespace = 'default'): Need[] {
  const needs: Need[] = [];
  const p = stack.prometheus.ok ? stack.prometheus.value : undefined;
  const g = stack.grafana.ok ? stack.grafana.value : undefined;
  const route = stack.datasource.ok ? stack.datasource.value : undefined;
  const tokenOnly = grafanaTokenOnly(inputCredentials(s));
  // Discovery lists pods (and Services) where it searched: when that was refused, say which rule is missing.
  for (const [found, usedBy] of [
    [stack.prometheus, ['prometheus-pod', 'prometheus-service']],
    [stack.grafana, ['grafana-pod', 'datasource-mounted']],
  ] as const) {
    if (!found.ok && found.problem.code === 'unreadable') needs.push({ verb: 'list', resource: 'pods', namespace: s.namespace ?? defaultNamespace, usedBy });
  }
  if (p) {
    const ns = p.workload.namespace;
    const svcNs = p.service.ok ? p.service.value.namespace : ns;
    needs.push({ verb: 'list', resource: 'pods', namespace: ns, usedBy: ['prometheus-pod'] });
    if (!s.prometheusService) needs.push({ verb: 'list', resource: 'services', namespace: ns, usedBy: ['prometheus-service'] });
    needs.push({ verb: 'get', resource: 'services', namespace: svcNs, usedBy: ['prometheus-service'] });
    // The Service's EndpointSlices, else (refused or not served) its Endpoints: either one does (see ClusterView).
    needs.push({ verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace: svcNs, usedBy: ['prometheus-service'], orElse: { verb: 'get', resource: 'endpoints', namespace: svcNs } });
    if (s.access === 'proxy') needs.push({ verb: 'get', resource: 'services', subresource: 'proxy', namespace: svcNs, usedBy: PROMETHEUS_HTTP });
    if (s.access === 'port-forward') needs.push(...stream('portforward', ns, PROMETHEUS_HTTP));
  }
  if (g) {
    const ns = g.workload.namespace;
    const svcNs = g.service.ok ? g.service.value.namespace : ns;
    needs.push({ verb: 'list', resource: 'pods', namespace: ns, usedBy: ['grafana-pod', 'datasource-mounted'] });
    if (!s.grafanaService && s.access !== 'direct') needs.push({ verb: 'list', resource: 'services', namespace: ns, usedBy: ['grafana-api'] });
    if (s.access === 'proxy') {
      needs.push({ verb: 'get', resource: 'services', subresource: 'proxy', namespace: svcNs, usedBy: tokenOnly ? ['grafana-api'] : GRAFANA_HTTP });
      if (!tokenOnly) needs.push({ verb: 'create', resource: 'services', subresource: 'proxy', namespace: svcNs, usedBy: GRAFANA_AUTHED });
    }
    if (s.access === 'port-forward' || (s.access === 'proxy' && tokenOnly)) needs.push(...stream('portforward', ns, s.access === 'port-forward' ? GRAFANA_HTTP : GRAFANA_AUTHED));
  }
  for (const o of route?.objects ?? []) {
    if (o.kind === 'ConfigMap') needs.push({ verb: 'get', resource: 'configmaps', namespace: o.namespace, usedBy: ['datasource-configmap', 'datasource-mounted'] });
  }
  const sidecar = route?.delivery === 'sidecar' ? route.sidecar : undefined;
  if (sidecar && sidecar.resource !== 'secret') {
    for (const namespace of sidecar.namespaces === 'ALL' ? [undefined] : sidecar.namespaces) {
      needs.push({ verb: 'list', resource: 'configmaps', ...(namespace ? { namespace } : {}), usedBy: ['datasource-configmap', 'datasource-mounted'] });
    }
  }
  return dedupe(needs).filter((n) => n.usedBy.some((id) => !s.skipChecks.includes(id)));
}

/** Permissions that make checks deeper but are not required. */
export function optionalPermissions(s: Settings, stack: Stack): Need[] {
  const g = stack.grafana.ok ? stack.grafana.value : undefined;
  const route = stack.datasource.ok ? stack.datasource.value : undefined;
  const needs: Need[] = g ? stream('exec', g.workload.namespace, ['datasource-mounted']) : [];
  for (const o of route?.objects ?? []) {
    if (o.kind === 'Secret') needs.push({ verb: 'get', resource: 'secrets', namespace: o.namespace, name: o.name, usedBy: ['datasource-configmap'] });
  }
  const sidecar = route?.delivery === 'sidecar' ? route.sidecar : undefined;
  if (sidecar && sidecar.resource !== 'configmap') {
    for (const namespace of sidecar.namespaces === 'ALL' ? [undefined] : sidecar.namespaces) {
      needs.push({ verb: 'list', resource: 'secrets', ...(namespace ? { namespace } : {}), usedBy: ['datasource-configmap'] });
    }
  }
  return dedupe(needs).filter((n) => n.usedBy.some((id) => !s.skipChecks.includes(id)));
}

function dedupe(needs: Need[]): Need[] {
  const byKey = new Map<string, Need>();
  for (const n of needs) {
    const key = describePermission(n);
    const prev = byKey.get(key);
    byKey.set(key, prev ? { ...prev, usedBy: [...new Set([...prev.usedBy, ...n.usedBy])] } : n);
  }
  return [...byKey.values()];
}

export const clusterAccess: Check = {
  id: 'cluster-access',
  title: 'API server reachable, credentials allowed',
  needs: [],
  async run({ settings, stack, cluster, signal }) {
    const required = requiredPermissions(settings, stack, cluster.defaultNamespace);
    const optional = optionalPermissions(settings, stack);
    const all = [...required, ...optional];
    // The Kubernetes version is only worth a request when something is missing (stream verbs changed in 1.35).
    const version = async (): Promise<string> => (await cluster.version(signal).catch(() => '')) || 'version unknown';
    let reviews: { need: Need; allowed: boolean }[];
    try {
      const allowed = await reviewAll(cluster, all, signal);
      reviews = all.map((need, i) => ({ need, allowed: allowed[i] === true }));
    } catch (err) {
      // Not answered at all (unreachable, untrusted, timed out) or not authenticated: say so of the API server itself.
      if (err instanceof KubeError && (err.status === 0 || err.status === 401)) {
        await cluster.version(signal);
        throw err;
      }
      if (err instanceof KubeError && err.status === 403) {
        return warn(
          `API server ${cluster.server} answered (Kubernetes ${await version()}), but the credentials may not run access reviews, so their permissions were not verified`,
          'Allow create on selfsubjectaccessreviews (authorization.k8s.io), which every authenticated user has through system:basic-user unless it was removed.',
          { code: 'access.unreviewable' },
        );
      }
      throw err;
    }
    // A refused permission with an alternative is missing only when the alternative is refused too.
    const refusedWithAlternative = reviews.filter((r) => !r.allowed && r.need.orElse);
    const alternativeAllowed = await reviewAll(cluster, refusedWithAlternative.map((r) => r.need.orElse as Permission), signal);
    const replaced = new Set(refusedWithAlternative.filter((_, i) => alternativeAllowed[i]).map((r) => r.need));
    const missing = reviews.filter((r) => !r.allowed && required.includes(r.need) && !replaced.has(r.need)).map((r) => r.need);
    const missingOptional = reviews.filter((r) => !r.allowed && optional.includes(r.need)).map((r) => r.need);
    const details = { server: cluster.server, missing: missing.map(describePermission), missingOptional: missingOptional.map(describePermission) };
    if (missing.length) {
      const known = await version();
      return fail(
        `API server ${cluster.server} answered (Kubernetes ${known}), but the credentials may not ${missing.map(describePermission).join('; ')}`,
        `Add ${missing.length === 1 ? 'this rule' : 'these rules'} to the Role bound to the action's credentials (see the README's minimal RBAC):\n${missing.map(roleRule).join('\n')}${missing
          .flatMap((n) => (n.orElse ? [`\n(${describePermission(n.orElse)} does instead of ${describePermission(n)}.)`] : []))
          .join('')}`,
        { code: 'access.missing', missing: missing.map(describePermission) },
        { details: { ...details, version: known }, retryable: false },
      );
    }
    const execMissing = missingOptional.filter((n) => n.subresource === 'exec');
    const notes = [
      ...[...replaced].flatMap((n) => (n?.orElse ? [`without ${describePermission(n)} the Service's Endpoints are read instead (${describePermission(n.orElse)})`] : [])),
      ...(execMissing.length ? [`without ${execMissing.map(describePermission).join(' and ')} the datasource file cannot be read in the Grafana container`] : []),
      ...missingOptional.filter((n) => n.resource === 'secrets').map((n) => `without ${describePermission(n)} ${n.verb === 'list' ? 'a datasource in a labelled Secret' : 'the datasource Secret'} is checked through the file Grafana sees`),
    ];
    return pass(`API server ${cluster.server} answered; the credentials may read everything the checks need${notes.length ? `; ${notes.join('; ')}` : ''}`, { details });
  },
};
