import { describe, expect, it } from '@jest/globals';
import { datasourceMounted } from '../../src/checks/datasource-mounted.js';
import { DATASOURCE_FILE, GRAFANA_POD, SEED_DATASOURCES_YAML, taskflowCluster, type FakeCluster } from '../fixtures/cluster.js';
import { attempt, taskflowStack, verdict } from '../fixtures/context.js';
import { datasourcesAnswer, SEED_DATASOURCE, withSession } from '../fixtures/endpoints.js';

const DIR = '/etc/grafana/provisioning/datasources';

/** The Grafana container's volumeMounts entry for the datasources volume. */
function datasourcesMount(cluster: FakeCluster) {
  const mounts = cluster.pod(GRAFANA_POD).spec!.containers[0]!.volumeMounts!;
  return mounts.find((m) => m.name === 'grafana-datasources')!;
}

function datasourcesVolume(cluster: FakeCluster) {
  return cluster.pod(GRAFANA_POD).spec!.volumes!.find((v) => v.name === 'grafana-datasources')!;
}

/** The TaskFlow stack, its Grafana listing `datasources` (what it provisioned when it started). */
async function whereGrafanaLists(cluster: FakeCluster, datasources: readonly unknown[]) {
  const stack = await taskflowStack({}, cluster);
  stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer(datasources)));
  return stack;
}

