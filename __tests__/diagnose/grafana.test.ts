import { describe, expect, it } from '@jest/globals';
import { datasourceConfigmap } from '../../src/checks/datasource-configmap.js';
import { datasourceMounted } from '../../src/checks/datasource-mounted.js';
import { grafanaApi } from '../../src/checks/grafana-api.js';
import { grafanaDatasourceHealth } from '../../src/checks/grafana-datasource-health.js';
import { grafanaDatasource } from '../../src/checks/grafana-datasource.js';
import { grafanaPod } from '../../src/checks/grafana-pod.js';
import { grafanaQuery } from '../../src/checks/grafana-query.js';
import { GrafanaClient } from '../../src/grafana.js';
import { provisioningLog } from '../../src/diagnose/grafana.js';
import { DATASOURCE_FILE, GRAFANA_POD, PROMETHEUS_POD, SEED_DATASOURCES_YAML, taskflowCluster, type FakeCluster } from '../fixtures/cluster.js';
import { taskflowStack, type Stack } from '../fixtures/context.js';
import { datasourcesAnswer, dsHealthConnectionRefused, dsHealthError, dsQueryError, json, SEED_DATASOURCE, withSession } from '../fixtures/endpoints.js';
import {
  CONFIGMAP,
  CONTAINERS,
  DEFAULT_CONFLICT_LOG,
  DEPLOYMENT,
  diagnoseCheck,
  diagnoseResult,
  DIR,
  failedResult,
  HEALTHY_START_LOG,
  nslookup,
  templateContainer,
  templateSpec,
  unmount,
  unmountEverywhere,
  WGET_UP,
  wget,
  withAdminEnv,
} from './grafana-fixtures.js';

const HEALTH_PATH = `/api/datasources/uid/${SEED_DATASOURCE.uid}/health`;
const URL = 'http://prometheus.taskflow.svc.cluster.local:9090';
const RESTART = 'kubectl rollout restart deployment/grafana -n taskflow';
const LOG_KEY = `${GRAFANA_POD}/grafana`;

/** Grafana lists no datasource (it was not provisioned). */
function grafanaListsNothing(stack: Stack): Stack {
  stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([])));
  return stack;
}

async function stackWith(edit: (cluster: FakeCluster) => void, inputs: Record<string, string> = {}): Promise<Stack> {
  const cluster = taskflowCluster();
  edit(cluster);
  return taskflowStack(inputs, cluster);
}

/** The ConfigMap's datasources.yaml, and what Grafana lists, with another url. */
function datasourceAt(stack: Stack, url: string): void {
  stack.cluster.configMap('grafana-datasources').data = { 'datasources.yaml': SEED_DATASOURCES_YAML.replace(URL, url) };
  stack.cluster.setFile(GRAFANA_POD, DATASOURCE_FILE, SEED_DATASOURCES_YAML.replace(URL, url));
  stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([{ ...SEED_DATASOURCE, url }])));
}

const URL_LINE = { object: CONFIGMAP, path: ['data', 'datasources.yaml'], embedded: ['datasources', 0, 'url'] };

