/**
 * The non-resource endpoints: version, health, and legacy (unaggregated) API discovery. Clients
 * that ask for aggregated discovery get these plain documents too and fall back to them. The
 * groups of served custom resources (see crd.ts) follow the built-in groups in `/apis`, as the
 * aggregator lists them (CRD groups have the lowest group priority), each with its versions in
 * kube-aware order and the first as the preferred version.
 */
import { API_GROUPS, RESOURCE_TYPES, groupVersion, type ResourceType } from './resources.js';
import { customGroups } from './crd.js';
import { kubeVersion, type VersionInfo } from './version.js';

/** Kinds of the subresources' option objects, as discovery names them. */
const SUBRESOURCE_KINDS: Record<string, string> = {
  'pods/exec': 'PodExecOptions',
  'pods/portforward': 'PodPortForwardOptions',
  'pods/proxy': 'PodProxyOptions',
  'services/proxy': 'ServiceProxyOptions',
};

function versionEntry(group: string, version = 'v1') {
  const gv = groupVersion({ group, version });
  return { groupVersion: gv, version };
}

function apiGroup(group: string, versions: readonly string[] = ['v1']) {
  return { name: group, versions: versions.map((v) => versionEntry(group, v)), preferredVersion: versionEntry(group, versions[0]) };
}

function resourceEntries(r: ResourceType) {
  const main = {
    name: r.name,
    singularName: r.singularName,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
  };
  const subs = Object.entries(r.subresources ?? {}).map(([sub, verbs]) => {
    const name = `${r.name}/${sub}`;
    // A custom resource's scale subresource is an autoscaling/v1 Scale.
    if (sub === 'scale') return { name, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs };
    return { name, singularName: '', namespaced: r.namespaced, kind: SUBRESOURCE_KINDS[name] ?? r.kind, verbs };
  });
  return [main, ...subs];
}

function resourceList(group: string, version = 'v1', types: readonly ResourceType[] = RESOURCE_TYPES) {
  const resources = types.filter((r) => r.group === group && r.version === version).flatMap(resourceEntries);
  const gv = groupVersion({ group, version });
  return group ? { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources } : { kind: 'APIResourceList', groupVersion: gv, resources };
}

/** Discovery of the groups of served custom resources: `/apis/<group>` and `/apis/<group>/<version>`. */
function customDocument(path: string, custom: readonly ResourceType[]): unknown {
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  const group = m && !API_GROUPS.includes(m[1]) ? customGroups(custom).find((g) => g.name === m[1]) : undefined;
  if (!m || !group) return undefined;
  if (m[2] === undefined) return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group.name, group.versions) };
  return group.versions.includes(m[2]) ? resourceList(group.name, m[2], custom) : undefined;
}

/**
 * The document served at a non-resource path, or undefined (404). `custom` are the resource
 * types of the Established CustomResourceDefinitions; `version` what `/version` answers (see
 * version.ts; default the 1.32 release).
 */
export function discoveryDocument(path: string, serverAddress: string, custom: readonly ResourceType[] = [], version: VersionInfo = kubeVersion().info): unknown {
  const p = path.replace(/\/+$/, '') || '/';
  if (p === '/version') return version;
  if (p === '/healthz' || p === '/livez' || p === '/readyz') return 'ok';
  if (p === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }
  if (p === '/api/v1') return resourceList('');
  if (p === '/apis') {
    const groups = [...API_GROUPS.map((g) => apiGroup(g)), ...customGroups(custom).map((g) => apiGroup(g.name, g.versions))];
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  const m = /^\/apis\/([^/]+)(?:\/(v1))?$/.exec(p);
  if (m && API_GROUPS.includes(m[1])) return m[2] ? resourceList(m[1]) : { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(m[1]) };
  return customDocument(p, custom);
}
