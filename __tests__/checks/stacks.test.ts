/**
 * The Grafana-side checks on the stacks teams run: kube-prometheus-stack's datasource sidecar
 * (a labelled ConfigMap copied into an emptyDir) and kube-prometheus's datasource Secret — each
 * passes when healthy, and fails naming the stack's own objects when broken.
 */
import { describe, expect, it } from '@jest/globals';
import { datasourceConfigmap } from '../../src/checks/datasource-configmap.js';
import { datasourceMounted } from '../../src/checks/datasource-mounted.js';
import { grafanaDatasource } from '../../src/checks/grafana-datasource.js';
import { grafanaCredentials } from '../../src/credentials.js';
import { secrets } from '../../src/secrets.js';
import { datasourcesAnswer, SEED_DATASOURCE, withSession } from '../fixtures/endpoints.js';
import { attempt, settingsWith, stackOf } from '../fixtures/context.js';
import { KP_GRAFANA_POD, KPS_DATASOURCE, KPS_GRAFANA_POD, KPS_PASSWORD, KPS_PROMETHEUS, kpsCluster, kubePrometheusCluster, MONITORING } from '../fixtures/stacks.js';

const kps = (cluster = kpsCluster(), inputs: Record<string, string> = {}) => stackOf(cluster, { 'grafana-password': 'admin2024', ...inputs }, { prometheus: KPS_PROMETHEUS, grafana: 'kps-grafana' });
const kubePrometheus = (cluster = kubePrometheusCluster(), inputs: Record<string, string> = {}) => stackOf(cluster, { 'grafana-password': 'admin2024', ...inputs }, { prometheus: 'prometheus-k8s', grafana: 'grafana' });

const KPS_LISTED = { ...SEED_DATASOURCE, uid: 'prometheus', url: `http://${KPS_PROMETHEUS}.monitoring:9090/`, isDefault: true, readOnly: true };