describe('grafana-datasource: Grafana lists no such datasource (the chain)', () => {
  it('says first that the ConfigMap does not exist, with the manifest to apply', async () => {
    const stack = grafanaListsNothing(await stackWith((c) => c.remove('configmap', 'grafana-datasources')));
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.findings).toHaveLength(1);
    expect(d.first.cause).toBe('ConfigMap taskflow/grafana-datasources does not exist');
    expect(d.first.fix).toContain('kubectl apply -f 20-grafana-datasource.yaml');
    expect(d.first.fix).toContain(RESTART);
    expect(d.first.target).toEqual({ object: CONFIGMAP, path: [] });
    expect(d.notes).toEqual([]);
  });

  it('names the datasources the ConfigMap has when none is called datasource-name, targeting the name line', async () => {
    const stack = grafanaListsNothing(await taskflowStack());
    stack.cluster.configMap('grafana-datasources').data = { 'datasources.yaml': SEED_DATASOURCES_YAML.replace('name: Prometheus', 'name: Prom') };
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe('ConfigMap taskflow/grafana-datasources provisions no datasource named "Prometheus" (it has: "Prom")');
    expect(d.first.fix).toContain('Name the Prometheus datasource "Prometheus"');
    expect(d.first.target).toEqual({ object: CONFIGMAP, path: ['data', 'datasources.yaml'], embedded: ['datasources', 0, 'name'] });
  });

  it('points at the second isDefault when two datasources are marked default', async () => {
    const stack = grafanaListsNothing(await taskflowStack());
    const yaml = `${SEED_DATASOURCES_YAML}- name: Loki\n  type: loki\n  url: http://loki:3100\n  isDefault: true\n`;
    stack.cluster.configMap('grafana-datasources').data = { 'datasources.yaml': yaml };
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(
      'ConfigMap taskflow/grafana-datasources: 2 datasources are marked isDefault ("Prometheus" in datasources.yaml, "Loki" in datasources.yaml); Grafana provisions none of them: only one default datasource per organization',
    );
    expect(d.first.fix).toBe(`Keep isDefault: true on one datasource only (remove it from "Loki"), then ${RESTART}.`);
    expect(d.first.target).toEqual({ object: CONFIGMAP, path: ['data', 'datasources.yaml'], embedded: ['datasources', 1, 'isDefault'] });
  });

  it("says the Deployment's pod template does not mount the ConfigMap, targeting the container's volumeMounts", async () => {
    const stack = grafanaListsNothing(await stackWith(unmountEverywhere));
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`Deployment taskflow/grafana does not mount ConfigMap grafana-datasources at ${DIR}`);
    expect(d.first.fix).toContain(`{name: grafana-datasources, mountPath: ${DIR}, readOnly: true}`);
    expect(d.first.fix).toContain("the pod template's volumes: {name: grafana-datasources, configMap: {name: grafana-datasources}}");
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'volumeMounts'] });
  });

  it('targets the mountPath when the template mounts the ConfigMap elsewhere', async () => {
    const stack = grafanaListsNothing(
      await stackWith((c) => {
        templateContainer(c).volumeMounts!.find((m) => m.name === 'grafana-datasources')!.mountPath = '/etc/grafana/datasources';
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`Deployment taskflow/grafana mounts ConfigMap grafana-datasources at /etc/grafana/datasources, not at ${DIR}`);
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'volumeMounts', 0, 'mountPath'] });
  });

  it('says the running pod predates the template that mounts it: restart', async () => {
    const stack = grafanaListsNothing(await stackWith((c) => unmount(c.pod(GRAFANA_POD).spec!)));
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`pod ${GRAFANA_POD} does not mount ConfigMap grafana-datasources at ${DIR}, although Deployment taskflow/grafana's pod template does`);
    expect(d.first.fix).toMatch(new RegExp(`^The pod predates the change: ${RESTART}`));
    expect(d.first.target).toBeUndefined();
  });

  it('without list deployments, says so in a note and judges the running pod, targeting its Deployment', async () => {
    const stack = grafanaListsNothing(await stackWith((c) => unmount(c.pod(GRAFANA_POD).spec!)));
    stack.cluster.deny('list', 'deployments');
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.notes).toEqual(["the Grafana Deployment's pod template not checked: list deployments is forbidden for the action's credentials (add it to the Role)"]);
    expect(d.first.cause).toBe(`pod ${GRAFANA_POD} does not mount ConfigMap grafana-datasources at ${DIR}`);
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'volumeMounts'] });
  });

  it('quotes the first differing line when the file in the container is older than the ConfigMap', async () => {
    const stack = grafanaListsNothing(await taskflowStack());
    stack.cluster.setFile(GRAFANA_POD, DATASOURCE_FILE, SEED_DATASOURCES_YAML.replace(URL, 'http://prometheus:9090'));
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`${DATASOURCE_FILE} in pod ${GRAFANA_POD} differs from key datasources.yaml of ConfigMap taskflow/grafana-datasources`);
    expect(d.first.fix).toContain(RESTART);
    expect(d.first.evidence).toEqual(['line 6 in the pod: "url: http://prometheus:9090"', `line 6 in the ConfigMap: "url: ${URL}"`]);
    expect(stack.cluster.execs).toEqual([`${GRAFANA_POD}/grafana: cat ${DATASOURCE_FILE}`]);
  });

  it("makes Grafana's provisioning error the cause, quoting its log lines and targeting isDefault", async () => {
    const stack = grafanaListsNothing(await taskflowStack());
    stack.cluster.logs.set(LOG_KEY, DEFAULT_CONFLICT_LOG);
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(
      'Grafana failed to provision its datasources: Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default',
    );
    expect(d.first.fix).toBe(`Keep isDefault: true on one datasource only, across every provisioning file in ${DIR}, then ${RESTART}.`);
    expect(d.first.target).toEqual({ object: CONFIGMAP, path: ['data', 'datasources.yaml'], embedded: ['datasources', 0, 'isDefault'] });
    expect(d.first.evidence).toHaveLength(3);
    expect(d.first.evidence![1]).toMatch(new RegExp(`^pod ${GRAFANA_POD}: logger=provisioning t=.* msg="Failed to provision data sources"`));
  });

  it('concludes Grafana must be restarted when everything is in place and its log has no error', async () => {
    const stack = grafanaListsNothing(await taskflowStack());
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`Grafana does not list "Prometheus" although pod ${GRAFANA_POD} sees the provisioning file that defines it`);
    expect(d.first.fix).toBe(`Grafana reads provisioning files only at start-up: ${RESTART}.`);
    expect(d.first.evidence).toEqual([`pod ${GRAFANA_POD} mounts ConfigMap grafana-datasources at ${DIR}`, "no provisioning error in the last 300 lines of Grafana's log"]);
    expect(stack.cluster.calls).toContain('get pods/log in namespace taskflow');
  });

  it("says Grafana provisioned it but does not show it to the credentials when its log says it was inserted", async () => {
    const stack = grafanaListsNothing(await taskflowStack());
    stack.cluster.logs.set(LOG_KEY, HEALTHY_START_LOG);
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe('Grafana provisioned "Prometheus" at start-up but does not list it to user "admin" with the grafana-password (login session)');
    expect(d.first.evidence![1]).toContain('msg="inserting datasource from configuration" name=Prometheus');
  });

  it('notes the logs it could not read (get pods/log) and the file it could not check (exec)', async () => {
    const stack = grafanaListsNothing(await taskflowStack());
    stack.cluster.deny('get', 'pods', 'log').deny('get', 'pods', 'exec');
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.notes).toEqual([
      "the file inside the container not checked: exec is forbidden for the action's credentials (add get pods/exec to the Role)",
      "Grafana's logs not read: get pods/log is forbidden for the action's credentials (add it to the Role)",
    ]);
    expect(d.first.cause).toBe(`Grafana does not list "Prometheus" although pod ${GRAFANA_POD} sees the provisioning file that defines it`);
    expect(d.first.evidence).toEqual([`pod ${GRAFANA_POD} mounts ConfigMap grafana-datasources at ${DIR}`]);
  });

  it('says Grafana still uses an old url when the ConfigMap already has the right one', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([{ ...SEED_DATASOURCE, url: 'http://prometheus:9091' }])));
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`Grafana still uses an old url for "Prometheus"; ConfigMap taskflow/grafana-datasources now gives ${URL}`);
    expect(d.first.fix).toBe(`Grafana reads provisioning files only at start-up: ${RESTART}.`);
  });
});

