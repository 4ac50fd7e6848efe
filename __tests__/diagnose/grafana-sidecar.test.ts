/**
 * The Grafana probers on kube-prometheus-stack's datasource sidecar: a ConfigMap without the
 * sidecar's label, a sidecar whose service account may not list ConfigMaps (its 403 quoted), two
 * default datasources across the sidecar's files, Grafana started before the sidecar copied the
 * file with no reload after, a reload Grafana refused — each said in the stack's words (Helm
 * values of the release, the objects found), never TaskFlow's.
 */
import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { datasourceConfigmap } from '../../src/checks/datasource-configmap.js';
import { datasourceMounted } from '../../src/checks/datasource-mounted.js';
import { grafanaDatasource } from '../../src/checks/grafana-datasource.js';
import { grafanaPod } from '../../src/checks/grafana-pod.js';
import { parseSidecarLog, refusalOf, reloadCalls, writes } from '../../src/diagnose/grafana.js';
import type { Finding } from '../../src/diagnose/types.js';
import type { FakeCluster } from '../fixtures/cluster.js';
import type { Stack } from '../fixtures/context.js';
import { datasourcesAnswer, withSession } from '../fixtures/endpoints.js';
import { KPS_DATASOURCE, KPS_GRAFANA_POD, MONITORING } from '../fixtures/stacks.js';
import {
  diagnoseCheck,
  grafanaLine,
  KPS_SIDECAR_SA,
  kpsStack,
  podOf,
  RELOAD_URL,
  sidecarForbiddenCrash,
  sidecarForbiddenWatch,
  sidecarLine,
} from './grafana-fixtures.js';

const SIDECAR = 'grafana-sc-datasources';
const FILE = '/etc/grafana/provisioning/datasources/datasource.yaml';
const RESTART = 'kubectl rollout restart deployment/kps-grafana -n monitoring';
const HELM = 'helm upgrade kps prometheus-community/kube-prometheus-stack -n monitoring --reuse-values';

/** Nothing of TaskFlow's own words in a finding about another stack. */
function expectStackWords(findings: readonly Finding[]): void {
  const text = JSON.stringify(findings);
  expect(text).not.toContain('20-grafana');
  expect(text).not.toContain('deployment/grafana ');
  expect(text).not.toContain('-n taskflow');
}

function grafanaListsNothing(stack: Stack): Stack {
  stack.grafana.on('GET', '/api/datasources', withSession(datasourcesAnswer([])));
  return stack;
}

/** The container of the kps Grafana pod keeps crashing (as the kubelet reports it). */
function crashLoop(cluster: FakeCluster, container: string, restarts: number): V1Pod {
  const pod = podOf(cluster, KPS_GRAFANA_POD);
  const status = pod.status!.containerStatuses!.find((c) => c.name === container)!;
  status.ready = false;
  status.started = false;
  status.restartCount = restarts;
  status.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 2m40s restarting failed container=${container} pod=${KPS_GRAFANA_POD}_monitoring(uid-${KPS_GRAFANA_POD})` } };
  status.lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: new Date('2025-03-14T09:26:57Z'), finishedAt: new Date('2025-03-14T09:26:58Z') } };
  for (const c of pod.status!.conditions!) if (c.type === 'Ready' || c.type === 'ContainersReady') c.status = 'False';
  return pod;
}

/** The chart's reload settings on the sidecar (REQ_URL, REQ_METHOD), as the grafana chart renders them unless skipReload. */
function withReload(cluster: FakeCluster): void {
  const sidecar = podOf(cluster, KPS_GRAFANA_POD).spec!.containers.find((c) => c.name === SIDECAR)!;
  sidecar.env!.push({ name: 'REQ_URL', value: RELOAD_URL }, { name: 'REQ_METHOD', value: 'POST' });
}

describe('kube-prometheus-stack: the datasource ConfigMap without the sidecar label', () => {
  it('names the ConfigMap that holds the datasource and the kubectl label command, targeting its labels', async () => {
    const stack = await kpsStack((c) => {
      delete c.configMaps.find((m) => m.metadata?.name === KPS_DATASOURCE)!.metadata!.labels!.grafana_datasource;
    });
    const d = await diagnoseCheck(datasourceConfigmap, stack);
    expect(d.result.reason?.code).toBe('provisioning.unlabelled');
    expect(d.first.cause).toBe(
      `ConfigMap monitoring/${KPS_DATASOURCE} provisions "Prometheus" but does not carry the sidecar's label grafana_datasource=1, so the sidecar ${SIDECAR} does not copy it into Grafana`,
    );
    expect(d.first.fix).toContain(`kubectl label configmap ${KPS_DATASOURCE} -n monitoring grafana_datasource=1`);
    expect(d.first.fix).toContain('grafana.sidecar.datasources.label/labelValue');
    expect(d.first.target).toEqual({ object: { kind: 'ConfigMap', namespace: MONITORING, name: KPS_DATASOURCE }, path: ['metadata', 'labels'] });
    expect(d.first.evidence![1]).toBe(`the sidecar ${SIDECAR} copies ConfigMaps and Secrets labelled grafana_datasource=1 in monitoring`);
    expectStackWords(d.findings);
  });

  it('says the label has another value, and that kubectl label needs --overwrite', async () => {
    const stack = grafanaListsNothing(
      await kpsStack((c) => {
        c.configMaps.find((m) => m.metadata?.name === KPS_DATASOURCE)!.metadata!.labels!.grafana_datasource = 'true';
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`ConfigMap monitoring/${KPS_DATASOURCE} provisions "Prometheus" but is labelled grafana_datasource=true, and the sidecar ${SIDECAR} copies only grafana_datasource=1`);
    expect(d.first.fix).toContain('Add --overwrite to kubectl label: the label is there with the value "true".');
  });
});

