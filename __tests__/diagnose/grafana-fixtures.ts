/**
 * Helpers for the Grafana probers' tests: a broken stack (TaskFlow, kube-prometheus-stack,
 * kube-prometheus), the check's real verdict on it, then the prober's diagnosis of that verdict;
 * and the log lines Grafana and the k8s-sidecar write, in their formats.
 */
import type { V1Container, V1Deployment, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { Check } from '../../src/checks/check.js';
import type { ExecResult } from '../../src/cluster.js';
import { GRAFANA_PROBERS } from '../../src/diagnose/grafana.js';
import type { DiagnoseContext, Finding } from '../../src/diagnose/types.js';
import type { Reason } from '../../src/reasons.js';
import type { CheckId, CheckResult } from '../../src/types.js';
import { ApiException } from '../../sim/sidecar/kube-client.js';
import { pyJsonDumps } from '../../sim/sidecar/pylog.js';
import { GRAFANA_POD, type FakeCluster } from '../fixtures/cluster.js';
import { stackOf, verdict, type Stack } from '../fixtures/context.js';
import { KP_GRAFANA_POD, KPS_GRAFANA_POD, KPS_PROMETHEUS, kpsCluster, kubePrometheusCluster, MONITORING } from '../fixtures/stacks.js';

export const DIR = '/etc/grafana/provisioning/datasources';
export const CONTAINERS = ['spec', 'template', 'spec', 'containers'] as const;
export const CONFIGMAP = { kind: 'ConfigMap', namespace: 'taskflow', name: 'grafana-datasources' } as const;
export const DEPLOYMENT = { kind: 'Deployment', namespace: 'taskflow', name: 'grafana' } as const;

export interface Diagnosed {
  readonly result: CheckResult;
  readonly findings: Finding[];
  readonly notes: string[];
  /** The first finding (the test fails when there is none). */
  readonly first: Finding;
}

export function contextOf(stack: Stack, results: CheckResult[] = []): DiagnoseContext {
  return { ...stack.context, results: new Map(results.map((r) => [r.id, r])) };
}

/** Runs the check through the runner (as the action does), then its Grafana prober. */
export async function diagnoseCheck(check: Check, stack: Stack): Promise<Diagnosed> {
  const result = await verdict(check, stack);
  if (result.status !== 'fail') throw new Error(`${check.id} did not fail: ${result.summary}`);
  return diagnoseResult(result, stack);
}

/** Runs the Grafana prober of `result.id` on a given result. */
export async function diagnoseResult(result: CheckResult, stack: Stack): Promise<Diagnosed> {
  const prober = GRAFANA_PROBERS[result.id];
  if (!prober) throw new Error(`no Grafana prober for ${result.id}`);
  const { findings, notes } = await prober(result, contextOf(stack, [result]));
  return {
    result,
    findings,
    notes,
    get first(): Finding {
      const f = findings[0];
      if (!f) throw new Error(`no finding for ${result.id}; notes: ${JSON.stringify(notes)}`);
      return f;
    },
  };
}

/** A failed result as the runner reports it. */
export function failedResult(id: CheckId, summary: string, reason?: Reason, hint = ''): CheckResult {
  return { id, title: id, status: 'fail', summary, hint, durationMs: 5, attempts: 1, ...(reason ? { reason } : {}) };
}

/** The Deployment that owns a pod of another stack (its ReplicaSet's name without the hash), its template the pod's spec. */
export function addDeployment(cluster: FakeCluster, podName: string): V1Deployment {
  const pod = cluster.pods.find((p) => p.metadata?.name === podName) as V1Pod;
  const labels = Object.fromEntries(Object.entries(pod.metadata?.labels ?? {}).filter(([k]) => k !== 'pod-template-hash'));
  const name = podName.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
  const dep: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: pod.metadata?.namespace, labels },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: structuredClone(pod.spec ?? { containers: [] }) } },
  };
  cluster.deployments.push(dep);
  return dep;
}

/** The pod of another stack, by name. */
export function podOf(cluster: FakeCluster, name: string): V1Pod {
  const pod = cluster.pods.find((p) => p.metadata?.name === name);
  if (!pod) throw new Error(`no pod ${name}`);
  return pod;
}

/** kube-prometheus-stack (release kps in monitoring) with its Grafana Deployment, found by discovery. */
export async function kpsStack(edit: (cluster: FakeCluster) => void = () => undefined, inputs: Record<string, string> = {}): Promise<Stack> {
  const cluster = kpsCluster();
  addDeployment(cluster, KPS_GRAFANA_POD);
  edit(cluster);
  return stackOf(cluster, { 'grafana-password': 'admin2024', ...inputs }, { prometheus: KPS_PROMETHEUS, grafana: 'kps-grafana' });
}