describe('datasource-configmap and datasource-mounted: the same chain', () => {
  it('datasource-configmap: the missing ConfigMap', async () => {
    const d = await diagnoseCheck(datasourceConfigmap, await stackWith((c) => c.remove('configmap', 'grafana-datasources')));
    expect(d.first.cause).toBe('ConfigMap taskflow/grafana-datasources does not exist');
    expect(d.first.target).toEqual({ object: CONFIGMAP, path: [] });
  });

  it('datasource-configmap: a url other than datasource-url, targeting the url line', async () => {
    const stack = await taskflowStack();
    datasourceAt(stack, 'http://prometheus:9091');
    const d = await diagnoseCheck(datasourceConfigmap, stack);
    expect(d.first.cause).toBe(`datasource "Prometheus" in ConfigMap taskflow/grafana-datasources has url http://prometheus:9091, not ${URL}`);
    expect(d.first.fix).toBe(
      `Set \`url: ${URL}\` in ConfigMap taskflow/grafana-datasources (20-grafana-datasource.yaml), kubectl apply it, then restart Grafana (${RESTART}). Or set the datasource-url input if http://prometheus:9091 is intended.`,
    );
    expect(d.first.target).toEqual(URL_LINE);
  });

  it('datasource-configmap: the expected url names a Service port that does not exist', async () => {
    const wrong = 'http://prometheus.taskflow.svc.cluster.local:9091';
    const stack = await taskflowStack({ 'datasource-url': wrong });
    datasourceAt(stack, wrong);
    const d = await diagnoseCheck(datasourceConfigmap, stack);
    expect(d.first.cause).toBe(`the datasource url ${wrong} uses port 9091, but Service taskflow/prometheus exposes only 9090 (web)`);
    expect(d.first.fix).toBe(`Use the Service's port in the url (\`url: ${URL}\`) in ConfigMap taskflow/grafana-datasources (20-grafana-datasource.yaml), kubectl apply it, then restart Grafana (${RESTART}).`);
    expect(d.first.target).toEqual(URL_LINE);
  });

  it('datasource-mounted: the Deployment does not mount it', async () => {
    const d = await diagnoseCheck(datasourceMounted, await stackWith(unmountEverywhere));
    expect(d.first.cause).toBe(`Deployment taskflow/grafana does not mount ConfigMap grafana-datasources at ${DIR}`);
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'volumeMounts'] });
  });

  it('datasource-mounted: a volume from another ConfigMap at the directory, targeting its configMap name', async () => {
    const edit = (c: FakeCluster) => {
      for (const spec of [c.pod(GRAFANA_POD).spec!, templateSpec(c)]) spec.volumes!.find((v) => v.name === 'grafana-datasources')!.configMap!.name = 'grafana-datasource';
    };
    const d = await diagnoseCheck(datasourceMounted, await stackWith(edit));
    expect(d.first.cause).toBe(`Deployment taskflow/grafana mounts ConfigMap grafana-datasource at ${DIR}, not grafana-datasources`);
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: ['spec', 'template', 'spec', 'volumes', 0, 'configMap', 'name'] });
  });
});

