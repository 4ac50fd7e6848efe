/**
 * The Prometheus side of the TaskFlow stack for diagnosis tests: its running configuration
 * (`/api/v1/status/config`, the prometheus.yml of examples/taskflow/15-prometheus-config.yaml),
 * its log lines, and a helper running one prober against a stack.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PROMETHEUS_PROBERS } from '../../src/diagnose/prometheus.js';
import type { DiagnoseContext, Finding, Prober } from '../../src/diagnose/types.js';
import type { CheckId, CheckResult } from '../../src/types.js';
import type { Stack } from '../fixtures/context.js';
import { promOk, type Answer } from '../fixtures/endpoints.js';

/** prometheus.yml as the TaskFlow ConfigMap holds it. */
export const TASKFLOW_PROMETHEUS_YML: string = (
  parse(readFileSync(new URL('../../examples/taskflow/15-prometheus-config.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> }
).data['prometheus.yml']!;

export const configAnswer = (yaml = TASKFLOW_PROMETHEUS_YML): Answer => promOk({ yaml });

/** The stack's Prometheus also answers /api/v1/status/config (with `yaml`, TaskFlow's by default). */
export function withConfig(stack: Stack, yaml = TASKFLOW_PROMETHEUS_YML): Stack {
  stack.prometheus.on('GET', '/api/v1/status/config', configAnswer(yaml));
  return stack;
}

/** Prometheus 2.42's log lines when its ServiceAccount may not list pods in `namespace`. */
export function forbiddenLog(namespace = 'taskflow', sa = 'system:serviceaccount:taskflow:prometheus'): string {
  const reason = `pods is forbidden: User \\"${sa}\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"${namespace}\\"`;
  const reflector = 'pkg/mod/k8s.io/client-go@v0.26.1/tools/cache/reflector.go:169';
  const lines: string[] = [
    'ts=2025-03-14T09:26:58.101Z caller=main.go:585 level=info msg="Starting Prometheus Server" mode=server version="(version=2.42.0, branch=HEAD, revision=225c61122d88b01d1f0eaaee0e05b6f3e0567ac0)"',
    'ts=2025-03-14T09:26:58.420Z caller=kubernetes.go:326 level=info component="discovery manager scrape" discovery=kubernetes config=kubernetes-pods msg="Using pod service account via in-cluster config"',
  ];
  for (const ts of ['2025-03-14T09:26:58.512Z', '2025-03-14T09:26:59.733Z']) {
    lines.push(`ts=${ts} caller=klog.go:108 level=warn component=k8s_client_runtime func=Warningf msg="${reflector}: failed to list *v1.Pod: ${reason}"`);
    lines.push(`ts=${ts} caller=klog.go:116 level=error component=k8s_client_runtime func=ErrorDepth msg="${reflector}: Failed to watch *v1.Pod: failed to list *v1.Pod: ${reason}"`);
  }
  lines.push('ts=2025-03-14T09:27:00.002Z caller=main.go:1200 level=info msg="Completed loading of configuration file" filename=/etc/prometheus/prometheus.yml');
  return `${lines.join('\n')}\n`;
}

export function failedResult(id: CheckId, summary = 'failed'): CheckResult {
  return { id, title: id, status: 'fail', summary, hint: '', durationMs: 1, attempts: 1 };
}

export function diagnoseContext(stack: Stack, results: readonly CheckResult[] = []): DiagnoseContext {
  return { ...stack.context, results: new Map(results.map((r) => [r.id, r])), signal: new AbortController().signal };
}

/** Runs the prober of `id` (or `prober`) against the stack. */
export async function probe(stack: Stack, id: CheckId, prober: Prober | undefined = PROMETHEUS_PROBERS[id]): Promise<{ findings: Finding[]; notes: string[] }> {
  if (!prober) throw new Error(`no prober for ${id}`);
  const result = failedResult(id);
  return prober(result, diagnoseContext(stack, [result]));
}
