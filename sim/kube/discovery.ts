/**
 * The non-resource endpoints: version, health, and legacy (unaggregated) API discovery. Clients
 * that ask for aggregated discovery get these plain documents too and fall back to them.
 */
import { API_GROUPS, RESOURCE_TYPES, groupVersion, type ResourceType } from './resources.js';

const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** Kinds of the subresources' option objects, as discovery names them. */
const SUBRESOURCE_KINDS: Record<string, string> = {
  'pods/exec': 'PodExecOptions',
  'pods/portforward': 'PodPortForwardOptions',
  'pods/proxy': 'PodProxyOptions',
  'services/proxy': 'ServiceProxyOptions',
};

function versionEntry(group: string) {
  const gv = groupVersion({ group, version: 'v1' });
  return { groupVersion: gv, version: 'v1' };
}

function apiGroup(group: string) {
  return { name: group, versions: [versionEntry(group)], preferredVersion: versionEntry(group) };
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
    return { name, singularName: '', namespaced: r.namespaced, kind: SUBRESOURCE_KINDS[name] ?? r.kind, verbs };
  });
  return [main, ...subs];
}

function resourceList(group: string) {
  const resources = RESOURCE_TYPES.filter((r) => r.group === group).flatMap(resourceEntries);
  const gv = groupVersion({ group, version: 'v1' });
  return group ? { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources } : { kind: 'APIResourceList', groupVersion: gv, resources };
}

/** The document served at a non-resource path, or undefined (404). */
export function discoveryDocument(path: string, serverAddress: string): unknown {
  const p = path.replace(/\/+$/, '') || '/';
  if (p === '/version') return SERVER_VERSION;
  if (p === '/healthz' || p === '/livez' || p === '/readyz') return 'ok';
  if (p === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }
  if (p === '/api/v1') return resourceList('');
  if (p === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: API_GROUPS.map(apiGroup) };
  const m = /^\/apis\/([^/]+)(?:\/(v1))?$/.exec(p);
  if (m && API_GROUPS.includes(m[1])) return m[2] ? resourceList(m[1]) : { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(m[1]) };
  return undefined;
}