describe('grafana-datasource-health and grafana-query: Grafana cannot reach Prometheus', () => {
  it("names the Service the url's host points at when it does not exist, with the nslookup from the Grafana pod", async () => {
    const stack = await taskflowStack();
    datasourceAt(stack, 'http://prometheus-server.taskflow.svc.cluster.local:9090');
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthError('Post "http://prometheus-server.taskflow.svc.cluster.local:9090/api/v1/query": dial tcp: lookup prometheus-server.taskflow.svc.cluster.local on 10.96.0.10:53: no such host')));
    stack.cluster.commands.set('nslookup', nslookup());
    stack.cluster.commands.set('wget', wget({ error: 'wget: bad address \'prometheus-server.taskflow.svc.cluster.local:9090\'' }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe("the datasource url's host prometheus-server.taskflow.svc.cluster.local names Service taskflow/prometheus-server, which does not exist");
    expect(d.first.fix).toBe(`Point the url at the Prometheus Service (\`url: ${URL}\`) in ConfigMap taskflow/grafana-datasources (20-grafana-datasource.yaml), kubectl apply it, then restart Grafana (${RESTART}).`);
    expect(d.first.target).toEqual(URL_LINE);
    expect(d.first.evidence).toEqual([
      'kubectl get svc prometheus-server -n taskflow: NotFound',
      'Service taskflow/prometheus exists (ports: 9090 (web))',
      `nslookup prometheus-server.taskflow.svc.cluster.local (pod ${GRAFANA_POD}): ** server can't find prometheus-server.taskflow.svc.cluster.local: NXDOMAIN`,
      `wget http://prometheus-server.taskflow.svc.cluster.local:9090/api/v1/query?query=up (pod ${GRAFANA_POD}): wget: bad address 'prometheus-server.taskflow.svc.cluster.local:9090'`,
    ]);
  });

  it('names the ports the Service has when the url uses another', async () => {
    const stack = await taskflowStack();
    datasourceAt(stack, 'http://prometheus:9091');
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthError('Post "http://prometheus:9091/api/v1/query": dial tcp 10.96.120.15:9091: i/o timeout')));
    stack.cluster.commands.set('nslookup', nslookup()).set('wget', wget({ error: 'wget: download timed out' }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe('the datasource url http://prometheus:9091 uses port 9091, but Service taskflow/prometheus exposes only 9090 (web)');
    expect(d.first.fix).toBe(`Use the Service's port in the url (\`url: http://prometheus:9090\`) in ConfigMap taskflow/grafana-datasources (20-grafana-datasource.yaml), kubectl apply it, then restart Grafana (${RESTART}).`);
    expect(d.first.target).toEqual(URL_LINE);
  });

  it('says the Service has no ready endpoints when the Prometheus pod is not Ready', async () => {
    const stack = await stackWith((c) => {
      c.setPodStatus(PROMETHEUS_POD, { waiting: 'CrashLoopBackOff', restartCount: 4 });
      c.endpointsOf('prometheus').subsets = [{ notReadyAddresses: [{ ip: '10.244.0.12', targetRef: { kind: 'Pod', name: PROMETHEUS_POD } }], ports: [{ name: 'web', port: 9090 }] }];
    });
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthConnectionRefused));
    stack.cluster.commands.set('nslookup', nslookup()).set('wget', wget({ error: "wget: can't connect to remote host (10.96.120.15): Connection refused" }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe('Service taskflow/prometheus has no ready endpoints: no pod matching app=prometheus is Ready');
    expect(d.first.evidence!.slice(0, 2)).toEqual([`${PROMETHEUS_POD}: CrashLoopBackOff (4 restarts), not Ready`, `not ready addresses: 10.244.0.12 (${PROMETHEUS_POD})`]);
  });

  it('quotes wget from the Grafana pod when the Service is fine but nothing answers', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthConnectionRefused));
    stack.cluster.commands.set('nslookup', nslookup()).set('wget', wget({ error: "wget: can't connect to remote host (10.96.120.15): Connection refused\n" }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe(`Prometheus does not answer ${URL} from pod ${GRAFANA_POD}: wget: can't connect to remote host (10.96.120.15): Connection refused`);
    expect(d.first.fix).toMatch(/^Nothing listens there/);
    expect(d.first.evidence![0]).toBe(`nslookup prometheus.taskflow.svc.cluster.local (pod ${GRAFANA_POD}): Address: 10.96.120.15`);
    expect(stack.cluster.execs).toEqual([
      `${GRAFANA_POD}/grafana: nslookup prometheus.taskflow.svc.cluster.local`,
      `${GRAFANA_POD}/grafana: wget -q -T 5 -O - ${URL}/api/v1/query?query=up`,
    ]);
  });

  it('Grafana 9.5 (no health check, 1+1 through /api/ds/query refused): the same chain, from the query\'s error', async () => {
    const stack = await taskflowStack();
    stack.grafana
      .on('GET', '/api/health', json(200, { commit: 'a1b2c3d4e5', database: 'ok', version: '9.5.21' }))
      .on('GET', HEALTH_PATH, withSession(json(404, { message: 'Not found', traceID: '' })))
      .on('POST', '/api/ds/query', withSession(dsQueryError(`Post "${URL}/api/v1/query": dial tcp 10.96.120.15:9090: connect: connection refused`, 502)));
    stack.cluster.commands.set('nslookup', nslookup()).set('wget', wget({ error: "wget: can't connect to remote host (10.96.120.15): Connection refused\n" }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.result.summary).toMatch(/^Grafana 9\.5\.x has no health check for Prometheus datasources, and a 1\+1 query through Grafana/);
    expect(d.first.cause).toBe(`Prometheus does not answer ${URL} from pod ${GRAFANA_POD}: wget: can't connect to remote host (10.96.120.15): Connection refused`);
  });

  it('says cluster DNS fails when the Service exists but the Grafana pod cannot resolve it', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthError(`Post "${URL}/api/v1/query": dial tcp: lookup prometheus.taskflow.svc.cluster.local on 10.96.0.10:53: no such host`)));
    stack.cluster.commands.set('nslookup', nslookup({})).set('wget', wget({ error: "wget: bad address 'prometheus.taskflow.svc.cluster.local:9090'" }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe(`pod ${GRAFANA_POD} cannot resolve prometheus.taskflow.svc.cluster.local, although Service taskflow/prometheus exists`);
    expect(d.first.fix).toContain('CoreDNS');
  });

  it('says the network path works when wget gets an answer Grafana does not', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthError(`Post "${URL}/api/v1/query": EOF`)));
    stack.cluster.commands.set('nslookup', nslookup()).set('wget', wget({ ok: WGET_UP }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe(`Prometheus answers ${URL} from pod ${GRAFANA_POD}, yet Grafana's request to it fails`);
    expect(d.first.evidence![1]).toBe(`wget ${URL}/api/v1/query?query=up (pod ${GRAFANA_POD}): ${WGET_UP}`);
  });

  it('notes that exec is forbidden and still judges the Service', async () => {
    const stack = await taskflowStack();
    datasourceAt(stack, 'http://prometheus:9091');
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthConnectionRefused));
    stack.cluster.deny('get', 'pods', 'exec');
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.notes).toEqual([
      "the datasource url not tested from the Grafana pod (nslookup, wget): exec is forbidden for the action's credentials (add get pods/exec to the Role)",
    ]);
    expect(d.first.cause).toBe('the datasource url http://prometheus:9091 uses port 9091, but Service taskflow/prometheus exposes only 9090 (web)');
  });

  it('never puts a credential on an exec command line', async () => {
    const stack = await taskflowStack();
    datasourceAt(stack, 'http://scraper:s3cr3t@prometheus:9090');
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthConnectionRefused));
    stack.cluster.commands.set('nslookup', nslookup()).set('wget', wget({ error: 'wget: server returned error: HTTP/1.1 401 Unauthorized' }));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(stack.cluster.execs).toEqual([`${GRAFANA_POD}/grafana: nslookup prometheus`, `${GRAFANA_POD}/grafana: wget -q -T 5 -O - http://prometheus:9090/api/v1/query?query=up`]);
    const text = JSON.stringify(d.findings) + JSON.stringify(stack.cluster.execs);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('admin2024');
  });

  it('grafana-query: the same probes for a connection error', async () => {
    const stack = await taskflowStack();
    datasourceAt(stack, 'http://prometheus:9091');
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryError('Post "http://prometheus:9091/api/v1/query": dial tcp 10.96.120.15:9091: connect: connection refused', 502)));
    stack.cluster.commands.set('nslookup', nslookup()).set('wget', wget({ error: "wget: can't connect to remote host (10.96.120.15): Connection refused" }));
    const d = await diagnoseCheck(grafanaQuery, stack);
    expect(d.first.cause).toBe('the datasource url http://prometheus:9091 uses port 9091, but Service taskflow/prometheus exposes only 9090 (web)');
    expect(d.first.target).toEqual(URL_LINE);
  });

  it('grafana-query: nothing to say about a PromQL error', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('POST', '/api/ds/query', withSession(dsQueryError('bad_data: invalid parameter "query": 1:3: parse error: unexpected <op:{>')));
    const d = await diagnoseCheck(grafanaQuery, stack);
    expect(d.findings).toEqual([]);
    expect(stack.cluster.execs).toEqual([]);
  });
});

