/**
 * Reviewing the credentials' permissions: one SelfSubjectRulesReview per namespace answers every
 * permission there, matched as RBAC matches; what it cannot settle (cluster scope, an incomplete
 * answer from a webhook authorizer, a permission the rules do not grant) is asked with a
 * SelfSubjectAccessReview. Against the simulated API server, through the action's cluster access.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { reviewAll, ruleGrants } from '../src/access.js';
import { KubeCluster, type Permission } from '../src/cluster.js';
import { KubeApiServer } from '../sim/kube/index.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: taskflow }
---
apiVersion: v1
kind: Namespace
metadata: { name: other }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: reader, namespace: taskflow }
rules:
- { apiGroups: [""], resources: [pods, services], verbs: [get, list] }
- { apiGroups: [""], resources: [configmaps], resourceNames: [grafana-datasources], verbs: [get] }
- { apiGroups: [""], resources: [pods/exec], verbs: [get, create] }
- { apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader, namespace: taskflow }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader }
subjects: [{ kind: ServiceAccount, name: checker, namespace: ci }]
`;

let server: KubeApiServer;
let cluster: KubeCluster;

beforeAll(async () => {
  server = new KubeApiServer({ manifests: MANIFESTS });
  await server.start();
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig({ token: server.serviceAccountToken('ci', 'checker'), namespace: 'taskflow' }));
  cluster = new KubeCluster(kc, 5000);
});

afterAll(async () => {
  await cluster?.close();
  await server?.stop();
});

/** The access-review requests the server received since `from`. */
function reviewsSince(from: number): string[] {
  return server.requestLog
    .slice(from)
    .filter((e) => e.path.includes('/apis/authorization.k8s.io/'))
    .map((e) => e.path.split('/').pop() as string);
}

const NEEDS: Permission[] = [
  { verb: 'list', resource: 'pods', namespace: 'taskflow' },
  { verb: 'get', resource: 'services', namespace: 'taskflow' },
  { verb: 'get', resource: 'configmaps', namespace: 'taskflow', name: 'grafana-datasources' },
  { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace: 'taskflow' },
  { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'taskflow' },
  { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'taskflow' },
];

describe('reviewing permissions', () => {
  it('answers every permission of a namespace with one SelfSubjectRulesReview', async () => {
    const from = server.requestLog.length;
    expect(await reviewAll(cluster, NEEDS)).toEqual(NEEDS.map(() => true));
    expect(reviewsSince(from)).toEqual(['selfsubjectrulesreviews']);
  });

  it('confirms with a SelfSubjectAccessReview what the rules do not grant, and asks cluster-scope permissions that way', async () => {
    const from = server.requestLog.length;
    const asked: Permission[] = [
      { verb: 'get', resource: 'configmaps', namespace: 'taskflow', name: 'another' },
      { verb: 'get', resource: 'pods', subresource: 'portforward', namespace: 'taskflow' },
      { verb: 'list', resource: 'pods' },
      { verb: 'list', resource: 'pods', namespace: 'taskflow' },
    ];
    expect(await reviewAll(cluster, asked)).toEqual([false, false, false, true]);
    expect(reviewsSince(from).sort()).toEqual(['selfsubjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews']);
  });

  it('falls back to one SelfSubjectAccessReview per permission when a webhook authorizer makes the rules incomplete', async () => {
    server.rulesMode = 'webhook';
    try {
      const from = server.requestLog.length;
      expect(await reviewAll(cluster, NEEDS)).toEqual(NEEDS.map(() => true));
      const asked = reviewsSince(from);
      expect(asked.filter((r) => r === 'selfsubjectaccessreviews')).toHaveLength(NEEDS.length);
    } finally {
      server.rulesMode = 'rbac';
    }
  });

  it('reads the rules of each namespace once, in parallel', async () => {
    const from = server.requestLog.length;
    await reviewAll(cluster, [...NEEDS, { verb: 'list', resource: 'pods', namespace: 'other' }]);
    const asked = reviewsSince(from);
    expect(asked.filter((r) => r === 'selfsubjectrulesreviews')).toHaveLength(2);
    // Nothing grants pods in "other": confirmed, and refused.
    expect(asked.filter((r) => r === 'selfsubjectaccessreviews')).toHaveLength(1);
  });
});

describe('matching a rule as RBAC does', () => {
  const p: Permission = { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'taskflow' };
  it.each([
    ['the exact resource/subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods/exec'] }, true],
    ['every resource', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, true],
    ['a star before the subresource', { verbs: ['get'], apiGroups: [''], resources: ['*/exec'] }, true],
    ['the resource without its subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, false],
    ['another verb', { verbs: ['list'], apiGroups: [''], resources: ['pods/exec'] }, false],
    ['another group', { verbs: ['get'], apiGroups: ['apps'], resources: ['pods/exec'] }, false],
    ['named objects only', { verbs: ['get'], apiGroups: [''], resources: ['pods/exec'], resourceNames: ['grafana-0'] }, false],
  ])('%s: %s', (_what, rule, granted) => {
    expect(ruleGrants(rule, p)).toBe(granted);
  });

  it('grants a named object only to a permission naming it', () => {
    const rule = { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['grafana'] };
    expect(ruleGrants(rule, { verb: 'get', resource: 'secrets', namespace: 'x', name: 'grafana' })).toBe(true);
    expect(ruleGrants(rule, { verb: 'get', resource: 'secrets', namespace: 'x', name: 'other' })).toBe(false);
  });
});
