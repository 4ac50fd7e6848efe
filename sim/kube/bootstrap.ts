/**
 * The objects every new cluster starts with: the system namespaces and the default RBAC policy
 * that lets any authenticated user discover the API and review its own access, and gives
 * `system:masters` cluster-admin.
 */
import type { KubeObject } from './view.js';

const RBAC_V1 = 'rbac.authorization.k8s.io/v1';

function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

function clusterRole(name: string, rules: Record<string, string[]>[]): KubeObject {
  return {
    apiVersion: RBAC_V1,
    kind: 'ClusterRole',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules,
  };
}

function groupBinding(name: string, group: string): KubeObject {
  return {
    apiVersion: RBAC_V1,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
  };
}

export const BOOTSTRAP_OBJECTS: readonly KubeObject[] = [
  namespace('default'),
  namespace('kube-system'),
  namespace('kube-public'),
  namespace('kube-node-lease'),
  clusterRole('cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  clusterRole('system:discovery', [
    {
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
      verbs: ['get'],
    },
  ]),
  clusterRole('system:basic-user', [
    {
      apiGroups: ['authorization.k8s.io'],
      resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
      verbs: ['create'],
    },
  ]),
  groupBinding('cluster-admin', 'system:masters'),
  groupBinding('system:discovery', 'system:authenticated'),
  groupBinding('system:basic-user', 'system:authenticated'),
];