describe('Grafana refuses the credentials', () => {
  it("401: names the credential and where Grafana's admin password comes from, targeting the env entry", async () => {
    const stack = await stackWith((c) => withAdminEnv(c), { 'grafana-password': 'not-the-password' });
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe('Grafana rejected user "admin" with the grafana-password (login session) (HTTP 401: Invalid username or password)');
    expect(d.first.fix).toContain('Set the grafana-password input to the value of Secret taskflow/grafana-admin key admin-password');
    expect(d.first.fix).toContain("kubectl get secret grafana-admin -n taskflow -o jsonpath='{.data.admin-password}' | base64 -d");
    expect(d.first.evidence).toEqual(['Deployment taskflow/grafana, container grafana: GF_SECURITY_ADMIN_PASSWORD from Secret taskflow/grafana-admin key admin-password']);
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'env', 1] });
    expect(JSON.stringify(d)).not.toContain('not-the-password');
    expect(stack.cluster.calls.some((c) => c.includes('secrets'))).toBe(false);
  });

  it('401: a different admin user in the Deployment', async () => {
    const stack = await stackWith((c) => withAdminEnv(c, 'root'), { 'grafana-password': 'not-the-password' });
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(
      'Grafana rejected user "admin" with the grafana-password (login session) (HTTP 401: Invalid username or password): Deployment taskflow/grafana sets GF_SECURITY_ADMIN_USER to "root", not "admin"',
    );
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'env', 0] });
  });

  it('401 on the health check too; without list deployments a note', async () => {
    const stack = await stackWith((c) => withAdminEnv(c));
    stack.grafana.on('GET', HEALTH_PATH, json(401, { message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401, traceID: '' }));
    stack.cluster.deny('list', 'deployments');
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe('Grafana rejected user "admin" with the grafana-password (login session) (HTTP 401: Unauthorized)');
    expect(d.first.target).toBeUndefined();
    expect(d.notes).toEqual(["the Grafana Deployment's pod template not checked: list deployments is forbidden for the action's credentials (add it to the Role)"]);
  });

  it('401 with a token: the token was rejected, never shown', async () => {
    const stack = await taskflowStack();
    const grafana = new GrafanaClient(stack.context.grafana.endpoint, { kind: 'token', token: 'glsa_secretTOKEN_0123' });
    const summary = 'Grafana GET /api/datasources: HTTP 401 — Grafana rejected the grafana-token (Invalid API key)';
    const d = await diagnoseResult(failedResult('grafana-datasource', summary, { code: 'grafana.auth', status: 401, message: 'Invalid API key' }), { ...stack, context: { ...stack.context, grafana } });
    expect(d.first.cause).toBe('Grafana rejected the grafana-token (HTTP 401: Invalid API key)');
    expect(JSON.stringify(d)).not.toContain('glsa_secret');
  });

  it('401 "Unauthorized" to basic auth: basic auth is disabled in Grafana, not a wrong password; targets GF_AUTH_BASIC_ENABLED', async () => {
    const stack = await stackWith((c) => {
      withAdminEnv(c);
      templateContainer(c).env!.push({ name: 'GF_AUTH_BASIC_ENABLED', value: 'false' });
    });
    const grafana = new GrafanaClient(stack.context.grafana.endpoint, { kind: 'basic', user: 'admin', password: 'admin2024' });
    const summary = 'Grafana GET /api/datasources: HTTP 401 — Grafana ignored the basic-auth credentials of user "admin" with the grafana-password (Unauthorized)';
    const reason = { code: 'grafana.auth', status: 401, message: 'Unauthorized', basicAuthIgnored: true } as const;
    const d = await diagnoseResult(failedResult('grafana-datasource', summary, reason), { ...stack, context: { ...stack.context, grafana } });
    expect(d.first.cause).toBe(
      'Basic auth is disabled in Grafana: it answered HTTP 401: Unauthorized to user "admin" with the grafana-password, as to a request without credentials, so the password was never checked',
    );
    expect(d.first.fix).toMatch(/^Use a token or the login session: set the grafana-token input/);
    expect(d.first.fix).toContain('access: proxy');
    expect(d.first.fix).toContain('(GF_AUTH_BASIC_ENABLED in Deployment taskflow/grafana)');
    expect(d.first.fix).not.toContain('grafana-password input to');
    expect(d.first.evidence).toContain('Deployment taskflow/grafana, container grafana: GF_AUTH_BASIC_ENABLED=false');
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'env', 2] });
  });

  it('401 "Unauthorized" to basic auth without the fact, and without the setting in the pod template: the same cause, the setting to change named', async () => {
    const stack = await stackWith((c) => withAdminEnv(c));
    const grafana = new GrafanaClient(stack.context.grafana.endpoint, { kind: 'basic', user: 'admin', password: 'admin2024' });
    const d = await diagnoseResult(failedResult('grafana-query', 'x', { code: 'grafana.auth', status: 401, message: 'Unauthorized' }), { ...stack, context: { ...stack.context, grafana } });
    expect(d.first.cause).toMatch(/^Basic auth is disabled in Grafana/);
    expect(d.first.fix).toContain('([auth.basic] enabled = true, GF_AUTH_BASIC_ENABLED=true)');
    expect(d.first.target).toBeUndefined();
  });

  it('401 "Invalid username or password" to basic auth stays a wrong password', async () => {
    const stack = await stackWith((c) => withAdminEnv(c));
    const grafana = new GrafanaClient(stack.context.grafana.endpoint, { kind: 'basic', user: 'admin', password: 'nope' });
    const d = await diagnoseResult(failedResult('grafana-datasource', 'x', { code: 'grafana.auth', status: 401, message: 'Invalid username or password' }), { ...stack, context: { ...stack.context, grafana } });
    expect(d.first.cause).toBe('Grafana rejected user "admin" with the grafana-password (HTTP 401: Invalid username or password)');
    expect(d.first.fix).toContain('Set the grafana-password input to the value of Secret taskflow/grafana-admin');
  });

  it('403: the credential is accepted but lacks the permission', async () => {
    const stack = await taskflowStack();
    stack.grafana.on('GET', '/api/datasources', withSession(json(403, { message: 'Permission denied' })));
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe('Grafana accepted user "admin" with the grafana-password (login session) but refused the request (HTTP 403: Permission denied)');
    expect(d.first.fix).toContain('datasources:read and datasources:query on "Prometheus"');
  });
});

