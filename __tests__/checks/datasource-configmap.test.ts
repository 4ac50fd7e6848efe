import { describe, expect, it } from '@jest/globals';
import { datasourceConfigmap } from '../../src/checks/datasource-configmap.js';
import { SEED_DATASOURCES_YAML, taskflowCluster, type FakeCluster } from '../fixtures/cluster.js';
import { attempt, taskflowStack } from '../fixtures/context.js';

/** The TaskFlow cluster whose grafana-datasources ConfigMap holds `yaml` as datasources.yaml. */
function withDatasources(yaml: string, cluster: FakeCluster = taskflowCluster()): FakeCluster {
  cluster.configMap('grafana-datasources').data = { 'datasources.yaml': yaml };
  return cluster;
}

const withUrl = (url: string): string => SEED_DATASOURCES_YAML.replace('http://prometheus.taskflow.svc.cluster.local:9090', url);

describe('datasource-configmap', () => {
  it("passes on the seed's ConfigMap, naming the Service it points at", async () => {
    const outcome = await attempt(datasourceConfigmap, await taskflowStack());
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe(
      'ConfigMap taskflow/grafana-datasources provisions "Prometheus" (prometheus, http://prometheus.taskflow.svc.cluster.local:9090) → Service taskflow/prometheus:9090',
    );
  });

  it("fails when the ConfigMap is missing (the seed's original bug), with the fix", async () => {
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, taskflowCluster().remove('configmap', 'grafana-datasources')));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('ConfigMap taskflow/grafana-datasources does not exist, so Grafana is given no Prometheus datasource');
    expect(outcome.hint).toContain('kubectl apply -f 20-grafana-datasource.yaml');
    expect(outcome.hint).toContain('mount it at /etc/grafana/provisioning/datasources');
    expect(outcome.hint).toContain('restart Grafana');
  });

  it('fails a ConfigMap without a YAML key', async () => {
    const cluster = taskflowCluster();
    cluster.configMap('grafana-datasources').data = { 'datasources.json': '{}' };
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('has no .yaml key (keys: datasources.json)');
    expect(outcome.hint).toContain('datasources.yaml');
  });

  it('fails when no datasource has the expected name, listing the names it has', async () => {
    const cluster = withDatasources(SEED_DATASOURCES_YAML.replace('name: Prometheus', 'name: prometheus'));
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('ConfigMap taskflow/grafana-datasources provisions no datasource named "Prometheus" (it has: "prometheus")');
    expect(outcome.hint).toContain('datasource-name input');
    expect(outcome.retryable).toBe(false);
  });

  it('fails a file that is not valid YAML, naming it', async () => {
    const cluster = withDatasources('apiVersion: 1\ndatasources:\n- name: Prometheus\n  type: prometheus\n   url: http://x\n');
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('datasources.yaml is not valid YAML');
  });

  it('fails a datasource of another type', async () => {
    const cluster = withDatasources(SEED_DATASOURCES_YAML.replace('type: prometheus', 'type: loki'));
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('datasource "Prometheus" in ConfigMap taskflow/grafana-datasources (datasources.yaml) has type "loki", not prometheus');
  });

  it('fails a URL other than datasource-url, giving both', async () => {
    const cluster = withDatasources(withUrl('http://localhost:9090'));
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('has url http://localhost:9090, expected http://prometheus.taskflow.svc.cluster.local:9090');
    expect(outcome.hint).toContain('url: http://prometheus.taskflow.svc.cluster.local:9090');
    expect(outcome.retryable).toBe(false);
  });

  it('fails a URL that names a Service that does not exist', async () => {
    const url = 'http://prometheus-server.taskflow.svc.cluster.local:9090';
    const cluster = withDatasources(withUrl(url));
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({ 'datasource-url': url }, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('points at Service taskflow/prometheus-server, which does not exist');
    expect(outcome.hint).toContain('prometheus.taskflow.svc.cluster.local:9090');
  });

  it('fails a URL whose port the Service does not expose', async () => {
    const url = 'http://prometheus.taskflow.svc.cluster.local:9091';
    const cluster = withDatasources(withUrl(url));
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({ 'datasource-url': url }, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('uses port 9091, but Service taskflow/prometheus exposes 9090');
    expect(outcome.hint).toContain('http://prometheus.taskflow.svc.cluster.local:9090');
  });

  it('fails a file marking two datasources as default, which Grafana rejects', async () => {
    const yaml = `${SEED_DATASOURCES_YAML}- name: Loki\n  type: loki\n  access: proxy\n  url: http://loki:3100\n  isDefault: true\n`;
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, withDatasources(yaml)));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('2 datasources are marked isDefault');
    expect(outcome.hint).toContain('fix datasources.yaml');
    expect(outcome.retryable).toBe(false);
  });

  // Grafana checks default uniqueness across every provisioning file it reads, not per file.
  it('fails two files that each mark a datasource as default, which Grafana rejects', async () => {
    const cluster = taskflowCluster();
    cluster.configMap('grafana-datasources').data = {
      'datasources.yaml': SEED_DATASOURCES_YAML,
      'loki.yaml': 'apiVersion: 1\ndatasources:\n- name: Loki\n  type: loki\n  access: proxy\n  url: http://loki:3100\n  isDefault: true\n',
    };
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({}, cluster));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('isDefault');
  });

  it.each([
    ['svc', 'http://prometheus:9090'],
    ['svc.ns', 'http://prometheus.taskflow:9090'],
    ['svc.ns.svc', 'http://prometheus.taskflow.svc:9090'],
    ['svc.ns.svc.cluster.local', 'http://prometheus.taskflow.svc.cluster.local:9090/'],
  ])('passes the %s form of the Service URL', async (_form, url) => {
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({ 'datasource-url': url }, withDatasources(withUrl(url))));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('→ Service taskflow/prometheus:9090');
  });

  it('resolves a URL into another namespace there', async () => {
    const url = 'http://prometheus.monitoring:9090';
    const cluster = withDatasources(withUrl(url));
    const moved = structuredClone(cluster.service('prometheus'));
    moved.metadata!.namespace = 'monitoring';
    cluster.services.push(moved);
    cluster.remove('service', 'prometheus');
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({ 'datasource-url': url }, cluster));
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('→ Service monitoring/prometheus:9090');
  });

  it('fails when the datasource names the Service of another namespace that lacks it', async () => {
    const url = 'http://prometheus.monitoring.svc.cluster.local:9090';
    const outcome = await attempt(datasourceConfigmap, await taskflowStack({ 'datasource-url': url }, withDatasources(withUrl(url))));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('points at Service monitoring/prometheus, which does not exist');
  });
});