/** kube-prometheus (monitoring, the Secret grafana-datasources mounted) with its Grafana Deployment. */
export async function kubePrometheusStack(edit: (cluster: FakeCluster) => void = () => undefined, inputs: Record<string, string> = {}): Promise<Stack> {
  const cluster = kubePrometheusCluster();
  addDeployment(cluster, KP_GRAFANA_POD);
  edit(cluster);
  return stackOf(cluster, { 'grafana-password': 'admin2024', ...inputs }, { prometheus: 'prometheus-k8s', grafana: 'grafana' });
}

/** The datasource kube-prometheus-stack provisions, as Grafana lists it. */
export const KPS_LISTED = {
  id: 1,
  uid: 'prometheus',
  orgId: 1,
  name: 'Prometheus',
  type: 'prometheus',
  access: 'proxy',
  url: `http://${KPS_PROMETHEUS}.monitoring:9090/`,
  isDefault: true,
  jsonData: { httpMethod: 'POST', timeInterval: '30s' },
  readOnly: true,
};

// ------------------------------------------------------------------------------------------------
// Log lines

/** A Grafana log line (logfmt, as Grafana 11–12 writes it). */
export function grafanaLine(t: string, logger: string, level: string, msg: string, fields = ''): string {
  return `logger=${logger} t=${t} level=${level} msg=${JSON.stringify(msg)}${fields ? ` ${fields}` : ''}`;
}

/** A k8s-sidecar log record, as its default JSON formatter writes it. */
export function sidecarLine(time: string, level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL', msg: string, excInfo?: string): string {
  return pyJsonDumps({ time, level, msg, ...(excInfo ? { exc_info: excInfo } : {}) });
}

/** The API server's 403 Status body, as the Kubernetes Python client receives it. */
function forbiddenBody(user: string, verb: string, resource: string, namespace: string): Buffer {
  return Buffer.from(
    `${JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `${resource} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "" in the namespace "${namespace}"`,
      reason: 'Forbidden',
      details: { kind: resource },
      code: 403,
    })}\n`,
  );
}

const FORBIDDEN_HEADERS = [
  'Audit-Id', '3f6c2a1e-7d4b-4c1e-9a2f-6b3e8a1c5d70',
  'Cache-Control', 'no-cache, private',
  'Content-Type', 'application/json',
  'X-Content-Type-Options', 'nosniff',
  'Date', 'Fri, 14 Mar 2025 09:26:58 GMT',
  'Content-Length', '319',
];

export const KPS_SIDECAR_SA = 'system:serviceaccount:monitoring:kps-grafana';

/**
 * k8s-sidecar 2.x's last words when its initial list is refused: the uncaught ApiException, logged
 * by sys.excepthook with its traceback (the container then exits 1 and restarts).
 */
export function sidecarForbiddenCrash(time = '2025-03-14T09:26:58.412734+00:00'): string {
  const text = new ApiException(403, 'Forbidden', FORBIDDEN_HEADERS, forbiddenBody(KPS_SIDECAR_SA, 'list', 'configmaps', MONITORING)).message;
  return [
    sidecarLine('2025-03-14T09:26:57.902113+00:00', 'INFO', 'Starting collector'),
    sidecarLine('2025-03-14T09:26:57.903511+00:00', 'INFO', 'Loading incluster config...'),
    sidecarLine('2025-03-14T09:26:58.110254+00:00', 'INFO', 'Performing initial list-based sync before starting watch.'),
    sidecarLine('2025-03-14T09:26:58.110918+00:00', 'INFO', "Performing list-based sync on configmap resources: {'namespace': 'monitoring'}"),
    sidecarLine(time, 'ERROR', `ApiException: ${text}`, 'Traceback (most recent call last):\n  File "/app/sidecar.py", line 158, in <module>\n    main()\nkubernetes.client.exceptions.ApiException: (403)'),
  ].join('\n');
}

/** k8s-sidecar 1.x (JSON) in its watch loop: the refusal logged again every ERROR_THROTTLE_SLEEP seconds. */
export function sidecarForbiddenWatch(): string {
  const text = new ApiException(403, 'Forbidden', FORBIDDEN_HEADERS, forbiddenBody(KPS_SIDECAR_SA, 'watch', 'configmaps', MONITORING)).message;
  return [
    sidecarLine('2025-03-14T09:26:57.902113+00:00', 'INFO', 'Starting collector'),
    sidecarLine('2025-03-14T09:26:58.412734+00:00', 'ERROR', `ApiException when calling kubernetes: ${text}\n`),
    sidecarLine('2025-03-14T09:27:03.418201+00:00', 'ERROR', `ApiException when calling kubernetes: ${text}\n`),
  ].join('\n');
}