describe('grafana-pod and grafana-api', () => {
  it("CrashLoopBackOff: quotes the previous run's last lines", async () => {
    const stack = await stackWith((c) => c.setPodStatus(GRAFANA_POD, { waiting: 'CrashLoopBackOff', restartCount: 7 }));
    stack.cluster.logs.set(
      `${LOG_KEY}/previous`,
      [
        'logger=settings t=2025-03-14T09:26:55.101Z level=info msg="Starting Grafana" version=11.5.0',
        'logger=sqlstore t=2025-03-14T09:26:55.312Z level=info msg="Connecting to DB" dbtype=sqlite3',
        'Error: ✗ failed to connect to database: open /var/lib/grafana/grafana.db: permission denied',
      ].join('\n'),
    );
    const d = await diagnoseCheck(grafanaPod, stack);
    expect(d.first.cause).toBe(
      `container grafana of pod ${GRAFANA_POD} keeps crashing (CrashLoopBackOff, 7 restarts, last exit code 1); its last run ended with: Error: ✗ failed to connect to database: open /var/lib/grafana/grafana.db: permission denied`,
    );
    expect(d.first.fix).toContain(`kubectl logs -n taskflow ${GRAFANA_POD} -c grafana --previous`);
    expect(d.first.evidence).toHaveLength(3);
  });

  it('CrashLoopBackOff from a provisioning error: that error is the cause', async () => {
    const stack = await stackWith((c) => c.setPodStatus(GRAFANA_POD, { waiting: 'CrashLoopBackOff', restartCount: 3 }));
    stack.cluster.logs.set(`${LOG_KEY}/previous`, DEFAULT_CONFLICT_LOG);
    const d = await diagnoseCheck(grafanaPod, stack);
    expect(d.first.cause).toBe(
      `container grafana of pod ${GRAFANA_POD} exits at start-up: Grafana failed to provision its datasources: Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default`,
    );
    expect(d.first.target).toEqual({ object: CONFIGMAP, path: ['data', 'datasources.yaml'], embedded: ['datasources', 0, 'isDefault'] });
  });

  it('CrashLoopBackOff without get pods/log: the state, and a note', async () => {
    const stack = await stackWith((c) => c.setPodStatus(GRAFANA_POD, { waiting: 'CrashLoopBackOff', restartCount: 7 }));
    stack.cluster.deny('get', 'pods', 'log');
    const d = await diagnoseCheck(grafanaPod, stack);
    expect(d.first.cause).toBe(`container grafana of pod ${GRAFANA_POD} keeps crashing (CrashLoopBackOff, 7 restarts, last exit code 1)`);
    expect(d.notes).toEqual(["the grafana container's previous log not read: get pods/log is forbidden for the action's credentials (add it to the Role)"]);
  });

  it('ContainerCreating because the datasources ConfigMap is missing', async () => {
    const stack = await stackWith((c) => {
      c.remove('configmap', 'grafana-datasources');
      c.setPodStatus(GRAFANA_POD, { phase: 'Pending', waiting: 'ContainerCreating' });
    });
    const d = await diagnoseCheck(grafanaPod, stack);
    expect(d.first.cause).toBe(`pod ${GRAFANA_POD} cannot start: its volume grafana-datasources needs ConfigMap taskflow/grafana-datasources, which does not exist`);
    expect(d.first.target).toEqual({ object: CONFIGMAP, path: [] });
  });

  it('ImagePullBackOff: targets the image', async () => {
    const stack = await stackWith((c) => c.setPodStatus(GRAFANA_POD, { phase: 'Pending', waiting: 'ImagePullBackOff' }));
    const d = await diagnoseCheck(grafanaPod, stack);
    expect(d.first.cause).toBe(`pod ${GRAFANA_POD} cannot pull image grafana/grafana:11.5.0 (ImagePullBackOff)`);
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: [...CONTAINERS, 0, 'image'] });
  });

  it('no pod: the Deployment is scaled to 0', async () => {
    const stack = await stackWith((c) => {
      c.remove('pod', GRAFANA_POD);
      c.deployments.find((d) => d.metadata?.name === 'grafana')!.spec!.replicas = 0;
    });
    const d = await diagnoseCheck(grafanaPod, stack);
    expect(d.first.cause).toBe('Deployment taskflow/grafana is scaled to 0 replicas');
    expect(d.first.target).toEqual({ object: DEPLOYMENT, path: ['spec', 'replicas'] });
  });

  it('grafana-api: no endpoints because the pod crashes', async () => {
    const stack = await stackWith((c) => {
      c.setPodStatus(GRAFANA_POD, { waiting: 'CrashLoopBackOff', restartCount: 2 });
      c.endpointsOf('grafana').subsets = [];
    });
    const d = await diagnoseCheck(grafanaApi, stack);
    expect(d.first.cause).toBe(`container grafana of pod ${GRAFANA_POD} keeps crashing (CrashLoopBackOff, 2 restarts, last exit code 1)`);
    expect(d.first.evidence![0]).toBe('Service taskflow/grafana has no ready endpoints');
  });

  it("grafana-api: the Service's selector matches no pod", async () => {
    const stack = await stackWith((c) => {
      c.service('grafana').spec!.selector = { app: 'grafana-ui' };
      c.endpointsOf('grafana').subsets = [];
    });
    const d = await diagnoseCheck(grafanaApi, stack);
    expect(d.first.cause).toBe('Service taskflow/grafana selects app=grafana-ui, which no pod in taskflow matches');
    expect(d.first.target).toEqual({ object: { kind: 'Service', namespace: 'taskflow', name: 'grafana' }, path: ['spec', 'selector'] });
  });
});

describe('provisioningLog', () => {
  it('reads the error of the provisioning failure and the inserted datasources', () => {
    const v = provisioningLog(`${HEALTHY_START_LOG}\n${DEFAULT_CONFLICT_LOG}`, 'Prometheus');
    expect(v.errors).toHaveLength(3);
    expect(v.error).toBe('Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default');
    expect(v.inserted).toHaveLength(1);
    expect(provisioningLog(HEALTHY_START_LOG, 'Prometheus').errors).toEqual([]);
  });
});

describe('a datasource url without a scheme', () => {
  it('is the cause of the health failure, targeting the url line', async () => {
    const stack = await taskflowStack();
    datasourceAt(stack, 'prometheus:9090');
    stack.grafana.on('GET', HEALTH_PATH, withSession(dsHealthError('Post "prometheus:9090/api/v1/query": unsupported protocol scheme "prometheus"')));
    const d = await diagnoseCheck(grafanaDatasourceHealth, stack);
    expect(d.first.cause).toBe('the datasource url prometheus:9090 does not start with http:// or https://');
    expect(d.first.target).toEqual(URL_LINE);
    expect(stack.cluster.execs).toEqual([]);
  });
});