describe("kube-prometheus-stack: the sidecar's service account may not list ConfigMaps", () => {
  it('2.x crash-loops on the refused list: names the service account, quotes the 403 and gives the rule to add', async () => {
    const stack = await kpsStack((c) => {
      crashLoop(c, SIDECAR, 4);
      c.logs.set(`${KPS_GRAFANA_POD}/${SIDECAR}/previous`, sidecarForbiddenCrash());
      c.denyUser(KPS_SIDECAR_SA, 'list', 'configmaps').denyUser(KPS_SIDECAR_SA, 'watch', 'configmaps');
      c.setFile(KPS_GRAFANA_POD, FILE, undefined);
    });
    const d = await diagnoseCheck(grafanaPod, stack);
    expect(d.result.reason?.code).toBe('pod.not-ready');
    expect(d.first.cause).toBe(
      `the datasource sidecar ${SIDECAR} of pod ${KPS_GRAFANA_POD} may not list or watch configmaps in namespace monitoring: the API server refuses its service account ${KPS_SIDECAR_SA}, so it copies no datasource file into Grafana`,
    );
    expect(d.first.fix).toContain(`${HELM} --set grafana.rbac.create=true`);
    expect(d.first.fix).toContain('ClusterRole kps-grafana-clusterrole');
    expect(d.first.fix).toContain('- apiGroups: [""]\n  resources: ["configmaps", "secrets"]\n  verbs: ["get", "watch", "list"]');
    expect(d.first.evidence).toEqual([
      `SubjectAccessReview: ${KPS_SIDECAR_SA} may not list configmaps in namespace monitoring`,
      `SubjectAccessReview: ${KPS_SIDECAR_SA} may not watch configmaps in namespace monitoring`,
      `pod ${KPS_GRAFANA_POD}, container ${SIDECAR} (previous run): ERROR ApiException: (403) — configmaps is forbidden: User "${KPS_SIDECAR_SA}" cannot list resource "configmaps" in API group "" in the namespace "monitoring"`,
    ]);
    expectStackWords(d.findings);
  });

  it('datasource-mounted (sidecar down) reaches the same finding', async () => {
    const stack = await kpsStack((c) => {
      crashLoop(c, SIDECAR, 4);
      c.logs.set(`${KPS_GRAFANA_POD}/${SIDECAR}/previous`, sidecarForbiddenCrash());
      c.denyUser(KPS_SIDECAR_SA, 'list', 'configmaps');
    });
    const d = await diagnoseCheck(datasourceMounted, stack);
    expect(d.result.reason?.code).toBe('mount.sidecar-down');
    expect(d.first.cause).toMatch(new RegExp(`^the datasource sidecar ${SIDECAR} of pod ${KPS_GRAFANA_POD} may not list configmaps in namespace monitoring: `));
  });

  it('1.x keeps running and logs the refused watch: without access reviews, the log line alone decides (and a note says so)', async () => {
    const stack = await kpsStack((c) => {
      c.logs.set(`${KPS_GRAFANA_POD}/${SIDECAR}`, sidecarForbiddenWatch());
      c.setFile(KPS_GRAFANA_POD, FILE, undefined);
      c.deny('create', 'subjectaccessreviews');
    });
    const d = await diagnoseCheck(datasourceMounted, stack);
    expect(d.result.reason?.code).toBe('mount.file-missing');
    expect(d.first.cause).toBe(
      `the datasource sidecar ${SIDECAR} of pod ${KPS_GRAFANA_POD} may not watch configmaps in namespace monitoring: the API server refuses its service account ${KPS_SIDECAR_SA}, so it copies no datasource file into Grafana`,
    );
    expect(d.first.evidence).toEqual([
      `pod ${KPS_GRAFANA_POD}, container ${SIDECAR}: ERROR ApiException when calling kubernetes: (403) — configmaps is forbidden: User "${KPS_SIDECAR_SA}" cannot watch resource "configmaps" in API group "" in the namespace "monitoring"`,
      `pod ${KPS_GRAFANA_POD}, container ${SIDECAR}: ERROR ApiException when calling kubernetes: (403) — configmaps is forbidden: User "${KPS_SIDECAR_SA}" cannot watch resource "configmaps" in API group "" in the namespace "monitoring"`,
    ]);
    expect(d.notes).toEqual(["the datasource sidecar's permissions not reviewed: create subjectaccessreviews is forbidden for the action's credentials (add it to the Role)"]);
  });

  it('without a refusal anywhere, the missing file points at the sidecar, never at a volumeMount', async () => {
    const stack = await kpsStack((c) => c.setFile(KPS_GRAFANA_POD, FILE, undefined));
    const d = await diagnoseCheck(datasourceMounted, stack);
    expect(d.first.cause).toBe(`${FILE} is not in the grafana container of pod ${KPS_GRAFANA_POD}: the sidecar ${SIDECAR} has not copied key datasource.yaml of ConfigMap monitoring/${KPS_DATASOURCE}`);
    expect(d.first.fix).toContain(`kubectl logs -n monitoring ${KPS_GRAFANA_POD} -c ${SIDECAR}`);
    expect(JSON.stringify(d.findings)).not.toMatch(/volumeMount|kubelet mounts/);
  });
});

