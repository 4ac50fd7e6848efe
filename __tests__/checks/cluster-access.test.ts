import { describe, expect, it } from '@jest/globals';
import { clusterAccess, requiredPermissions } from '../../src/checks/cluster-access.js';
import { describePermission, KubeError } from '../../src/cluster.js';
import { taskflowCluster } from '../fixtures/cluster.js';
import { attempt, taskflowStack, verdict } from '../fixtures/context.js';

describe('cluster-access', () => {
  it('passes when the API server answers and every needed permission is granted', async () => {
    const outcome = await attempt(clusterAccess, await taskflowStack());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('https://203.0.113.10:6443');
    // The version costs a request: it is read only when something is missing.
    expect(outcome.summary).not.toContain('Kubernetes');
    expect(outcome.summary).toContain('may read everything the checks need');
    expect(outcome.summary).not.toContain('without');
  });

  it('asks the API server about exactly the permissions the default proxy-mode checks use', async () => {
    const { settings, found } = await taskflowStack();
    const needed = requiredPermissions(settings, found).map(describePermission);
    expect(needed.sort()).toEqual(
      [
        'list pods in namespace taskflow',
        'list services in namespace taskflow',
        'get services in namespace taskflow',
        'list endpointslices.discovery.k8s.io in namespace taskflow',
        'get configmaps in namespace taskflow',
        'get services/proxy in namespace taskflow',
        'create services/proxy in namespace taskflow',
      ].sort(),
    );
  });

  it('fails an expired token with the fix, without retrying (waiting cannot help)', async () => {
    const stack = await taskflowStack({}, taskflowCluster().expireCredentials());
    await expect(attempt(clusterAccess, stack)).rejects.toBeInstanceOf(KubeError);
    const result = await verdict(clusterAccess, stack, 300);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('HTTP 401 Unauthorized');
    expect(result.summary).toContain('rejected the kubeconfig');
    expect(result.hint).toContain('invalid or expired');
    expect(result.hint).toContain('kubectl create token');
    expect(result.attempts).toBe(1);
  });

  it('fails a missing get on configmaps, naming the verb, the resource and the Role rule to add', async () => {
    const stack = await taskflowStack({}, taskflowCluster().deny('get', 'configmaps'));
    const outcome = await attempt(clusterAccess, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('may not get configmaps in namespace taskflow');
    expect(outcome.summary).not.toContain('list pods');
    expect(outcome.hint).toContain('Role');
    expect(outcome.hint).toContain('- apiGroups: [""]\n  resources: ["configmaps"]\n  verbs: ["get"]');
    expect(outcome.retryable).toBe(false);
    expect(outcome.details?.missing).toEqual(['get configmaps in namespace taskflow']);
  });

  it('lists every missing permission with one rule each', async () => {
    const stack = await taskflowStack({}, taskflowCluster().deny('list', 'endpointslices').deny('get', 'endpoints').deny('get', 'services', 'proxy'));
    const outcome = await attempt(clusterAccess, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('list endpointslices.discovery.k8s.io in namespace taskflow');
    expect(outcome.summary).toContain('get services/proxy in namespace taskflow');
    expect(outcome.hint).toContain('these rules');
    expect(outcome.hint).toContain('- apiGroups: ["discovery.k8s.io"]\n  resources: ["endpointslices"]\n  verbs: ["list"]');
    expect(outcome.hint).toContain('(get endpoints in namespace taskflow does instead of list endpointslices.discovery.k8s.io in namespace taskflow.)');
    expect(outcome.hint).toContain('resources: ["services/proxy"]\n  verbs: ["get"]');
  });

  it('needs get on endpoints only when EndpointSlices may not be listed, and says the Endpoints are read then', async () => {
    expect((await attempt(clusterAccess, await taskflowStack({}, taskflowCluster().deny('get', 'endpoints')))).status).toBe('pass');
    const outcome = await attempt(clusterAccess, await taskflowStack({}, taskflowCluster().deny('list', 'endpointslices')));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain("without list endpointslices.discovery.k8s.io in namespace taskflow the Service's Endpoints are read instead (get endpoints in namespace taskflow)");
    const both = await attempt(clusterAccess, await taskflowStack({}, taskflowCluster().deny('list', 'endpointslices').deny('get', 'endpoints')));
    expect(both.status).toBe('fail');
    expect(both.details?.missing).toEqual(['list endpointslices.discovery.k8s.io in namespace taskflow']);
  });

  it('does not require a permission whose only checks are skipped', async () => {
    const stack = await taskflowStack({ 'skip-checks': 'prometheus-service' }, taskflowCluster().deny('list', 'endpointslices').deny('get', 'endpoints'));
    const outcome = await attempt(clusterAccess, stack);
    expect(outcome.status).toBe('pass');
  });

  // Through the proxy, grafana-datasource-health logs in with POST /login, which needs create on services/proxy.
  it('requires create on services/proxy for the Grafana login even when only grafana-datasource-health uses it', async () => {
    const cluster = taskflowCluster().deny('create', 'services', 'proxy');
    const outcome = await attempt(clusterAccess, await taskflowStack({ 'skip-checks': 'grafana-datasource,grafana-query' }, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('create services/proxy in namespace taskflow');
  });

  it('requires pods/portforward when Grafana is reached with a token only', async () => {
    const cluster = taskflowCluster().deny('get', 'pods', 'portforward');
    const outcome = await attempt(clusterAccess, await taskflowStack({ 'grafana-password': '', 'grafana-token': 'glsa_0123456789abcdef' }, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('get pods/portforward in namespace taskflow');
    expect(outcome.summary).not.toContain('glsa_');
  });

  // Kubernetes 1.35 authorizes a WebSocket port-forward or exec as both get and create (kubernetes/kubernetes#134577).
  it('requires create as well as get on pods/portforward, naming the verb', async () => {
    const cluster = taskflowCluster().deny('create', 'pods', 'portforward');
    const outcome = await attempt(clusterAccess, await taskflowStack({ 'grafana-password': '', 'grafana-token': 'glsa_0123456789abcdef' }, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('create pods/portforward in namespace taskflow');
    expect(outcome.hint).toContain('resources: ["pods/portforward"]\n  verbs: ["create"]');
  });

  it('fails with the list rule when discovery could not list pods at all', async () => {
    const stack = await taskflowStack({}, taskflowCluster().deny('list', 'pods'));
    const outcome = await attempt(clusterAccess, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('may not list pods in namespace taskflow');
  });

  it('passes without pods/exec, noting that the datasource file then cannot be read in the container', async () => {
    const stack = await taskflowStack({}, taskflowCluster().deny('get', 'pods', 'exec'));
    const outcome = await attempt(clusterAccess, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('without get pods/exec in namespace taskflow the datasource file cannot be read in the Grafana container');
    expect(outcome.details?.missingOptional).toEqual(['get pods/exec in namespace taskflow']);
  });

  it('warns when the credentials may not run access reviews', async () => {
    const stack = await taskflowStack({}, taskflowCluster().forbidAccessReviews());
    const outcome = await attempt(clusterAccess, stack);
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toContain('v1.32.2');
    expect(outcome.summary).toContain('may not run access reviews');
    expect(outcome.hint).toContain('selfsubjectaccessreviews');
    expect(outcome.hint).toContain('system:basic-user');
  });

  it('fails an unreachable API server with the server URL and a network hint, and keeps retrying', async () => {
    const stack = await taskflowStack({}, taskflowCluster().failNetwork());
    const result = await verdict(clusterAccess, stack, 150);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('cannot reach the API server https://203.0.113.10:6443');
    expect(result.summary).toContain('connection refused');
    expect(result.hint).toContain('server URL in the kubeconfig');
    expect(result.attempts).toBeGreaterThan(1);
  });
});
