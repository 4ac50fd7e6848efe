/** `cluster-access`: the API server answers these credentials, and they may read what the checks need. */
import { describePermission, KubeError, roleRule, type Permission } from '../cluster.js';
import { grafanaTokenOnly } from '../services.js';
import type { CheckId, Settings } from '../types.js';
import { fail, pass, warn, type Check } from './check.js';

interface Need extends Permission {
  /** The checks that need it; the permission is required only when one of them runs. */
  readonly usedBy: readonly CheckId[];
}

/** The permissions the enabled checks need, given the access mode and Grafana credentials. */
export function requiredPermissions(s: Settings): Need[] {
  const ns = s.namespace;
  const proxyChecks: CheckId[] = ['prometheus-api', 'prometheus-targets', 'prometheus-query', 'grafana-api', 'grafana-datasource', 'grafana-datasource-health', 'grafana-query'];
  const needs: Need[] = [
    { verb: 'list', resource: 'pods', namespace: ns, usedBy: ['prometheus-pod', 'grafana-pod', 'datasource-mounted'] },
    { verb: 'get', resource: 'services', namespace: ns, usedBy: ['prometheus-service', 'datasource-configmap'] },
    { verb: 'get', resource: 'endpoints', namespace: ns, usedBy: ['prometheus-service'] },
    { verb: 'get', resource: 'configmaps', namespace: ns, usedBy: ['datasource-configmap', 'datasource-mounted'] },
  ];
  const grafanaForwarded = s.access === 'proxy' && grafanaTokenOnly(s);
  if (s.access === 'proxy') {
    needs.push({ verb: 'get', resource: 'services', subresource: 'proxy', namespace: ns, usedBy: proxyChecks });
    needs.push({ verb: 'create', resource: 'services', subresource: 'proxy', namespace: ns, usedBy: grafanaForwarded ? [] : ['grafana-datasource', 'grafana-datasource-health', 'grafana-query'] });
  }
  if (s.access === 'port-forward' || grafanaForwarded) {
    const usedBy: CheckId[] = grafanaForwarded ? ['grafana-datasource', 'grafana-datasource-health', 'grafana-query'] : proxyChecks;
    needs.push({ verb: 'get', resource: 'pods', subresource: 'portforward', namespace: ns, usedBy });
  }
  return needs.filter((n) => n.usedBy.some((id) => !s.skipChecks.includes(id)));
}

/** Permissions that make checks deeper but are not required. */
function optionalPermissions(s: Settings): Need[] {
  return [{ verb: 'get', resource: 'pods', subresource: 'exec', namespace: s.namespace, usedBy: ['datasource-mounted'] }];
}

export const clusterAccess: Check = {
  id: 'cluster-access',
  title: 'API server reachable, credentials allowed',
  needs: [],
  async run({ settings, cluster, signal }) {
    const version = await cluster.version(signal);
    const required = requiredPermissions(settings);
    const optional = optionalPermissions(settings);
    let reviews: { need: Need; allowed: boolean }[];
    try {
      reviews = await Promise.all([...required, ...optional].map(async (need) => ({ need, allowed: (await cluster.canI(need, signal)).allowed })));
    } catch (err) {
      if (err instanceof KubeError && err.status === 403) {
        return warn(
          `API server ${cluster.server} answered (Kubernetes ${version}), but the credentials may not run access reviews, so their permissions were not verified`,
          'Allow create on selfsubjectaccessreviews (authorization.k8s.io), which every authenticated user has through system:basic-user unless it was removed.',
        );
      }
      throw err;
    }
    const missing = reviews.filter((r) => !r.allowed && required.includes(r.need)).map((r) => r.need);
    const missingOptional = reviews.filter((r) => !r.allowed && optional.includes(r.need)).map((r) => r.need);
    const details = { server: cluster.server, version, missing: missing.map(describePermission), missingOptional: missingOptional.map(describePermission) };
    if (missing.length) {
      return fail(
        `API server ${cluster.server} answered (Kubernetes ${version}), but the credentials may not ${missing.map(describePermission).join('; ')}`,
        `Add ${missing.length === 1 ? 'this rule' : 'these rules'} to the Role bound to the action's credentials (see the README's minimal RBAC):\n${missing.map(roleRule).join('\n')}`,
        { details, retryable: false },
      );
    }
    const note = missingOptional.length
      ? `; without ${missingOptional.map(describePermission).join(', ')} the datasource file is checked from the pod spec only`
      : '';
    return pass(`API server ${cluster.server} answered (Kubernetes ${version}); the credentials may read everything the checks need${note}`, { details });
  },
};
