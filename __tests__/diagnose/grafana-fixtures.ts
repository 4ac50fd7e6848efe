/**
 * Helpers for the Grafana probers' tests: a broken TaskFlow stack, the check's real verdict on it,
 * then the prober's diagnosis of that verdict.
 */
import type { V1Container, V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import type { Check } from '../../src/checks/check.js';
import type { ExecResult } from '../../src/cluster.js';
import { GRAFANA_PROBERS } from '../../src/diagnose/grafana.js';
import type { DiagnoseContext, Finding } from '../../src/diagnose/types.js';
import type { CheckId, CheckResult } from '../../src/types.js';
import { GRAFANA_POD, type FakeCluster } from '../fixtures/cluster.js';
import { verdict, type Stack } from '../fixtures/context.js';

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
export function failedResult(id: CheckId, summary: string, hint = ''): CheckResult {
  return { id, title: id, status: 'fail', summary, hint, durationMs: 5, attempts: 1 };
}

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
