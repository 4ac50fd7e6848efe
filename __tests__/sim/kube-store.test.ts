/**
 * The simulated cluster's object store: manifests, controllers (pods, Endpoints), pod status
 * scenarios, container files, cluster DNS and kube-proxy routing, and watch history.
 */
import { describe, expect, it } from '@jest/globals';
import { ObjectStore, type KubeObject, type StoreEvent } from '../../sim/kube/index.js';
import { parseFieldSelector, parseLabelSelector } from '../../sim/kube/selectors.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: taskflow }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: grafana-datasources, namespace: taskflow }
data:
  datasources.yaml: |
    apiVersion: 1
    datasources:
    - name: Prometheus
      url: http://prometheus.taskflow.svc.cluster.local:9090
  other.yaml: "x: 1"
---
apiVersion: v1
kind: Secret
metadata: { name: grafana-admin, namespace: taskflow }
stringData: { password: admin2024 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: grafana, namespace: taskflow }
spec:
  replicas: 2
  selector: { matchLabels: { app: grafana } }
  template:
    metadata: { labels: { app: grafana, tier: ui } }
    spec:
      serviceAccountName: grafana
      containers:
      - name: grafana
        image: grafana/grafana:11.5.0
        ports: [{ name: http, containerPort: 3000 }]
        volumeMounts:
        - { name: datasources, mountPath: /etc/grafana/provisioning/datasources, readOnly: true }
        - { name: admin, mountPath: /etc/secrets/pw, subPath: password }
        - { name: only-one, mountPath: /etc/picked }
      - name: sidecar
        image: busybox
      volumes:
      - { name: datasources, configMap: { name: grafana-datasources } }
      - { name: admin, secret: { secretName: grafana-admin } }
      - { name: only-one, configMap: { name: grafana-datasources, items: [{ key: other.yaml, path: renamed.yaml }] } }
---
apiVersion: v1
kind: Service
metadata: { name: grafana, namespace: taskflow }
spec:
  selector: { app: grafana }
  ports: [{ name: web, port: 80, targetPort: http }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: postgres, namespace: taskflow }
spec:
  serviceName: postgres
  replicas: 2
  selector: { matchLabels: { app: postgres } }
  template:
    metadata: { labels: { app: postgres } }
    spec: { containers: [{ name: postgres, image: postgres:16, ports: [{ containerPort: 5432 }] }] }
