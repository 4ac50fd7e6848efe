/**
 * How the datasource reaches Grafana, read from the pod spec: a ConfigMap, a Secret or a
 * projected volume at the provisioning directory (whole, or one file with subPath), the
 * datasource sidecar sharing a volume with Grafana, or nothing.
 */
import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { grafanaContainer, mountedFiles, provisioningDir, routeOf, sidecarOf } from '../../src/stack/route.js';

const DIR = '/etc/grafana/provisioning/datasources';

function pod(containers: V1Container[], volumes: NonNullable<V1Pod['spec']>['volumes'], initContainers?: V1Container[]): V1Pod {
  return { metadata: { name: 'grafana-0', namespace: 'obs' }, spec: { containers, volumes, ...(initContainers ? { initContainers } : {}) } };
}

const grafana = (mounts: V1Container['volumeMounts'], env: V1Container['env'] = []): V1Container => ({ name: 'grafana', image: 'grafana/grafana:12.3.1', volumeMounts: mounts, env });

describe('the datasource route', () => {
  it('a ConfigMap mounted with subPath as one file in the directory (the grafana chart with datasources values)', () => {
    const p = pod([grafana([{ name: 'config', mountPath: `${DIR}/datasources.yaml`, subPath: 'datasources.yaml' }])], [{ name: 'config', configMap: { name: 'grafana' } }]);
    const route = routeOf(p, grafanaContainer(p), DIR, undefined, undefined);
    expect(route).toMatchObject({ delivery: 'configmap', objects: [{ kind: 'ConfigMap', namespace: 'obs', name: 'grafana' }], volume: 'config' });
    expect(mountedFiles(p, 'grafana', () => ['datasources.yaml', 'grafana.ini']).map((f) => f.path)).toEqual([`${DIR}/datasources.yaml`]);
  });

  it('a projected volume of a ConfigMap and a Secret, with items', () => {
    const p = pod([grafana([{ name: 'ds', mountPath: DIR }])], [{ name: 'ds', projected: { sources: [{ configMap: { name: 'prom-ds', items: [{ key: 'prom.yaml', path: 'prom.yaml' }] } }, { secret: { name: 'loki-ds' } }] } }]);
    const route = routeOf(p, grafanaContainer(p), DIR, undefined, undefined);
    expect(route.delivery).toBe('projected');
    expect(route.objects.map((o) => `${o.kind}/${o.name}`)).toEqual(['ConfigMap/prom-ds', 'Secret/loki-ds']);
    expect(route.description).toBe('ConfigMap obs/prom-ds + Secret obs/loki-ds mounted at /etc/grafana/provisioning/datasources (projected volume)');
  });

  it('GF_PATHS_PROVISIONING moves the directory, and wins over the input', () => {
    expect(provisioningDir(grafana([], [{ name: 'GF_PATHS_PROVISIONING', value: '/srv/provisioning' }]), '/other')).toBe('/srv/provisioning/datasources');
    expect(provisioningDir(grafana([]), '/other')).toBe('/other');
    expect(provisioningDir(grafana([]), undefined)).toBe(DIR);
  });

  it('an init container sidecar (METHOD=LIST) that fills the shared volume before Grafana starts', () => {
    const init: V1Container = { name: 'grafana-init-sc-datasources', image: 'quay.io/kiwigrid/k8s-sidecar:2.10.1', env: [{ name: 'METHOD', value: 'LIST' }, { name: 'LABEL', value: 'grafana_datasource' }, { name: 'FOLDER', value: DIR }, { name: 'NAMESPACE', value: 'ALL' }], volumeMounts: [{ name: 'sc', mountPath: DIR }] };
    const p = pod([grafana([{ name: 'sc', mountPath: DIR }])], [{ name: 'sc', emptyDir: {} }], [init]);
    const sidecar = sidecarOf(p, grafanaContainer(p), DIR);
    expect(sidecar).toEqual({ container: 'grafana-init-sc-datasources', label: 'grafana_datasource', folder: DIR, namespaces: 'ALL', resource: 'configmap', method: 'LIST', init: true });
    expect(routeOf(p, grafanaContainer(p), DIR, sidecar, undefined).description).toBe(
      'datasource sidecar grafana_datasource (container grafana-init-sc-datasources: ConfigMaps labelled grafana_datasource in every namespace, copied to /etc/grafana/provisioning/datasources)',
    );
  });

  it('a dashboards sidecar elsewhere is not the datasource sidecar', () => {
    const dash: V1Container = { name: 'grafana-sc-dashboard', image: 'quay.io/kiwigrid/k8s-sidecar:2.10.1', env: [{ name: 'LABEL', value: 'grafana_dashboard' }, { name: 'FOLDER', value: '/tmp/dashboards' }], volumeMounts: [{ name: 'dash', mountPath: '/tmp/dashboards' }] };
    const p = pod([dash, grafana([{ name: 'dash', mountPath: '/tmp/dashboards' }])], [{ name: 'dash', emptyDir: {} }]);
    expect(sidecarOf(p, grafanaContainer(p), DIR)).toBeUndefined();
    expect(routeOf(p, grafanaContainer(p), DIR, undefined, undefined).delivery).toBe('none');
  });

  it('the object the input names, when the pod does not mount it', () => {
    const p = pod([grafana([])], []);
    expect(routeOf(p, grafanaContainer(p), DIR, undefined, { kind: 'Secret', name: 'ds' })).toMatchObject({ delivery: 'unmounted', objects: [{ kind: 'Secret', namespace: 'obs', name: 'ds' }] });
  });

  it('the grafana container is found by name, else by image', () => {
    const p = pod([{ name: 'sidecar', image: 'busybox' }, { name: 'main', image: 'docker.io/grafana/grafana-enterprise:12.0.0' }], []);
    expect(grafanaContainer(p)?.name).toBe('main');
  });
});
