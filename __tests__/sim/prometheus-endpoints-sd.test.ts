/**
 * EndpointSlices as the EndpointSlice controller keeps them, and Prometheus 2.42's discovery of
 * roles endpoints and endpointslice over them: the `__meta_kubernetes_*` labels of each target,
 * and list/watch through the API server with a ServiceAccount token, where RBAC decides (a
 * refused list is logged as client-go's reflector logs it, and no namespace yields targets
 * before its Endpoints, Services and Pods have all been listed).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiServer, type KubeObject } from '../../sim/kube/index.js';
import {
  EndpointsDiscovery,
  endpointSliceTargetGroups,
  endpointsTargetGroups,
  type EndpointSliceObject,
  type EndpointsObject,
  type Lookup,
  type ServiceObject,
} from '../../sim/prometheus/endpoints-sd.js';
import type { PodObject, TargetGroup } from '../../sim/prometheus/kubernetes-sd.js';

type Obj = Record<string, any>;

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, app.kubernetes.io/name: web } }
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{ name: http, containerPort: 8080 }, { name: metrics, containerPort: 9113 }]
      - name: sidecar
        image: busybox:1.36
        ports: [{ name: admin, containerPort: 7000, protocol: UDP }]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: { app.kubernetes.io/name: web, tier: front }
  annotations: { prometheus.io/scrape: "true" }
spec:
  selector: { app: web }
  ports:
  - { name: http-metrics, port: 80, targetPort: metrics }
  - { port: 8080 }
---
apiVersion: v1
kind: Service
metadata: { name: nobody, namespace: shop }
spec:
  selector: { app: nobody }
  ports: [{ name: http, port: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: external, namespace: shop }
spec:
  ports: [{ name: http, port: 80 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: shop }
spec:
  serviceName: db
  replicas: 1
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers: [{ name: db, image: postgres:16, ports: [{ name: pg, containerPort: 5432 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: db, namespace: shop }
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ name: pg, port: 5432 }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: prometheus, namespace: shop }
`;

let api: KubeApiServer;
let dir: string;

const byName = (a: KubeObject, b: KubeObject) => a.metadata.name.localeCompare(b.metadata.name);

function slicesOf(service: string): KubeObject[] {
  return api.store.list('EndpointSlice', 'shop', `kubernetes.io/service-name=${service}`);
}

function lookup(): Lookup {
  return {
    service: (ns, name) => api.store.get('Service', ns, name) as unknown as ServiceObject | undefined,
    pod: (ns, name) => api.store.get('Pod', ns, name) as unknown as PodObject | undefined,
  };
}

function get(path: string, token: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${api.url}${path}`, { ca: api.caPem, headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-endpoints-sd-'));
  api = new KubeApiServer({ manifests: MANIFESTS, ipBase: '127.0.43' });
  await api.start();
  writeFileSync(join(dir, 'ca.crt'), api.caPem);
  writeFileSync(join(dir, 'token'), api.serviceAccountToken('shop', 'prometheus'));
});

afterAll(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the EndpointSlice controller', () => {
  it('keeps one slice per Service with a selector, named, labelled and owned as the controller does', () => {
    const svc = api.store.get('Service', 'shop', 'web')!;
    const pods = api.store.list('Pod', 'shop', 'app=web').sort(byName);
    const [slice, ...more] = slicesOf('web');
    expect(more).toEqual([]);
    expect(slice!.metadata).toMatchObject({
      generateName: 'web-',
      labels: {
        'app.kubernetes.io/name': 'web',
        tier: 'front',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }],
    });
    expect(slice!.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slice!.addressType).toBe('IPv4');
    // The named targetPort is resolved to the container port; an unnamed Service port has name "".
    expect(slice!.ports).toEqual([
      { name: 'http-metrics', port: 9113, protocol: 'TCP' },
      { name: '', port: 8080, protocol: 'TCP' },
    ]);
    expect(slice!.endpoints).toEqual(
      pods.map((p) => ({
        addresses: [(p.status as Obj).podIP],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'sim-node',
        targetRef: { kind: 'Pod', namespace: 'shop', name: p.metadata.name, uid: p.metadata.uid },
      })),
    );
  });

  it('marks not-ready pods, gives a headless Service its label and hostnames, and a pod-less one a placeholder', () => {
    const [pod] = api.store.list('Pod', 'shop', 'app=web').sort(byName);
    api.store.setPodStatus('shop', pod!.metadata.name, { ready: false });
    const endpoint = (slicesOf('web')[0]!.endpoints as Obj[]).find((e) => e.targetRef.name === pod!.metadata.name);
    expect(endpoint!.conditions).toEqual({ ready: false, serving: false, terminating: false });
    api.store.setPodStatus('shop', pod!.metadata.name, { ready: true });

    const [db] = slicesOf('db');
    expect(db!.metadata.labels).toMatchObject({ 'service.kubernetes.io/headless': '' });
    expect((db!.endpoints as Obj[])[0]).toMatchObject({ hostname: 'db-0' });

    const [placeholder] = slicesOf('nobody');
    expect([placeholder!.endpoints, placeholder!.ports]).toEqual([null, null]);
    expect(slicesOf('external')).toEqual([]);
  });

  it('follows the Service: a lost selector or a deleted Service takes its slices along', () => {
    const extra = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'tmp', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
    api.store.apply(extra);
    expect(slicesOf('tmp')).toHaveLength(1);
    api.store.apply({ ...extra, spec: { ports: [{ port: 80 }] } });
    expect(slicesOf('tmp')).toEqual([]);
    api.store.apply(extra);
    expect(slicesOf('tmp')).toHaveLength(1);
    api.store.delete('Service', 'shop', 'tmp');
    expect(slicesOf('tmp')).toEqual([]);
  });

  it('puts at most 100 endpoints in a slice', () => {
    const labels = { app: 'many' };
    api.store.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'many', namespace: 'shop' },
      spec: { replicas: 150, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox:1.36', ports: [{ containerPort: 80 }] }] } } },
    });
    api.store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'many', namespace: 'shop' }, spec: { selector: labels, ports: [{ port: 80 }] } });
    expect(slicesOf('many').map((s) => (s.endpoints as unknown[]).length).sort()).toEqual([100, 50]);
    api.store.delete('Service', 'shop', 'many');
    api.store.delete('Deployment', 'shop', 'many');
    expect(slicesOf('many')).toEqual([]);
  });

  it('serves them under discovery.k8s.io/v1 with list, get and watch', async () => {
    const admin = api.issueToken('admin', ['system:masters']);
    const list = JSON.parse((await get('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb', admin)).text) as Obj;
    expect([list.kind, list.apiVersion, list.items.length]).toEqual(['EndpointSliceList', 'discovery.k8s.io/v1', 1]);
    const name = list.items[0].metadata.name as string;
    const one = JSON.parse((await get(`/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/${name}`, admin)).text) as Obj;
    expect([one.kind, one.metadata.name]).toEqual(['EndpointSlice', name]);
    const watch = await get('/apis/discovery.k8s.io/v1/endpointslices?watch=true&timeoutSeconds=1', admin);
    const names = watch.text.trim().split('\n').map((l) => (JSON.parse(l) as Obj).object.metadata.name as string);
    expect(names).toContain(name);
    const discovery = JSON.parse((await get('/apis/discovery.k8s.io/v1', admin)).text) as Obj;
    expect(discovery.resources).toEqual([{ name: 'endpointslices', singularName: 'endpointslice', namespaced: true, kind: 'EndpointSlice', verbs: expect.arrayContaining(['list', 'watch']) }]);
  });
});

describe('target groups of the endpoints and endpointslice roles', () => {
  const targetsOf = (groups: TargetGroup[]) => groups.map((g) => g.targets[0]);

  it('give each Endpoints address and port a target with the endpoint, service and pod labels', () => {
    const pods = api.store.list('Pod', 'shop', 'app=web').sort(byName);
    const ip = (p: KubeObject) => (p.status as Obj).podIP as string;
    const groups = endpointsTargetGroups(api.store.get('Endpoints', 'shop', 'web') as unknown as EndpointsObject, lookup());
    // Both ports of each address, then the container ports no endpoint port covered (admin/UDP).
    expect(targetsOf(groups).sort()).toEqual(
      pods.flatMap((p) => [`${ip(p)}:9113`, `${ip(p)}:8080`, `${ip(p)}:7000`]).sort(),
    );
    const metrics = groups.find((g) => g.targets[0] === `${ip(pods[0]!)}:9113`)!;
    expect(metrics.labels).toEqual({
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_endpoints_name: 'web',
      __meta_kubernetes_service_name: 'web',
      __meta_kubernetes_service_label_app_kubernetes_io_name: 'web',
      __meta_kubernetes_service_labelpresent_app_kubernetes_io_name: 'true',
      __meta_kubernetes_service_label_tier: 'front',
      __meta_kubernetes_service_labelpresent_tier: 'true',
      __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_service_annotationpresent_prometheus_io_scrape: 'true',
      __meta_kubernetes_endpoints_label_app_kubernetes_io_name: 'web',
      __meta_kubernetes_endpoints_labelpresent_app_kubernetes_io_name: 'true',
      __meta_kubernetes_endpoints_label_tier: 'front',
      __meta_kubernetes_endpoints_labelpresent_tier: 'true',
      __meta_kubernetes_endpoint_port_name: 'http-metrics',
      __meta_kubernetes_endpoint_port_protocol: 'TCP',
      __meta_kubernetes_endpoint_ready: 'true',
      __meta_kubernetes_endpoint_address_target_kind: 'Pod',
      __meta_kubernetes_endpoint_address_target_name: pods[0]!.metadata.name,
      __meta_kubernetes_endpoint_node_name: 'sim-node',
      __meta_kubernetes_pod_name: pods[0]!.metadata.name,
      __meta_kubernetes_pod_ip: ip(pods[0]!),
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_node_name: 'sim-node',
      __meta_kubernetes_pod_host_ip: api.store.hostIP,
      __meta_kubernetes_pod_uid: pods[0]!.metadata.uid,
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_pod_controller_name: (pods[0]!.metadata.ownerReferences as Obj[])[0]!.name,
      __meta_kubernetes_pod_label_app: 'web',
      __meta_kubernetes_pod_labelpresent_app: 'true',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'web',
      __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
      __meta_kubernetes_pod_label_pod_template_hash: pods[0]!.metadata.labels!['pod-template-hash'],
      __meta_kubernetes_pod_labelpresent_pod_template_hash: 'true',
      __meta_kubernetes_pod_container_name: 'web',
      __meta_kubernetes_pod_container_image: 'nginx:1.27',
      __meta_kubernetes_pod_container_port_name: 'metrics',
      __meta_kubernetes_pod_container_port_number: '9113',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
    });
    const admin = groups.find((g) => g.targets[0] === `${ip(pods[0]!)}:7000`)!;
    expect(admin.labels).toMatchObject({ __meta_kubernetes_pod_container_name: 'sidecar', __meta_kubernetes_pod_container_port_protocol: 'UDP', __meta_kubernetes_endpoints_name: 'web' });
    expect(admin.labels.__meta_kubernetes_endpoint_port_name).toBeUndefined();

    const [pod] = pods;
    api.store.setPodStatus('shop', pod!.metadata.name, { ready: false });
    const notReady = endpointsTargetGroups(api.store.get('Endpoints', 'shop', 'web') as unknown as EndpointsObject, lookup()).find((g) => g.targets[0] === `${ip(pod!)}:9113`)!;
    expect([notReady.labels.__meta_kubernetes_endpoint_ready, notReady.labels.__meta_kubernetes_pod_ready]).toEqual(['false', 'false']);
    api.store.setPodStatus('shop', pod!.metadata.name, { ready: true });

    const db = endpointsTargetGroups(api.store.get('Endpoints', 'shop', 'db') as unknown as EndpointsObject, lookup());
    expect(db[0]!.labels.__meta_kubernetes_endpoint_hostname).toBe('db-0');
  });

  it('give each EndpointSlice endpoint and port a target with the slice labels', () => {
    const [pod] = api.store.list('Pod', 'shop', 'app=web').sort(byName);
    const ip = (pod!.status as Obj).podIP as string;
    const slice = slicesOf('web')[0]!;
    const groups = endpointSliceTargetGroups(slice as unknown as EndpointSliceObject, lookup());
    const metrics = groups.find((g) => g.targets[0] === `${ip}:9113`)!;
    expect(metrics.labels).toMatchObject({
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_endpointslice_name: slice.metadata.name,
      __meta_kubernetes_endpointslice_address_type: 'IPv4',
      __meta_kubernetes_endpointslice_port_name: 'http-metrics',
      __meta_kubernetes_endpointslice_port_protocol: 'TCP',
      __meta_kubernetes_endpointslice_port: '9113',
      __meta_kubernetes_endpointslice_endpoint_conditions_ready: 'true',
      __meta_kubernetes_endpointslice_endpoint_conditions_serving: 'true',
      __meta_kubernetes_endpointslice_endpoint_conditions_terminating: 'false',
      __meta_kubernetes_endpointslice_address_target_kind: 'Pod',
      __meta_kubernetes_endpointslice_address_target_name: pod!.metadata.name,
      __meta_kubernetes_service_name: 'web',
      __meta_kubernetes_service_label_tier: 'front',
      __meta_kubernetes_pod_name: pod!.metadata.name,
      __meta_kubernetes_pod_container_name: 'web',
      __meta_kubernetes_pod_container_port_name: 'metrics',
    });
    // The unnamed Service port: a present but empty port name, as the controller writes it.
    expect(groups.find((g) => g.targets[0] === `${ip}:8080`)!.labels.__meta_kubernetes_endpointslice_port_name).toBe('');
    expect(endpointSliceTargetGroups(slicesOf('nobody')[0] as unknown as EndpointSliceObject, lookup())).toEqual([]);
  });
});

describe('endpoints discovery through the API server', () => {
  const access = () => ({ apiServerUrl: api.url, caFile: join(dir, 'ca.crt'), tokenFile: join(dir, 'token') });
  const rules = (resources: string[], group = '') => ({ apiGroups: [group], resources, verbs: ['list', 'watch'] });
  const grant = (name: string, ruleList: Obj[]) => {
    api.store.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: 'shop' }, rules: ruleList });
    api.store.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: 'shop' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'shop' }],
    });
  };

  it('logs each refused list as the reflector does and finds targets only once all three lists pass', async () => {
    const lines: string[] = [];
    const discovery = new EndpointsDiscovery({ ...access(), role: 'endpoints', namespaces: ['shop'], jobName: 'serviceMonitor/shop/web/0', log: (l) => lines.push(l) });
    discovery.start();
    try {
      const user = 'User \\"system:serviceaccount:shop:prometheus\\"';
      for (const [type, resource] of [
        ['*v1.Endpoints', 'endpoints'],
        ['*v1.Service', 'services'],
        ['*v1.Pod', 'pods'],
      ]) {
        const line = await eventually(`the refused list of ${resource}`, 10_000, () => lines.find((l) => l.includes(`Failed to watch ${type}:`)));
        expect(line).toContain(
          `msg="pkg/mod/k8s.io/client-go@v0.26.1/tools/cache/reflector.go:169: Failed to watch ${type}: failed to list ${type}: ${resource} is forbidden: ${user} cannot list resource \\"${resource}\\" in API group \\"\\" in the namespace \\"shop\\""`,
        );
        expect(lines).toContainEqual(expect.stringContaining(`level=warn component=k8s_client_runtime func=Warningf msg="pkg/mod/k8s.io/client-go@v0.26.1/tools/cache/reflector.go:169: failed to list ${type}:`));
      }
      const watched = () => api.requestLog.filter((r) => r.user === 'system:serviceaccount:shop:prometheus' && /watch=true/.test(r.query)).map((r) => r.path);
      grant('partial', [rules(['endpoints', 'services'])]);
      // Endpoints and Services listed (now watched), pods still refused: no targets yet.
      await eventually('the Endpoints and Services watches', 10_000, () => (watched().includes('/api/v1/namespaces/shop/endpoints') && watched().includes('/api/v1/namespaces/shop/services') ? true : undefined));
      expect(discovery.targetGroups()).toEqual([]);
      grant('pods', [rules(['pods'])]);
      const groups = await eventually('targets once the pods can be listed', 20_000, () => {
        const g = discovery.targetGroups();
        return g.length > 0 ? g : undefined;
      });
      expect([...new Set(groups.map((g) => g.labels.__meta_kubernetes_endpoints_name))].sort()).toEqual(['db', 'web']);
      await eventually('the three watches', 5000, () => (watched().includes('/api/v1/namespaces/shop/pods') ? true : undefined));
      expect(watched()).toEqual(expect.arrayContaining(['/api/v1/namespaces/shop/endpoints', '/api/v1/namespaces/shop/services', '/api/v1/namespaces/shop/pods']));
    } finally {
      discovery.stop();
    }
  }, 60_000);

  it('has the endpointslice role ask the server version, then list EndpointSlices of discovery.k8s.io', async () => {
    const lines: string[] = [];
    const discovery = new EndpointsDiscovery({ ...access(), role: 'endpointslice', namespaces: ['shop'], jobName: 'serviceMonitor/shop/web/0', log: (l) => lines.push(l) });
    discovery.start();
    try {
      const line = await eventually('the refused EndpointSlice list', 10_000, () => lines.find((l) => l.includes('Failed to watch *v1.EndpointSlice:')));
      expect(line).toContain(
        'failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User \\"system:serviceaccount:shop:prometheus\\" cannot list resource \\"endpointslices\\" in API group \\"discovery.k8s.io\\" in the namespace \\"shop\\"',
      );
      expect(api.requestLog.some((r) => r.path === '/version' && r.user === 'system:serviceaccount:shop:prometheus')).toBe(true);
      grant('slices', [rules(['endpointslices'], 'discovery.k8s.io')]);
      const groups = await eventually('EndpointSlice targets', 20_000, () => {
        const g = discovery.targetGroups();
        return g.length > 0 ? g : undefined;
      });
      const names = new Set(groups.map((g) => g.labels.__meta_kubernetes_service_name));
      expect([...names].sort()).toEqual(['db', 'web']);
    } finally {
      discovery.stop();
    }
  }, 60_000);
});