`;

function newStore(): ObjectStore {
  const store = new ObjectStore({ ipBase: '127.31.0' });
  store.loadYaml(MANIFESTS);
  return store;
}

const status = (obj: KubeObject) => obj.status as Record<string, any>;

describe('label and field selectors', () => {
  const labels = { app: 'grafana', tier: 'ui' };
  it.each([
    ['app=grafana', true],
    ['app==grafana,tier=ui', true],
    ['app!=grafana', false],
    ['app in (grafana, prometheus)', true],
    ['app notin (grafana)', false],
    ['tier', true],
    ['!tier', false],
    ['missing!=x', true],
    ['', true],
  ])('%s → %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it('rejects a malformed selector', () => {
    expect(() => parseLabelSelector('a=b=c')).toThrow(/unable to parse/);
  });

  it('matches field paths', () => {
    const pod = { metadata: { name: 'p' }, status: { phase: 'Running' } };
    expect(parseFieldSelector('metadata.name=p,status.phase!=Pending')(pod)).toBe(true);
    expect(parseFieldSelector('metadata.name=q')(pod)).toBe(false);
  });
});

describe('ObjectStore controllers', () => {
  it('gives Deployment pods realistic names, labels, spec and a Running status on loopback IPs', () => {
    const store = newStore();
    const pods = store.list('Pod', 'taskflow', 'app=grafana');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^grafana-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(pod.metadata.labels).toMatchObject({ app: 'grafana', tier: 'ui' });
      expect(pod.metadata.labels?.['pod-template-hash']).toHaveLength(10);
      expect((pod.spec as any).serviceAccountName).toBe('grafana');
      expect(status(pod).phase).toBe('Running');
      expect(status(pod).podIP).toMatch(/^127\.31\.0\.\d+$/);
      expect(status(pod).hostIP).toBe('127.31.0.1');
      expect(status(pod).conditions).toEqual(
        expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]),
      );
      expect(status(pod).containerStatuses[0]).toMatchObject({ ready: true, restartCount: 0, state: { running: {} } });
    }
    expect(store.list('ReplicaSet', 'taskflow')).toHaveLength(1);
    expect(status(store.get('Deployment', 'taskflow', 'grafana')!)).toMatchObject({ replicas: 2, readyReplicas: 2 });
  });

  it('names StatefulSet pods by ordinal', () => {
    const names = newStore().list('Pod', 'taskflow', 'app=postgres').map((p) => p.metadata.name);
    expect(names).toEqual(['postgres-0', 'postgres-1']);
  });

  it('picks a random default ipBase in 127.100-250', () => {
    expect(new ObjectStore().ipBase).toMatch(/^127\.(1\d\d|2[0-4]\d|250)\.\d{1,3}$/);
  });

  it('computes Endpoints from the selector, resolving named target ports', () => {
    const store = newStore();
    const ep = store.get('Endpoints', 'taskflow', 'grafana')!;
    const subsets = ep.subsets as any[];
    expect(subsets).toHaveLength(1);
    expect(subsets[0].ports).toEqual([{ name: 'web', port: 3000, protocol: 'TCP' }]);
    expect(subsets[0].addresses.map((a: any) => a.ip).sort()).toEqual(
      store.list('Pod', 'taskflow', 'app=grafana').map((p) => status(p).podIP).sort(),
    );
  });

  it('moves a crash-looping pod to notReadyAddresses and drops a pending one', () => {
    const store = newStore();
    const [a, b] = store.list('Pod', 'taskflow', 'app=grafana');
    const [crashing] = store.setPodStatus('taskflow', a.metadata.name, {
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
      restartCount: 7,
      container: 'grafana',
    });
    expect(status(crashing).containerStatuses[0]).toMatchObject({
      name: 'grafana',
      ready: false,
      restartCount: 7,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
    });
    expect(status(crashing).conditions.find((c: any) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      message: 'containers with unready status: [grafana]',
    });
    let subsets = store.get('Endpoints', 'taskflow', 'grafana')!.subsets as any[];
    expect(subsets[0].notReadyAddresses.map((x: any) => x.ip)).toEqual([status(a).podIP]);
    expect(subsets[0].addresses.map((x: any) => x.ip)).toEqual([status(b).podIP]);

    const [pending] = store.setPodStatus('taskflow', b.metadata.name, { phase: 'Pending' });
    expect(status(pending).podIP).toBeUndefined();
    subsets = store.get('Endpoints', 'taskflow', 'grafana')!.subsets as any[];
    expect(subsets[0].addresses).toBeUndefined();
    expect(status(store.get('Deployment', 'taskflow', 'grafana')!).readyReplicas).toBeUndefined();

    const [started] = store.setPodStatus('taskflow', b.metadata.name, { phase: 'Running' });
    expect(status(started).podIP).toBe(status(b).podIP);
    expect(status(started).containerStatuses.every((c: any) => c.ready && c.state.running)).toBe(true);
  });

  it('has no subsets when no pod matches, and recreates deleted pods', () => {
    const store = newStore();
    store.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'empty', namespace: 'taskflow' },
      spec: { selector: { app: 'nothing' }, ports: [{ port: 9090 }] },
    });
    expect(store.get('Endpoints', 'taskflow', 'empty')!.subsets).toBeUndefined();
    const victim = store.list('Pod', 'taskflow', 'app=grafana')[0];
    store.delete('Pod', 'taskflow', victim.metadata.name);
    const after = store.list('Pod', 'taskflow', 'app=grafana');
    expect(after).toHaveLength(2);
    expect(after.map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
  });

  it('replaces pods when the template changes', () => {
    const store = newStore();
    const before = store.list('Pod', 'taskflow', 'app=grafana').map((p) => p.metadata.name);
    const deploy = store.get('Deployment', 'taskflow', 'grafana')!;
    (deploy.spec as any).template.metadata.labels.version = 'v2';
    store.apply(deploy);
    const after = store.list('Pod', 'taskflow', 'app=grafana');
    expect(after).toHaveLength(2);
    expect(after.every((p) => p.metadata.labels?.version === 'v2')).toBe(true);
    expect(after.some((p) => before.includes(p.metadata.name))).toBe(false);
    expect(store.list('ReplicaSet', 'taskflow')).toHaveLength(1);
  });
});

describe('ObjectStore as ClusterView', () => {
  it('computes container files from configMap and secret volumes, items and subPath', () => {
    const store = newStore();
    const pod = store.list('Pod', 'taskflow', 'app=grafana')[0].metadata.name;
    const files = store.containerFiles('taskflow', pod, 'grafana');
    expect([...files.keys()].sort()).toEqual([
      '/etc/grafana/provisioning/datasources/datasources.yaml',
      '/etc/grafana/provisioning/datasources/other.yaml',
      '/etc/picked/renamed.yaml',
      '/etc/secrets/pw',
    ]);
    expect(files.get('/etc/secrets/pw')).toBe('admin2024');
    expect(files.get('/etc/grafana/provisioning/datasources/datasources.yaml')).toContain('name: Prometheus');
    expect(store.containerFiles('taskflow', pod, 'sidecar').size).toBe(0);
  });

  it('resolves Service names as cluster DNS does', () => {
    const store = newStore();
    const ip = (store.get('Service', 'taskflow', 'grafana')!.spec as any).clusterIP;
    expect(ip).toMatch(/^10\.96\.\d+\.\d+$/);
    for (const name of ['grafana.taskflow', 'grafana.taskflow.svc', 'grafana.taskflow.svc.cluster.local']) {
      expect(store.lookupHost(name, 'default')).toEqual({ name: 'grafana.taskflow.svc.cluster.local', address: ip });
    }
    expect(store.lookupHost('grafana', 'taskflow')?.address).toBe(ip);
    expect(store.lookupHost('grafana', 'default')).toBeUndefined();
    expect(store.lookupHost('127.31.0.9', 'default')).toEqual({ name: '127.31.0.9', address: '127.31.0.9' });
  });

  it('routes like kube-proxy and fails like Go', () => {
    const store = newStore();
    const ip = (store.get('Service', 'taskflow', 'grafana')!.spec as any).clusterIP;
    const podIPs = store.list('Pod', 'taskflow', 'app=grafana').map((p) => status(p).podIP);
    const routed = store.dial('grafana', 80, 'taskflow');
    expect('address' in routed && podIPs.includes(routed.address) && routed.port === 3000).toBe(true);
    expect(store.dial(ip, 80, 'default')).toMatchObject({ port: 3000 });
    expect(store.dial('grafana', 81, 'taskflow')).toEqual({ error: `dial tcp ${ip}:81: i/o timeout` });
    expect(store.dial('nope', 80, 'taskflow')).toEqual({ error: 'dial tcp: lookup nope on 10.96.0.10:53: no such host' });
    expect(store.dial('8.8.8.8', 53, 'taskflow')).toEqual({ error: 'dial tcp 8.8.8.8:53: i/o timeout' });
    store.setPodStatus('taskflow', 'app=grafana', { ready: false });
    expect(store.dial('grafana', 80, 'taskflow')).toEqual({ error: `dial tcp ${ip}:80: connect: connection refused` });
  });

  it('keeps appended log lines per container', () => {
    const store = newStore();
    store.appendLog('taskflow', 'p', 'c', 'one\n');
    store.appendLog('taskflow', 'p', 'c', 'two');
    expect(store.podLogs('taskflow', 'p', 'c').map((e) => e.line)).toEqual(['one', 'two']);
  });
});

describe('ObjectStore watch history', () => {
  it('emits events with increasing resourceVersions and replays them', () => {
    const store = newStore();
    const seen: StoreEvent[] = [];
    const stop = store.watch((e) => seen.push(e));
    const rv = Number(store.resourceVersion);
    const pod = store.list('Pod', 'taskflow', 'app=postgres')[0].metadata.name;
    store.setPodStatus('taskflow', pod, { ready: false });
    stop();
    expect(seen.map((e) => `${e.type} ${e.object.kind}`)).toContain('MODIFIED Pod');
    expect(seen.every((e) => e.resourceVersion > rv)).toBe(true);
    expect(store.eventsSince(rv)?.map((e) => e.resourceVersion)).toEqual(seen.map((e) => e.resourceVersion));
    store.compact();
    expect(store.eventsSince(rv)).toBeUndefined();
    expect(store.eventsSince(Number(store.resourceVersion))).toEqual([]);
  });

  it('does not bump the resourceVersion when nothing changes', () => {
    const store = newStore();
    const rv = store.resourceVersion;
    store.apply(store.get('ConfigMap', 'taskflow', 'grafana-datasources')!);
    expect(store.resourceVersion).toBe(rv);
  });
});