export const RELOAD_URL = 'http://localhost:3000/api/admin/provisioning/datasources/reload';


export function grafanaDeployment(cluster: FakeCluster): V1Deployment {
  const d = cluster.deployments.find((x) => x.metadata?.name === 'grafana');
  if (!d) throw new Error('the fake cluster has no grafana Deployment');
  return d;
}

export function templateSpec(cluster: FakeCluster): V1PodSpec {
  return grafanaDeployment(cluster).spec!.template.spec!;
}

export function templateContainer(cluster: FakeCluster): V1Container {
  return templateSpec(cluster).containers[0]!;
}

/** Removes the datasources volume and its mount from a pod spec (the seed's original Deployment). */
export function unmount(spec: V1PodSpec): void {
  spec.volumes = spec.volumes!.filter((v) => v.name !== 'grafana-datasources');
  spec.containers[0]!.volumeMounts = spec.containers[0]!.volumeMounts!.filter((m) => m.name !== 'grafana-datasources');
}

export function unmountEverywhere(cluster: FakeCluster): void {
  unmount(cluster.pod(GRAFANA_POD).spec!);
  unmount(templateSpec(cluster));
}

/** 20-grafana-deployment.yaml's env: the admin user inline, the password from the grafana-admin Secret. */
export function withAdminEnv(cluster: FakeCluster, user = 'admin'): void {
  templateContainer(cluster).env = [
    { name: 'GF_SECURITY_ADMIN_USER', value: user },
    { name: 'GF_SECURITY_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: 'grafana-admin', key: 'admin-password' } } },
  ];
}

/** busybox nslookup as the Grafana image runs it, against TaskFlow's cluster DNS. */
export function nslookup(known: Record<string, string> = { 'prometheus.taskflow.svc.cluster.local': '10.96.120.15', prometheus: '10.96.120.15' }) {
  return (args: readonly string[]): ExecResult => {
    const host = args[args.length - 1] ?? '';
    const ip = known[host];
    const head = 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n';
    if (!ip) return { exitCode: 1, stdout: `${head}** server can't find ${host}: NXDOMAIN\n\n`, stderr: '' };
    return { exitCode: 0, stdout: `${head}Name:\t${host}\nAddress: ${ip}\n\n`, stderr: '' };
  };
}

export const WGET_UP = '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"kubernetes-pods"},"value":[1741944662.781,"1"]}]}}';

/** busybox wget: Prometheus's answer, or the error it prints. */
export function wget(answer: { ok: string } | { error: string }) {
  return (): ExecResult => ('ok' in answer ? { exitCode: 0, stdout: answer.ok, stderr: '' } : { exitCode: 1, stdout: '', stderr: answer.error });
}

/** Grafana 11's provisioning failure, as it logs it before shutting down. */
export const DEFAULT_CONFLICT_LOG = [
  'logger=settings t=2025-03-14T09:26:55.101Z level=info msg="Starting Grafana" version=11.5.0 commit=4550cfb5b7',
  'logger=sqlstore t=2025-03-14T09:26:55.312Z level=info msg="Connecting to DB" dbtype=sqlite3',
  'logger=provisioning.datasources t=2025-03-14T09:26:56.020Z level=error msg="can\'t read datasource provisioning files from directory" path=/etc/grafana/provisioning/datasources error="datasource.yaml config is invalid. Only one datasource per organization can be marked as default"',
  'logger=provisioning t=2025-03-14T09:26:56.021Z level=error msg="Failed to provision data sources" error="Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default"',
  'logger=server t=2025-03-14T09:26:56.022Z level=error msg="Server shutdown" error="*provisioning.ProvisioningServiceImpl run error: Datasource provisioning error: datasource.yaml config is invalid. Only one datasource per organization can be marked as default"',
].join('\n');

export const HEALTHY_START_LOG = [
  'logger=settings t=2025-03-14T09:26:55.101Z level=info msg="Starting Grafana" version=11.5.0 commit=4550cfb5b7',
  'logger=provisioning.datasources t=2025-03-14T09:26:56.020Z level=info msg="inserting datasource from configuration" name=Prometheus uid=PBFA97CFB590B2093',
  'logger=http.server t=2025-03-14T09:26:56.500Z level=info msg="HTTP Server Listen" address=[::]:3000 protocol=http',
].join('\n');