const LOKI_YAML = `apiVersion: 1
datasources:
- name: Loki
  type: loki
  url: http://loki.monitoring:3100
  access: proxy
  isDefault: true
`;

describe('kube-prometheus-stack: two default datasources across the sidecar files', () => {
  it("names both objects, targets the extra isDefault, and quotes the sidecar's failed reload and Grafana's 500", async () => {
    const stack = await kpsStack((c) => {
      withReload(c);
      c.configMaps.push({ metadata: { name: 'loki-datasource', namespace: MONITORING, labels: { grafana_datasource: '1' } }, data: { 'loki.yaml': LOKI_YAML } });
      c.logs.set(
        `${KPS_GRAFANA_POD}/${SIDECAR}`,
        [
          sidecarLine('2025-03-14T09:31:02.118204+00:00', 'INFO', 'Writing /etc/grafana/provisioning/datasources/loki.yaml (ascii)'),
          sidecarLine(
            '2025-03-14T09:31:09.730411+00:00',
            'ERROR',
            `Max retries exceeded for URL ${RELOAD_URL}: HTTPConnectionPool(host='localhost', port=3000): Max retries exceeded with url: /api/admin/provisioning/datasources/reload (Caused by ResponseError('too many 500 error responses'))`,
          ),
        ].join('\n'),
      );
      c.logs.set(
        `${KPS_GRAFANA_POD}/grafana`,
        grafanaLine(
          '2025-03-14T09:31:09.729Z',
          'context userId=1 orgId=1 uname=admin',
          'error',
          'Request Completed',
          'method=POST path=/api/admin/provisioning/datasources/reload status=500 error="Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default"',
        ),
      );
    });
    const d = await diagnoseCheck(datasourceConfigmap, stack);
    expect(d.result.reason?.code).toBe('provisioning.invalid');
    expect(d.first.cause).toBe(
      `ConfigMap monitoring/${KPS_DATASOURCE}, ConfigMap monitoring/loki-datasource: 2 datasources are marked isDefault ("Prometheus" in ConfigMap monitoring/${KPS_DATASOURCE} datasource.yaml, "Loki" in ConfigMap monitoring/loki-datasource loki.yaml); Grafana provisions none of them: only one default datasource per organization`,
    );
    expect(d.first.fix).toBe(
      `Keep isDefault: true on one datasource only: remove it from "Loki" in ConfigMap monitoring/loki-datasource; the sidecar ${SIDECAR} copies the change and reloads Grafana (or ${RESTART}). Until then Grafana refuses the whole provisioning (the sidecar's reload answers 500).`,
    );
    expect(d.first.target).toEqual({ object: { kind: 'ConfigMap', namespace: MONITORING, name: 'loki-datasource' }, path: ['data', 'loki.yaml'], embedded: ['datasources', 0, 'isDefault'] });
    expect(d.first.evidence).toHaveLength(2);
    expect(d.first.evidence![0]).toBe(`pod ${KPS_GRAFANA_POD}, container ${SIDECAR}: ERROR Max retries exceeded for URL ${RELOAD_URL}: HTTPConnectionPool(host='localhost', port=3000): Max retries exceeded with url: /api/admin/provisioning/datasources/reload (Caused by ResponseError('too many 500 error responses'))`);
    expect(d.first.evidence![1]).toContain('path=/api/admin/provisioning/datasources/reload status=500');
    expectStackWords(d.findings);
  });
});