describe('datasource-mounted', () => {
  it('passes without reading the file when Grafana lists the ConfigMap\'s datasource as provisioned, with its name and URL', async () => {
    const cluster = taskflowCluster();
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`Grafana in pod ${GRAFANA_POD} provisioned "Prometheus" from ${DATASOURCE_FILE} (listed by its API with the name and URL of ConfigMap taskflow/grafana-datasources)`);
    expect(cluster.execs).toEqual([]);
  });

  it('reads the file in the container when Grafana lists the datasource with another URL, and passes when it is the ConfigMap\'s', async () => {
    const cluster = taskflowCluster();
    const outcome = await attempt(datasourceMounted, await whereGrafanaLists(cluster, [{ ...SEED_DATASOURCE, url: 'http://prometheus-old:9090' }]));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(`pod ${GRAFANA_POD} sees ${DATASOURCE_FILE}, identical to ConfigMap taskflow/grafana-datasources`);
    expect(cluster.execs).toEqual([`${GRAFANA_POD}/grafana: cat ${DATASOURCE_FILE}`]);
  });

  it('reads the file in the container when the listed datasource is read-only but the file says editable', async () => {
    const cluster = taskflowCluster();
    await attempt(datasourceMounted, await whereGrafanaLists(cluster, [{ ...SEED_DATASOURCE, readOnly: true }]));
    expect(cluster.execs).toEqual([`${GRAFANA_POD}/grafana: cat ${DATASOURCE_FILE}`]);
  });

  it('fails a pod that does not mount the ConfigMap (the seed\'s original Deployment), with the volume to add', async () => {
    const cluster = taskflowCluster();
    const spec = cluster.pod(GRAFANA_POD).spec!;
    spec.volumes = spec.volumes!.filter((v) => v.name !== 'grafana-datasources');
    spec.containers[0]!.volumeMounts = spec.containers[0]!.volumeMounts!.filter((m) => m.name !== 'grafana-datasources');
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`pod ${GRAFANA_POD} does not mount ConfigMap taskflow/grafana-datasources: Grafana cannot see the datasource file`);
    expect(outcome.hint).toContain(`mountPath: ${DIR}`);
    expect(outcome.hint).toContain('configMap: {name: grafana-datasources}');
    expect(outcome.retryable).toBe(false);
    expect(cluster.execs).toEqual([]);
  });

  it('fails a volume that no container mounts', async () => {
    const cluster = taskflowCluster();
    const container = cluster.pod(GRAFANA_POD).spec!.containers[0]!;
    container.volumeMounts = container.volumeMounts!.filter((m) => m.name !== 'grafana-datasources');
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`pod ${GRAFANA_POD} has a volume from ConfigMap taskflow/grafana-datasources but the grafana container does not mount it`);
  });

  it('fails a mount in another directory, naming both', async () => {
    const cluster = taskflowCluster();
    datasourcesMount(cluster).mountPath = '/etc/grafana/datasources';
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`pod ${GRAFANA_POD} mounts ConfigMap taskflow/grafana-datasources at /etc/grafana/datasources, not at ${DIR}`);
    expect(outcome.hint).toContain(`mountPath: ${DIR}`);
    expect(outcome.retryable).toBe(false);
  });

  it('checks the directory given by datasource-mount-path', async () => {
    const cluster = taskflowCluster();
    datasourcesMount(cluster).mountPath = '/usr/share/grafana/conf/provisioning/datasources';
    cluster.setFile(GRAFANA_POD, '/usr/share/grafana/conf/provisioning/datasources/datasources.yaml', SEED_DATASOURCES_YAML);
    const outcome = await attempt(datasourceMounted, await taskflowStack({ 'datasource-mount-path': '/usr/share/grafana/conf/provisioning/datasources/' }, cluster));
    expect(outcome.status).toBe('pass');
  });

  it('passes a subPath mount of the single file', async () => {
    const cluster = taskflowCluster();
    Object.assign(datasourcesMount(cluster), { mountPath: `${DIR}/prometheus.yaml`, subPath: 'datasources.yaml' });
    cluster.setFile(GRAFANA_POD, DATASOURCE_FILE, undefined).setFile(GRAFANA_POD, `${DIR}/prometheus.yaml`, SEED_DATASOURCES_YAML);
    const outcome = await attempt(datasourceMounted, await whereGrafanaLists(cluster, []));
    expect(outcome.status).toBe('pass');
    expect(cluster.execs).toEqual([`${GRAFANA_POD}/grafana: cat ${DIR}/prometheus.yaml`]);
  });

  it('passes a volume that projects the key under another file name (items)', async () => {
    const cluster = taskflowCluster();
    datasourcesVolume(cluster).configMap!.items = [{ key: 'datasources.yaml', path: 'taskflow.yaml' }];
    cluster.setFile(GRAFANA_POD, DATASOURCE_FILE, undefined).setFile(GRAFANA_POD, `${DIR}/taskflow.yaml`, SEED_DATASOURCES_YAML);
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain(`${DIR}/taskflow.yaml`);
  });

  it('fails when the container sees older content, with the restart hint', async () => {
    const cluster = taskflowCluster().setFile(GRAFANA_POD, DATASOURCE_FILE, SEED_DATASOURCES_YAML.replace('prometheus.taskflow', 'prometheus-server.taskflow'));
    // Grafana provisioned the file it saw when it started: the older one.
    const outcome = await attempt(datasourceMounted, await whereGrafanaLists(cluster, [{ ...SEED_DATASOURCE, url: 'http://prometheus-server.taskflow.svc.cluster.local:9090' }]));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(`${DATASOURCE_FILE} in pod ${GRAFANA_POD} differs from key datasources.yaml of ConfigMap taskflow/grafana-datasources`);
    expect(outcome.hint).toContain('kubectl rollout restart deployment/grafana');
  });

  it('fails when the running container lacks the file its spec mounts (a pod started before the mount)', async () => {
    const cluster = taskflowCluster().setFile(GRAFANA_POD, DATASOURCE_FILE, undefined);
    const outcome = await attempt(datasourceMounted, await whereGrafanaLists(cluster, []));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain(`cat says: cat: can't open '${DATASOURCE_FILE}': No such file or directory`);
    expect(outcome.hint).toContain('rollout restart');
  });

  it('warns when exec is forbidden, with the pods/exec rule', async () => {
    const cluster = taskflowCluster().deny('get', 'pods', 'exec');
    const outcome = await attempt(datasourceMounted, await whereGrafanaLists(cluster, []));
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toBe(`pod ${GRAFANA_POD} mounts ${DATASOURCE_FILE} per its spec; the file's content was not verified: exec into the pod is forbidden`);
    expect(outcome.hint).toContain('resources: ["pods/exec"]');
  });

  it('warns when the pod is not running, judging from its spec', async () => {
    const cluster = taskflowCluster().setPodStatus(GRAFANA_POD, { phase: 'Pending', waiting: 'ContainerCreating' });
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('warn');
    expect(outcome.summary).toBe(`pod ${GRAFANA_POD} mounts ${DATASOURCE_FILE} per its spec; the file could not be read because the pod is Pending`);
    expect(cluster.execs).toEqual([]);
  });

  it('fails when the pod mounts the ConfigMap but it does not exist', async () => {
    const cluster = taskflowCluster().remove('configmap', 'grafana-datasources');
    datasourcesVolume(cluster).configMap!.items = [{ key: 'datasources.yaml', path: 'datasources.yaml' }];
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('ConfigMap taskflow/grafana-datasources does not exist');
  });

  // The seed's half-applied fix: the Deployment mounts the ConfigMap, which was never created, so the
  // pod waits in ContainerCreating. The verdict must blame the missing ConfigMap, not the mount.
  it('blames the missing ConfigMap, not the mount, when the pod mounts a ConfigMap that does not exist', async () => {
    const cluster = taskflowCluster()
      .remove('configmap', 'grafana-datasources')
      .setPodStatus(GRAFANA_POD, { phase: 'Pending', waiting: 'ContainerCreating' });
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).not.toContain('no container mounts it');
    expect(outcome.summary).toContain('ConfigMap taskflow/grafana-datasources does not exist');
  });

  it('fails when there is no Grafana pod', async () => {
    const outcome = await attempt(datasourceMounted, await taskflowStack({}, taskflowCluster().remove('pod', GRAFANA_POD)));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('no Grafana pod found: searched pods labelled app.kubernetes.io/name=grafana or app=grafana in namespace taskflow or any namespace the credentials may list');
  });

  it('fails when the Grafana pod is gone by the time the check runs', async () => {
    const stack = await taskflowStack();
    stack.cluster.remove('pod', GRAFANA_POD);
    const outcome = await attempt(datasourceMounted, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('no Grafana pod matches app=grafana in taskflow');
  });

  it('gives the runner a final verdict without retrying a missing mount', async () => {
    const cluster = taskflowCluster();
    datasourcesMount(cluster).mountPath = '/etc/grafana/datasources';
    const result = await verdict(datasourceMounted, await taskflowStack({}, cluster), 300);
    expect(result.status).toBe('fail');
    expect(result.attempts).toBe(1);
  });
});