describe('kube-prometheus-stack: the datasource sidecar', () => {
  it('datasource-configmap passes on the ConfigMap carrying grafana_datasource=1, whose URL (trailing slash, no .svc) leads to the Prometheus Service', async () => {
    const outcome = await attempt(datasourceConfigmap, await kps());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`ConfigMap monitoring/${KPS_DATASOURCE} provisions "Prometheus" (prometheus, http://${KPS_PROMETHEUS}.monitoring:9090/) → Service monitoring/${KPS_PROMETHEUS}:9090`);
  });

  it('datasource-configmap fails when the ConfigMap lost its label, naming the label and the namespace searched', async () => {
    const cluster = kpsCluster();
    delete cluster.configMaps[0]!.metadata!.labels!.grafana_datasource;
    const outcome = await attempt(datasourceConfigmap, await kps(cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('no ConfigMap or Secret labelled grafana_datasource=1 in monitoring: the datasource sidecar grafana-sc-datasources has nothing to copy into Grafana');
    expect(outcome.reason).toEqual({ code: 'provisioning.unlabelled', selector: 'grafana_datasource=1', namespaces: [MONITORING] });
    expect(outcome.hint).toContain('helm upgrade kps prometheus-community/kube-prometheus-stack -n monitoring');
    expect(outcome.hint).not.toContain('20-grafana-datasource.yaml');
  });

  it('datasource-mounted passes when the sidecar has copied the key into the grafana container', async () => {
    const outcome = await attempt(datasourceMounted, await kps());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`pod ${KPS_GRAFANA_POD} sees /etc/grafana/provisioning/datasources/datasource.yaml, identical to ConfigMap monitoring/${KPS_DATASOURCE}, copied by the sidecar grafana-sc-datasources`);
  });

  it("datasource-mounted fails when the file is not in the grafana container, pointing at the sidecar's log, never at a volumeMount", async () => {
    const cluster = kpsCluster();
    cluster.setFile(KPS_GRAFANA_POD, '/etc/grafana/provisioning/datasources/datasource.yaml', undefined);
    const outcome = await attempt(datasourceMounted, await kps(cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`/etc/grafana/provisioning/datasources/datasource.yaml is not in the grafana container of pod ${KPS_GRAFANA_POD}: the sidecar grafana-sc-datasources has not copied key datasource.yaml of ConfigMap monitoring/${KPS_DATASOURCE}`);
    expect(outcome.hint).toContain(`kubectl logs -n monitoring ${KPS_GRAFANA_POD} -c grafana-sc-datasources`);
    expect(outcome.hint).not.toContain('volumeMount');
  });

  it('datasource-mounted decides from the pod spec, with a warning, when Grafana crash-loops (no remount advice)', async () => {
    const cluster = kpsCluster();
    const status = cluster.pods.find((p) => p.metadata?.name === KPS_GRAFANA_POD)!.status!;
    const grafana = status.containerStatuses!.find((c) => c.name === 'grafana')!;
    grafana.ready = false;
    grafana.restartCount = 6;
    grafana.state = { waiting: { reason: 'CrashLoopBackOff' } };
    const outcome = await attempt(datasourceMounted, await kps(cluster));
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toContain('could not be read because the grafana container is CrashLoopBackOff (6 restarts)');
    expect(outcome.reason).toEqual({ code: 'mount.spec-only', pod: KPS_GRAFANA_POD, why: 'not-running' });
    expect(`${outcome.summary} ${outcome.hint}`).not.toMatch(/recreate|mounts the volume again/i);
  });

  it('datasource-mounted fails when the sidecar container is not running', async () => {
    const cluster = kpsCluster();
    const sidecar = cluster.pods.find((p) => p.metadata?.name === KPS_GRAFANA_POD)!.status!.containerStatuses!.find((c) => c.name === 'grafana-sc-datasources')!;
    sidecar.state = { waiting: { reason: 'CrashLoopBackOff' } };
    sidecar.restartCount = 3;
    const outcome = await attempt(datasourceMounted, await kps(cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`the datasource sidecar grafana-sc-datasources of pod ${KPS_GRAFANA_POD} is CrashLoopBackOff (3 restarts): nothing copies the datasource into Grafana`);
  });

  it("grafana-datasource looks for the stack's default Prometheus datasource and compares URLs by the Service they lead to", async () => {
    const stack = await kps();
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([KPS_LISTED])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`Grafana lists "Prometheus" (prometheus, http://${KPS_PROMETHEUS}.monitoring:9090/, uid prometheus, default)`);
  });

  it('grafana-datasource warns on a datasource Grafana lists but nothing provisions', async () => {
    const stack = await kps(undefined, { 'datasource-name': 'Hand made' });
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([KPS_LISTED, { ...KPS_LISTED, uid: 'hand', name: 'Hand made', isDefault: false, readOnly: false }])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toContain("but nothing provisions it: it lives only in Grafana's database");
  });

  it("reads Grafana's admin credentials from the one Secret the grafana container's env names, masking them", async () => {
    const cluster = kpsCluster();
    const settings = settingsWith();
    const stack = await stackOf(cluster, {}, { prometheus: KPS_PROMETHEUS, grafana: 'kps-grafana' });
    const read = await grafanaCredentials(settings, stack.found, cluster);
    expect(read.credentials).toEqual({ user: 'admin', password: KPS_PASSWORD, token: '' });
    expect(read.note).toBe("Grafana's admin credentials read from Secret monitoring/kps-grafana (admin-user, admin-password)");
    expect(secrets.redact(`x ${KPS_PASSWORD} y`)).toBe('x *** y');
    expect(cluster.calls.filter((c) => c.startsWith('get secrets') || c.startsWith('list secrets'))).toEqual(['get secrets in namespace monitoring']);
  });

  it('says which rule would let it read the credentials Secret when that is refused', async () => {
    const cluster = kpsCluster().deny('get', 'secrets');
    const stack = await stackOf(cluster, {}, { prometheus: KPS_PROMETHEUS, grafana: 'kps-grafana' });
    const read = await grafanaCredentials(settingsWith(), stack.found, cluster);
    expect(read.fromCluster).toBe(false);
    expect(read.note).toContain('get secrets kps-grafana in namespace monitoring is forbidden');
    expect(read.note).toContain('resourceNames: ["kps-grafana"]');
  });

  it('never reads a Secret with grafana-credentials none, or when a password is given', async () => {
    for (const inputs of [{ 'grafana-credentials': 'none' }, { 'grafana-password': 'given' }] as Record<string, string>[]) {
      const cluster = kpsCluster();
      const stack = await stackOf(cluster, inputs, { prometheus: KPS_PROMETHEUS, grafana: 'kps-grafana' });
      await grafanaCredentials(settingsWith(inputs), stack.found, cluster);
      expect(cluster.calls.filter((c) => c.includes('secrets'))).toEqual([]);
    }
  });
});

describe('kube-prometheus: the datasource Secret', () => {
  it('datasource-configmap passes on the Secret grafana-datasources (url with .svc, no uid)', async () => {
    const outcome = await attempt(datasourceConfigmap, await kubePrometheus());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('Secret monitoring/grafana-datasources provisions "prometheus" (prometheus, http://prometheus-k8s.monitoring.svc:9090) → Service monitoring/prometheus-k8s:9090');
  });

  it('decides from the file Grafana sees, with a warning, when the Secret may not be read', async () => {
    const outcome = await attempt(datasourceConfigmap, await kubePrometheus(kubePrometheusCluster().deny('get', 'secrets')));
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toBe(
      `Secret monitoring/grafana-datasources provisions "prometheus" (prometheus, http://prometheus-k8s.monitoring.svc:9090) → Service monitoring/prometheus-k8s:9090, as read in ${KP_GRAFANA_POD}:/etc/grafana/provisioning/datasources; Secret monitoring/grafana-datasources could not be read (get secrets grafana-datasources is forbidden)`,
    );
    expect(outcome.hint).toContain('resourceNames: ["grafana-datasources"]');
  });

  it('fails a wrong URL in the Secret with the fix in kube-prometheus words', async () => {
    const cluster = kubePrometheusCluster();
    cluster.secrets[0]!.data!['datasources.yaml'] = Buffer.from(Buffer.from(cluster.secrets[0]!.data!['datasources.yaml']!, 'base64').toString().replace(':9090', ':9091')).toString('base64');
    const outcome = await attempt(datasourceConfigmap, await kubePrometheus(cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('datasource "prometheus" in Secret monitoring/grafana-datasources (datasources.yaml) has url http://prometheus-k8s.monitoring.svc:9091, expected http://prometheus-k8s.monitoring.svc.cluster.local:9090');
    expect(outcome.hint).toContain('values.grafana.datasources');
    expect(outcome.hint).toContain('kubectl rollout restart deployment/grafana -n monitoring');
  });

  it('datasource-mounted passes on the Secret volume, comparing the file with the Secret', async () => {
    const outcome = await attempt(datasourceMounted, await kubePrometheus());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`pod ${KP_GRAFANA_POD} sees /etc/grafana/provisioning/datasources/datasources.yaml, identical to Secret monitoring/grafana-datasources`);
  });
});

describe('grafana-operator: GrafanaDatasource objects', () => {
  /** kube-prometheus's Grafana, its datasource delivered by grafana-operator instead of a Secret volume. */
  function operatorCluster(conditions: Record<string, string>[] = [{ type: 'DatasourceSynchronized', status: 'True', reason: 'ApplySuccessful' }]) {
    const cluster = kubePrometheusCluster();
    const pod = cluster.pods.find((p) => p.metadata?.name === KP_GRAFANA_POD)!;
    pod.spec!.volumes = pod.spec!.volumes!.filter((v) => v.name !== 'grafana-datasources');
    pod.spec!.containers[0]!.volumeMounts = pod.spec!.containers[0]!.volumeMounts!.filter((m) => m.name !== 'grafana-datasources');
    cluster.setFile(KP_GRAFANA_POD, '/etc/grafana/provisioning/datasources/datasources.yaml', undefined);
    cluster.customs.set('grafana.integreatly.org/grafanadatasources', [
      {
        apiVersion: 'grafana.integreatly.org/v1beta1',
        kind: 'GrafanaDatasource',
        metadata: { name: 'prometheus', namespace: MONITORING },
        spec: { instanceSelector: { matchLabels: { dashboards: 'grafana' } }, datasource: { name: 'prometheus', type: 'prometheus', access: 'proxy', url: 'http://prometheus-k8s.monitoring.svc:9090', isDefault: true } },
        status: { conditions, uid: 'prom-uid' },
      },
    ]);
    return cluster;
  }

  it('discovery finds the route, and the checks pass on a synchronized GrafanaDatasource', async () => {
    const stack = await kubePrometheus(operatorCluster());
    expect(stack.found.datasource.ok && stack.found.datasource.value.delivery).toBe('grafana-operator');
    const configmap = await attempt(datasourceConfigmap, stack);
    expect(configmap.status).toBe('pass');
    expect(configmap.summary).toBe('GrafanaDatasource monitoring/prometheus provisions "prometheus" (prometheus, http://prometheus-k8s.monitoring.svc:9090) → Service monitoring/prometheus-k8s:9090');
    const mounted = await attempt(datasourceMounted, stack);
    expect(mounted).toMatchObject({ status: 'pass', summary: "no file to mount: grafana-operator GrafanaDatasource prometheus in monitoring delivers the datasource through Grafana's API" });
  });

  it("fails the datasource-configmap check with the object's failing condition", async () => {
    const stack = await kubePrometheus(operatorCluster([{ type: 'DatasourceSynchronized', status: 'False', reason: 'ApplyFailed', message: '[PUT /datasources/uid/{uid}][403] updateDataSourceByUidForbidden' }]));
    const outcome = await attempt(datasourceConfigmap, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('GrafanaDatasource monitoring/prometheus (datasource "prometheus") is not applied to Grafana: condition DatasourceSynchronized=False (ApplyFailed): [PUT /datasources/uid/{uid}][403] updateDataSourceByUidForbidden');
    expect(outcome.reason?.code).toBe('provisioning.operator-failed');
  });

  it('a datasource the operator provides is not "only in Grafana\'s database"', async () => {
    const stack = await kubePrometheus(operatorCluster());
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([{ ...SEED_DATASOURCE, uid: 'prom-uid', name: 'prometheus', url: 'http://prometheus-k8s.monitoring.svc:9090' }])));
    const outcome = await attempt(grafanaDatasource, stack);
    expect(outcome.status).toBe('pass');
  });
});