const GRAFANA_STARTED = [
  grafanaLine('2025-03-14T09:26:55.101Z', 'settings', 'info', 'Starting Grafana', 'version=12.3.1 commit=0f3b2c5d1e branch=HEAD'),
  grafanaLine('2025-03-14T09:26:55.312Z', 'sqlstore', 'info', 'Connecting to DB', 'dbtype=sqlite3'),
  grafanaLine('2025-03-14T09:26:56.500Z', 'http.server', 'info', 'HTTP Server Listen', 'address=[::]:3000 protocol=http subUrl= socket='),
].join('\n');

describe('kube-prometheus-stack: Grafana started before the sidecar copied the file', () => {
  it('the race without a reload: restart now, and run the sidecar before Grafana (initDatasources)', async () => {
    const stack = grafanaListsNothing(
      await kpsStack((c) => {
        c.logs.set(`${KPS_GRAFANA_POD}/grafana`, GRAFANA_STARTED);
        c.logs.set(
          `${KPS_GRAFANA_POD}/${SIDECAR}`,
          [
            sidecarLine('2025-03-14T09:26:54.902113+00:00', 'INFO', 'Starting collector'),
            sidecarLine('2025-03-14T09:26:58.231145+00:00', 'INFO', `Writing ${FILE} (ascii)`),
            sidecarLine('2025-03-14T09:26:58.232004+00:00', 'INFO', 'Initial sync complete, sidecar is ready.'),
          ].join('\n'),
        );
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.result.reason?.code).toBe('datasource.not-listed');
    expect(d.first.cause).toBe(`Grafana started before the sidecar ${SIDECAR} copied ${FILE}, and no reload followed: Grafana provisions datasources only at start-up or on a reload, so it does not have "Prometheus"`);
    expect(d.first.fix).toBe(
      `${RESTART} now: Grafana provisions the file at start-up. The sidecar has no REQ_URL (skipReload), so it never asks Grafana to reload. So that it does not happen again: Have the sidecar copy the files before Grafana starts: ${HELM} --set grafana.sidecar.datasources.initDatasources=true --set grafana.sidecar.datasources.restartPolicy=Always (${SIDECAR} then runs as a native sidecar, Kubernetes 1.29+, that finishes its first sync before Grafana starts and keeps watching).`,
    );
    expect(d.first.evidence).toEqual([
      `pod ${KPS_GRAFANA_POD}, container grafana: logger=http.server t=2025-03-14T09:26:56.500Z level=info msg="HTTP Server Listen" address=[::]:3000 protocol=http subUrl= socket=`,
      `pod ${KPS_GRAFANA_POD}, container ${SIDECAR}: INFO Writing ${FILE} (ascii) at 2025-03-14T09:26:58.231Z`,
      `container ${SIDECAR} has no REQ_URL: it never calls Grafana's reload API`,
    ]);
    expectStackWords(d.findings);
  });

  it('a reload after the write that Grafana accepted is not the race: it points at the org and the credentials', async () => {
    const stack = grafanaListsNothing(
      await kpsStack((c) => {
        withReload(c);
        c.logs.set(`${KPS_GRAFANA_POD}/grafana`, GRAFANA_STARTED);
        c.logs.set(
          `${KPS_GRAFANA_POD}/${SIDECAR}`,
          [
            sidecarLine('2025-03-14T09:26:58.231145+00:00', 'INFO', `Writing ${FILE} (ascii)`),
            sidecarLine('2025-03-14T09:26:58.301877+00:00', 'INFO', `None sent to ${RELOAD_URL}. Response: 200 OK {"message":"Datasources config reloaded"}`),
          ].join('\n'),
        );
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe('Grafana reloaded its datasources after the sidecar copied the file but does not list "Prometheus" to user "admin" with the grafana-password (login session)');
    expect(d.first.fix).toContain('orgId');
  });

  it('a reload Grafana refused (401): names the credentials the sidecar sends and where they come from', async () => {
    const stack = grafanaListsNothing(
      await kpsStack((c) => {
        withReload(c);
        c.logs.set(`${KPS_GRAFANA_POD}/grafana`, GRAFANA_STARTED);
        c.logs.set(
          `${KPS_GRAFANA_POD}/${SIDECAR}`,
          [
            sidecarLine('2025-03-14T09:26:58.231145+00:00', 'INFO', `Writing ${FILE} (ascii)`),
            sidecarLine('2025-03-14T09:26:58.301877+00:00', 'INFO', `None sent to ${RELOAD_URL}. Response: 401 Unauthorized {"message":"Invalid username or password","messageId":"password-auth.failed","statusCode":401,"traceID":""}`),
          ].join('\n'),
        );
      }),
    );
    const d = await diagnoseCheck(grafanaDatasource, stack);
    expect(d.first.cause).toBe(`Grafana refused the sidecar ${SIDECAR}'s reload call (HTTP 401): ${RELOAD_URL} needs a Grafana server admin, so Grafana never loaded the copied datasource file`);
    expect(d.first.fix).toContain('REQ_USERNAME/REQ_PASSWORD from Secret monitoring/kps-grafana (keys admin-user, admin-password)');
    expect(d.first.fix).toContain(RESTART);
  });
});

describe('the k8s-sidecar log reader', () => {
  it('reads JSON records, logfmt records and the plain text of old versions (a message spanning lines)', () => {
    const log = [
      sidecarLine('2025-03-14T09:26:58.231145+00:00', 'INFO', `Writing ${FILE} (ascii)`),
      `time=2025-03-14T09:26:58.301877+00:00 level=INFO msg="None sent to ${RELOAD_URL}. Response: 500 Internal Server Error {\\"message\\":\\"Internal Server Error\\"}"`,
      '[2021-06-15 13:48:22] ApiException when calling kubernetes: (403)',
      'Reason: Forbidden',
      'HTTP response body: {"kind":"Status","message":"configmaps is forbidden: User \\"system:serviceaccount:monitoring:grafana\\" cannot watch resource \\"configmaps\\" in API group \\"\\" at the cluster scope","code":403}',
    ].join('\n');
    const records = parseSidecarLog(log);
    expect(records).toHaveLength(3);
    expect(writes(records).map((w) => w.path)).toEqual([FILE]);
    expect(reloadCalls(records)).toEqual([expect.objectContaining({ url: RELOAD_URL, status: 500, outcome: 'failed' })]);
    expect(records[2]!.time).toBe(Date.parse('2021-06-15T13:48:22Z'));
    expect(refusalOf(records[2]!)).toEqual(
      expect.objectContaining({ verb: 'watch', resource: 'configmaps', user: 'system:serviceaccount:monitoring:grafana', sentence: 'configmaps is forbidden: User "system:serviceaccount:monitoring:grafana" cannot watch resource "configmaps" in API group "" at the cluster scope' }),
    );
  });

  it("finds the refusal inside 2.x's uncaught ApiException (a Python bytes body)", () => {
    const refusal = parseSidecarLog(sidecarForbiddenCrash()).map(refusalOf).find(Boolean);
    expect(refusal).toEqual(expect.objectContaining({ verb: 'list', resource: 'configmaps', namespace: 'monitoring', user: KPS_SIDECAR_SA }));
  });
});

