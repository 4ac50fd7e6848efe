import { describe, expect, it } from '@jest/globals';
import { durationMs, firstSelector, noDataProber, parsePromConfig } from '../../src/diagnose/prometheus.js';
import { BACKEND_POD, POSTGRES_POD, PROMETHEUS_POD, REDIS_POD, taskflowCluster, type FakeCluster } from '../fixtures/cluster.js';
import { taskflowStack } from '../fixtures/context.js';
import { activeTarget, emptyVector, promOk, SELF_TARGET, TASKFLOW_TARGETS, targetsAnswer, taskflowTargets, type TargetInput } from '../fixtures/endpoints.js';
import { failedResult, forbiddenLog, probe, TASKFLOW_PROMETHEUS_YML, withConfig } from './prometheus-fixtures.js';

const PROM_SA = 'system:serviceaccount:taskflow:prometheus';
const CONFIG_TARGET = { object: { kind: 'ConfigMap', namespace: 'taskflow', name: 'prometheus-config' }, path: ['data', 'prometheus.yml'] };
const deployment = (name: string) => ({ kind: 'Deployment', namespace: 'taskflow', name });

/** The TaskFlow stack with its Prometheus configuration; `yaml` replaces prometheus.yml. */
async function stackWith(cluster: FakeCluster = taskflowCluster(), inputs: Record<string, string> = {}, yaml = TASKFLOW_PROMETHEUS_YML) {
  return withConfig(await taskflowStack(inputs, cluster), yaml);
}

/** Only these TaskFlow targets are active (others not discovered). */
function onlyTargets(...targets: TargetInput[]) {
  return targetsAnswer(targets.map((t) => activeTarget(t)));
}

const target = (app: string, extra: Partial<TargetInput> = {}): TargetInput => ({ ...TASKFLOW_TARGETS.find((t) => t.app === app)!, ...extra });

describe('prometheus-targets: RBAC', () => {
  it('says the ServiceAccount may not list pods, quoting Prometheus’s log, and targets the ClusterRoleBinding', async () => {
    const cluster = taskflowCluster().denyUser(PROM_SA, 'list', 'pods');
    cluster.logs.set(`${PROMETHEUS_POD}/prometheus`, forbiddenLog());
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));

    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(notes).toEqual([]);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f!.cause).toBe('ServiceAccount taskflow/prometheus may not list pods in namespace taskflow, so Prometheus discovers no target');
    expect(f!.fix).toBe('Let prometheus list and watch pods in taskflow: kubectl apply -f 16-prometheus-rbac.yaml (ClusterRole prometheus and its binding).');
    expect(f!.target).toEqual({ object: { kind: 'ClusterRoleBinding', name: 'prometheus' }, path: ['subjects'] });
    expect(f!.evidence!.length).toBeLessThanOrEqual(5);
    expect(f!.evidence!.some((l) => l.includes('Failed to watch *v1.Pod: failed to list *v1.Pod: pods is forbidden'))).toBe(true);
    expect(f!.evidence).toContain(`SubjectAccessReview: ${PROM_SA} may not list pods in namespace taskflow`);
    // Repeated log lines are quoted once.
    expect(f!.evidence!.filter((l) => l.includes('level=error')).length).toBe(1);
  });

  it('names both verbs when list and watch are refused', async () => {
    const cluster = taskflowCluster().denyUser(PROM_SA, 'list', 'pods').denyUser(PROM_SA, 'watch', 'pods');
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings[0]!.cause).toBe('ServiceAccount taskflow/prometheus may not list or watch pods in namespace taskflow, so Prometheus discovers no target');
  });

  it('notes that access reviews are refused, and still finds the refusal in Prometheus’s log', async () => {
    const cluster = taskflowCluster().deny('create', 'subjectaccessreviews');
    cluster.logs.set(`${PROMETHEUS_POD}/prometheus`, forbiddenLog());
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(notes).toEqual([
      "could not ask whether ServiceAccount taskflow/prometheus may list pods: subjectaccessreviews create is forbidden for the action's credentials",
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe('ServiceAccount taskflow/prometheus may not list pods in namespace taskflow, so Prometheus discovers no target');
    expect(findings[0]!.target).toEqual({ object: { kind: 'ClusterRoleBinding', name: 'prometheus' }, path: ['subjects'] });
  });

  it('notes both refusals when neither access reviews nor logs may be read', async () => {
    const cluster = taskflowCluster().deny('create', 'subjectaccessreviews').deny('get', 'pods', 'log');
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(findings).toEqual([]);
    expect(notes).toEqual([
      "could not ask whether ServiceAccount taskflow/prometheus may list pods: subjectaccessreviews create is forbidden for the action's credentials",
      "Prometheus's logs not read: get pods/log is forbidden",
    ]);
  });

  it('finds nothing to say about a healthy stack', async () => {
    const stack = await stackWith();
    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(findings).toEqual([]);
    expect(notes).toEqual([]);
  });
});

describe('prometheus-targets: discovery', () => {
  it('says the job does not discover pods in the namespace, targeting namespaces.names in the ConfigMap', async () => {
    const stack = await stackWith(taskflowCluster(), {}, TASKFLOW_PROMETHEUS_YML.replace('- taskflow', '- monitoring'));
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe('Scrape job kubernetes-pods discovers pods only in namespace monitoring, not in taskflow');
    expect(findings[0]!.fix).toBe(
      'Add taskflow to namespaces.names of the job\'s kubernetes_sd_configs in ConfigMap taskflow/prometheus-config, then restart Prometheus',
    );
    expect(findings[0]!.target).toEqual({ ...CONFIG_TARGET, embedded: ['scrape_configs', 0, 'kubernetes_sd_configs', 0, 'namespaces', 'names'] });
  });

  it('puts the RBAC refusal before the namespace finding', async () => {
    const cluster = taskflowCluster().denyUser(PROM_SA, 'list', 'pods');
    const stack = await stackWith(cluster, {}, TASKFLOW_PROMETHEUS_YML.replace('- taskflow', '- monitoring'));
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual([
      'ServiceAccount taskflow/prometheus may not list pods in namespace monitoring, so Prometheus discovers no target',
      'Scrape job kubernetes-pods discovers pods only in namespace monitoring, not in taskflow',
    ]);
  });

  it('says the ConfigMap was changed and Prometheus still runs the older job', async () => {
    const cluster = taskflowCluster();
    cluster.configMaps.push({
      metadata: { name: 'prometheus-config', namespace: 'taskflow' },
      data: { 'prometheus.yml': TASKFLOW_PROMETHEUS_YML.replace('- taskflow', '- monitoring') },
    });
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings[0]).toEqual({
      cause: 'Job kubernetes-pods in ConfigMap taskflow/prometheus-config differs from the configuration Prometheus runs: Prometheus has not reloaded the ConfigMap since it changed',
      fix: 'Restart Prometheus to load it (kubectl rollout restart deployment/prometheus -n taskflow)',
      target: { ...CONFIG_TARGET, embedded: ['scrape_configs', 0] },
    });
  });

  it('checks the ConfigMap’s Kubernetes discovery when Prometheus runs the job through another one', async () => {
    const cluster = taskflowCluster().denyUser(PROM_SA, 'list', 'pods');
    cluster.configMaps.push({ metadata: { name: 'prometheus-config', namespace: 'taskflow' }, data: { 'prometheus.yml': TASKFLOW_PROMETHEUS_YML } });
    const running = TASKFLOW_PROMETHEUS_YML.replace(/kubernetes_sd_configs:\n(\s+)- role: pod\n\s+namespaces:\n\s+names:\n\s+- taskflow/, 'http_sd_configs:\n$1- url: http://127.0.0.1:9999/sd/0/0').replace(
      'scrape_interval: 15s',
      'scrape_interval: 1s',
    );
    expect(running).toContain('http_sd_configs');
    const stack = await stackWith(cluster, {}, running);
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual(['ServiceAccount taskflow/prometheus may not list pods in namespace taskflow, so Prometheus discovers no target']);
  });

  it('says nothing of a ConfigMap that matches the running configuration (only the pod’s own fault)', async () => {
    const cluster = taskflowCluster();
    cluster.configMaps.push({ metadata: { name: 'prometheus-config', namespace: 'taskflow' }, data: { 'prometheus.yml': TASKFLOW_PROMETHEUS_YML } });
    delete cluster.pod(REDIS_POD).metadata!.labels!.app;
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual([
      `Pod taskflow/${REDIS_POD} has no app label, so the keep rule of job kubernetes-pods (regex "backend-api|postgres|redis") drops it`,
    ]);
  });

  it('says the scrape job is missing from the configuration', async () => {
    const stack = await stackWith(taskflowCluster(), {}, TASKFLOW_PROMETHEUS_YML.replace("job_name: 'kubernetes-pods'", "job_name: 'pods'"));
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([]));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings[0]!.cause).toBe("Prometheus's configuration has no scrape job kubernetes-pods (its jobs: pods)");
    expect(findings[0]!.target).toEqual({ ...CONFIG_TARGET, embedded: ['scrape_configs'] });
  });

  it('says the keep regex drops an expected app, targeting that regex', async () => {
    const stack = await stackWith(taskflowCluster(), {}, TASKFLOW_PROMETHEUS_YML.replace('regex: backend-api|postgres|redis', 'regex: backend-api|postgres'));
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe('The keep rule of job kubernetes-pods (regex "backend-api|postgres") drops app=redis, an expected target');
    expect(findings[0]!.fix).toBe('Add redis to that regex in ConfigMap taskflow/prometheus-config (e.g. backend-api|postgres|redis), then restart Prometheus');
    expect(findings[0]!.target).toEqual({ ...CONFIG_TARGET, embedded: ['scrape_configs', 0, 'relabel_configs', 0, 'regex'] });
  });
});

describe('prometheus-targets: labels and annotations', () => {
  it('says a pod’s app label does not match the keep regex, targeting its Deployment’s template labels', async () => {
    const cluster = taskflowCluster();
    cluster.pod(BACKEND_POD).metadata!.labels!.app = 'backend';
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('postgres'), target('redis')));
    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(notes).toEqual([]);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f!.cause).toBe(
      `Pod taskflow/${BACKEND_POD} has label app=backend, which the keep rule of job kubernetes-pods (regex "backend-api|postgres|redis") does not match`,
    );
    expect(f!.fix).toBe('Set the label app: backend-api in the pod template of Deployment taskflow/backend-api');
    expect(f!.target).toEqual({ object: deployment('backend-api'), path: ['spec', 'template', 'metadata', 'labels'] });
    expect(f!.evidence).toEqual([
      'pod labels: app=backend, pod-template-hash=5f7d8c6b9',
      'keep rule: source_labels [__meta_kubernetes_pod_label_app], regex ^(?:backend-api|postgres|redis)$',
    ]);
  });

  it('says a pod has no app label', async () => {
    const cluster = taskflowCluster();
    delete cluster.pod(REDIS_POD).metadata!.labels!.app;
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual([
      `Pod taskflow/${REDIS_POD} has no app label, so the keep rule of job kubernetes-pods (regex "backend-api|postgres|redis") drops it`,
    ]);
    expect(findings[0]!.fix).toBe('Set the label app: redis in the pod template of Deployment taskflow/redis');
    expect(findings[0]!.target).toEqual({ object: deployment('redis'), path: ['spec', 'template', 'metadata', 'labels'] });
  });

  it('says a pod lacks the prometheus.io/scrape annotation the job keeps', async () => {
    const cluster = taskflowCluster();
    delete cluster.pod(REDIS_POD).metadata!.annotations!['prometheus.io/scrape'];
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(`Pod taskflow/${REDIS_POD} has no prometheus.io/scrape annotation, so the keep rule of job kubernetes-pods (regex "true") drops it`);
    expect(findings[0]!.fix).toBe('Set the annotation prometheus.io/scrape: "true" in the pod template of Deployment taskflow/redis');
    expect(findings[0]!.target).toEqual({ object: deployment('redis'), path: ['spec', 'template', 'metadata', 'annotations'] });
  });

  it('says a prometheus.io/port annotation names no container port (the keepequal rule)', async () => {
    const cluster = taskflowCluster();
    cluster.pod(BACKEND_POD).metadata!.annotations!['prometheus.io/port'] = '8000';
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('postgres'), target('redis')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual([
      `Pod taskflow/${BACKEND_POD}'s annotation prometheus.io/port: "8000" names none of its container ports (5000), so the keepequal rule of job kubernetes-pods drops it`,
    ]);
    expect(findings[0]!.target).toEqual({ object: deployment('backend-api'), path: ['spec', 'template', 'metadata', 'annotations', 'prometheus.io/port'] });
  });

  it('says when no pod carries an expected app at all', async () => {
    const cluster = taskflowCluster().remove('pod', REDIS_POD);
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual(['No pod in namespace taskflow carries app=redis']);
    expect(findings[0]!.fix).toContain('remove it from the expected-targets input');
  });

  it('notes pods it may not list', async () => {
    const stack = await stackWith();
    // Refused after discovery found the stack.
    stack.cluster.deny('list', 'pods');
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings, notes } = await probe(stack, 'prometheus-targets');
    expect(findings).toEqual([]);
    expect(notes).toContain('the pods matching app=prometheus in namespace taskflow not read: list pods is forbidden');
    expect(notes).toContain('the pods of namespace taskflow not read: list pods is forbidden');
  });
});

describe('prometheus-targets: pod states and DOWN targets', () => {
  it('explains a pod that cannot be scheduled (no IP, so no target)', async () => {
    const cluster = taskflowCluster();
    const pod = cluster.pod(REDIS_POD);
    pod.status = {
      phase: 'Pending',
      qosClass: 'Burstable',
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.' },
      ],
    };
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('backend-api'), target('postgres')));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(
      `Pod taskflow/${REDIS_POD} is Pending: it cannot be scheduled (Unschedulable: 0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.), so Prometheus cannot scrape it`,
    );
    expect(findings[0]!.fix).toBe('Lower the resource requests in Deployment taskflow/redis, or add node capacity');
    expect(findings[0]!.target).toEqual({ object: deployment('redis'), path: ['spec', 'template', 'spec', 'containers', 0, 'resources'] });
  });

  it('explains a DOWN target whose pod keeps crashing with its previous log', async () => {
    const cluster = taskflowCluster().setPodStatus(REDIS_POD, { waiting: 'CrashLoopBackOff', restartCount: 4 });
    cluster.logs.set(`${REDIS_POD}/redis/previous`, '1:C 14 Mar 2025 09:30:01.000 # Fatal error, can\'t open config file \'/etc/redis/redis.conf\': No such file or directory\n');
    const stack = await stackWith(cluster);
    const refused = 'Get "http://10.244.0.17:9121/metrics": dial tcp 10.244.0.17:9121: connect: connection refused';
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'down', lastError: refused } }));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(`Pod taskflow/${REDIS_POD} keeps crashing (CrashLoopBackOff, 8 restarts): container redis exited with code 1, so its target redis is DOWN`);
    expect(findings[0]!.fix).toBe(`Fix what its log reports (kubectl logs -n taskflow ${REDIS_POD} -c redis --previous), then let it restart`);
    expect(findings[0]!.evidence).toEqual([`lastError: ${refused}`, "1:C 14 Mar 2025 09:30:01.000 # Fatal error, can't open config file '/etc/redis/redis.conf': No such file or directory"]);
  });

  it('says nothing listens on the annotated port when the pod runs, targeting the annotation', async () => {
    const stack = await stackWith();
    const refused = 'Get "http://10.244.0.17:9121/metrics": dial tcp 10.244.0.17:9121: connect: connection refused';
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'down', lastError: refused } }));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(
      `Nothing listens on port 9121 of pod taskflow/${REDIS_POD}, the port its prometheus.io/port annotation names: target redis is DOWN (connection refused)`,
    );
    expect(findings[0]!.fix).toBe(
      'Make the prometheus.io/port annotation name the port the exporter listens on (the pod declares redis:6379, redis-exporter:9121), or start the exporter on port 9121',
    );
    expect(findings[0]!.target).toEqual({ object: deployment('redis'), path: ['spec', 'template', 'metadata', 'annotations', 'prometheus.io/port'] });
    expect(findings[0]!.evidence).toEqual([`lastError: ${refused}`, 'prometheus.io/port: "9121"']);
  });

  it('says the exporter answers an error (HTTP 500), quoting its log', async () => {
    const cluster = taskflowCluster();
    cluster.logs.set(
      `${POSTGRES_POD}/postgres-exporter`,
      'ts=2025-03-14T09:30:58.061Z caller=collector.go:199 level=info msg="scrape started"\nts=2025-03-14T09:30:58.063Z caller=collector.go:201 level=error msg="collector failed" name=database err="pq: password authentication failed for user \\"taskflow\\""\n',
    );
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ postgres: { health: 'down', lastError: 'server returned HTTP status 500 Internal Server Error' } }));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(`The exporter of pod taskflow/${POSTGRES_POD} answers http://10.244.0.16:9187/metrics with an error: HTTP 500 Internal Server Error`);
    expect(findings[0]!.fix).toBe(
      `Fix what the exporter's log reports (kubectl logs -n taskflow ${POSTGRES_POD} -c postgres-exporter): it often cannot reach or log in to the service it exports`,
    );
    expect(findings[0]!.evidence).toHaveLength(2);
    expect(findings[0]!.evidence![1]).toContain('password authentication failed');
  });

  it('says the scrape exceeds scrape_timeout, targeting the job', async () => {
    const stack = await stackWith();
    const error = 'Get "http://10.244.0.15:5000/metrics": context deadline exceeded';
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ 'backend-api': { health: 'down', lastError: error } }));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(`The scrape of target backend-api (pod taskflow/${BACKEND_POD}) does not finish within scrape_timeout (10s)`);
    expect(findings[0]!.fix).toBe(
      'Make the exporter answer faster, or raise scrape_timeout of job kubernetes-pods in ConfigMap taskflow/prometheus-config (at most its scrape_interval, 15s)',
    );
    expect(findings[0]!.target).toEqual({ ...CONFIG_TARGET, embedded: ['scrape_configs', 0, 'scrape_timeout'] });
  });

  it('orders label findings before pod states before DOWN targets', async () => {
    const cluster = taskflowCluster();
    cluster.pod(BACKEND_POD).metadata!.labels!.app = 'backend';
    const pending = cluster.pod(POSTGRES_POD);
    pending.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' }] };
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/targets', onlyTargets(target('redis', { health: 'down', lastError: 'server returned HTTP status 500 Internal Server Error' })));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause.split(' ').slice(0, 2).join(' '))).toEqual([`Pod taskflow/${BACKEND_POD}`, `Pod taskflow/${POSTGRES_POD}`, 'The exporter']);
  });

  it('says targets were discovered but not scraped yet', async () => {
    const stack = await stackWith(taskflowCluster(), { wait: '20s' });
    stack.prometheus.on('GET', '/api/v1/targets', taskflowTargets({ redis: { health: 'unknown' } }));
    const { findings } = await probe(stack, 'prometheus-targets');
    expect(findings.map((f) => f.cause)).toEqual(['Prometheus has not scraped redis yet: the first samples are expected in 15 s (scrape_interval 15s)']);
    expect(findings[0]!.fix).toBe('Raise the wait input to at least 2 × scrape_interval (e.g. wait: 30s)');
  });
});

describe('prometheus-query', () => {
  const unscraped = () => taskflowTargets(Object.fromEntries(TASKFLOW_TARGETS.map((t) => [t.app, { health: 'unknown' as const }])));

  it('says Prometheus has not scraped yet, and to raise the wait input', async () => {
    const stack = await stackWith(taskflowCluster(), { wait: '10s' });
    stack.prometheus.on('GET', '/api/v1/targets', unscraped()).on('GET', '/api/v1/query', emptyVector());
    const { findings, notes } = await probe(stack, 'prometheus-query');
    expect(notes).toEqual([]);
    expect(findings).toEqual([
      {
        cause: 'Prometheus has not scraped yet: the first samples are expected in 15 s (scrape_interval 15s)',
        fix: 'Raise the wait input to at least 2 × scrape_interval (e.g. wait: 30s)',
      },
    ]);
  });

  it('takes the job’s own scrape_interval over the global one', async () => {
    const yaml = TASKFLOW_PROMETHEUS_YML.replace("job_name: 'kubernetes-pods'", "job_name: 'kubernetes-pods'\n    scrape_interval: 30s");
    const stack = await stackWith(taskflowCluster(), { wait: '10s' }, yaml);
    stack.prometheus.on('GET', '/api/v1/targets', unscraped()).on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'prometheus-query');
    expect(findings[0]!.cause).toBe('Prometheus has not scraped yet: the first samples are expected in 30 s (scrape_interval 30s)');
    expect(findings[0]!.fix).toBe('Raise the wait input to at least 2 × scrape_interval (e.g. wait: 1m)');
  });

  it('does not advise a longer wait when the wait already covers two intervals', async () => {
    const stack = await stackWith();
    stack.prometheus.on('GET', '/api/v1/targets', unscraped()).on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'prometheus-query');
    expect(findings[0]!.fix).toBe(
      'The wait input (1m) already covers 2 × scrape_interval: the targets were discovered only recently; check that their pods are not restarting (kubectl get pods -n taskflow)',
    );
  });

  it('says Prometheus started moments ago', async () => {
    const cluster = taskflowCluster();
    cluster.pod(PROMETHEUS_POD).status!.containerStatuses![0]!.state = { running: { startedAt: new Date(Date.now() - 5000) } };
    const stack = await stackWith(cluster);
    stack.prometheus.on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'prometheus-query');
    expect(findings[0]!.cause).toMatch(/^Prometheus started [56] s ago and has scraped its targets at most twice: more samples are expected in 2[45] s \(scrape_interval 15s\)$/);
    expect(findings[0]!.fix).toBe('Raise the wait input to at least 2 × scrape_interval (e.g. wait: 30s)');
  });

  it('says the query’s job label is not the scrape job’s', async () => {
    const stack = await stackWith(taskflowCluster(), { query: 'up{job="kubernetes-pod"}' });
    stack.prometheus.on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'prometheus-query');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe('The query up{job="kubernetes-pod"} selects job="kubernetes-pod", but the scraped targets have job="kubernetes-pods"');
    expect(findings[0]!.fix).toBe('Change the query input to select the targets\' labels (e.g. job="kubernetes-pods")');
    expect(findings[0]!.evidence![0]).toBe(
      'target labels: {app="backend-api", instance="10.244.0.15:5000", job="kubernetes-pods", namespace="taskflow", pod="backend-api-5f7d8c6b9-m3n7k"}',
    );
  });

  it('says no target exports the queried metric', async () => {
    const stack = await stackWith(taskflowCluster(), { query: 'rate(http_requests_total{app="backend-api"}[5m])' });
    stack.prometheus.on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'prometheus-query');
    expect(findings[0]!.cause).toBe('No series named http_requests_total exists in Prometheus: none of its 3 scraped targets exports it');
    // The check's own query, then the probe's.
    expect(stack.prometheus.sent('/api/v1/query').map((r) => decodeURIComponent(r.path.split('query=')[1]!))).toEqual([
      'rate(http_requests_total{app="backend-api"}[5m])',
      'count by (job) ({__name__="http_requests_total"})',
    ]);
  });

  it('says the scrape job has no target', async () => {
    const stack = await stackWith();
    stack.prometheus.on('GET', '/api/v1/targets', targetsAnswer([SELF_TARGET])).on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'prometheus-query');
    expect(findings.map((f) => f.cause)).toEqual([
      'Scrape job kubernetes-pods has no active target (Prometheus scrapes: prometheus), so up{job="kubernetes-pods"} has no series to return',
    ]);
  });

  it('falls back to the labels the targets have', async () => {
    const stack = await stackWith(taskflowCluster(), { query: 'sum(up) > 5' });
    stack.prometheus.on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'prometheus-query');
    expect(findings[0]!.cause).toBe('Prometheus has scraped 3 targets, but sum(up) > 5 matches none of their series');
  });
});

describe('grafana-query with no data (noDataProber)', () => {
  const noData = failedResult('grafana-query', 'up{job="kubernetes-pods"} returned no data through Grafana', { code: 'grafana-query.no-data', query: 'up{job="kubernetes-pods"}' });

  it('says Prometheus has the data when it does', async () => {
    const stack = await stackWith();
    const { findings } = await probe(stack, 'grafana-query', noDataProber, noData);
    expect(findings[0]!.cause).toBe('Prometheus itself returns 3 series for up{job="kubernetes-pods"}, but Grafana\'s datasource Prometheus returns none');
    expect(findings[0]!.fix).toBe('Point the datasource at this Prometheus (http://prometheus.taskflow.svc.cluster.local:9090), and query a time range that includes the last minutes');
  });

  it('diagnoses as prometheus-query when Prometheus has no data either', async () => {
    const stack = await stackWith(taskflowCluster(), { wait: '10s' });
    stack.prometheus
      .on('GET', '/api/v1/targets', taskflowTargets(Object.fromEntries(TASKFLOW_TARGETS.map((t) => [t.app, { health: 'unknown' as const }]))))
      .on('GET', '/api/v1/query', emptyVector());
    const { findings } = await probe(stack, 'grafana-query', noDataProber, noData);
    expect(findings.map((f) => f.cause)).toEqual(['Prometheus has not scraped yet: the first samples are expected in 15 s (scrape_interval 15s)']);
  });
});

describe('prometheus-service', () => {
  const SERVICE = { kind: 'Service', namespace: 'taskflow', name: 'prometheus' };

  it('says no Service selects the Prometheus pod when discovery found none', async () => {
    const stack = await stackWith(taskflowCluster().remove('service', 'prometheus').remove('endpoints', 'prometheus'));
    const { findings, result } = await probe(stack, 'prometheus-service');
    expect(result.reason).toEqual({ code: 'discovery.not-found', component: 'prometheus-service' });
    expect(findings).toEqual([
      {
        cause: `No Service in namespace taskflow selects the Prometheus pod (${PROMETHEUS_POD})`,
        fix: 'Create the Service prometheus (TaskFlow defines it with the Prometheus Deployment: kubectl apply -f 15-prometheus-deployment.yaml)',
        evidence: [`pod ${PROMETHEUS_POD} labels: app=prometheus, pod-template-hash=6d8f7c9b5`],
      },
    ]);
  });

  it('says the Service does not exist when it went away after discovery, targeting it', async () => {
    const stack = await stackWith();
    stack.cluster.remove('service', 'prometheus').remove('endpoints', 'prometheus');
    const { findings, result } = await probe(stack, 'prometheus-service');
    expect(result.reason).toEqual({ code: 'service.missing', namespace: 'taskflow', name: 'prometheus' });
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe('Service taskflow/prometheus does not exist');
    expect(findings[0]!.target).toEqual({ object: SERVICE, path: [] });
    expect(findings[0]!.evidence).toEqual([`pod ${PROMETHEUS_POD} labels: app=prometheus, pod-template-hash=6d8f7c9b5`]);
  });

  it('names the Service in front of the pods when the prometheus-service input names another', async () => {
    const stack = await stackWith(taskflowCluster(), { 'prometheus-service': 'prometheus-server:9090', 'prometheus-selector': 'app=prometheus' });
    const { findings } = await probe(stack, 'prometheus-service');
    expect(findings.map((f) => [f.cause, f.fix])).toEqual([
      ['Service taskflow/prometheus is the one in front of the Prometheus pods (it selects app=prometheus)', 'Set the prometheus-service input to taskflow/prometheus:web'],
    ]);
  });

  it('says the selector matches no pod, naming the Prometheus pod’s labels', async () => {
    const cluster = taskflowCluster();
    cluster.service('prometheus').spec!.selector = { app: 'prometheus-server' };
    const { findings } = await probe(await stackWith(cluster), 'prometheus-service');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(`Service taskflow/prometheus selects app=prometheus-server, but the Prometheus pod ${PROMETHEUS_POD} has app=prometheus`);
    expect(findings[0]!.fix).toBe("Set the Service's selector to app=prometheus");
    expect(findings[0]!.target).toEqual({ object: SERVICE, path: ['spec', 'selector'] });
  });

  it('says the targetPort names no container port', async () => {
    const cluster = taskflowCluster();
    cluster.service('prometheus').spec!.ports![0]!.targetPort = 'http';
    cluster.endpointsOf('prometheus').subsets = [];
    const { findings } = await probe(await stackWith(cluster), 'prometheus-service');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(`Service taskflow/prometheus forwards port 9090 to targetPort "http", which pod ${PROMETHEUS_POD} does not declare (it declares web:9090)`);
    expect(findings[0]!.fix).toBe("Set the Service port's targetPort to web");
    expect(findings[0]!.target).toEqual({ object: SERVICE, path: ['spec', 'ports'] });
  });

  it('explains the selected pod when it is not Ready', async () => {
    const cluster = taskflowCluster().setPodStatus(PROMETHEUS_POD, { ready: false });
    const [subset] = cluster.endpointsOf('prometheus').subsets!;
    subset!.notReadyAddresses = subset!.addresses;
    subset!.addresses = [];
    const { findings } = await probe(await stackWith(cluster), 'prometheus-service');
    expect(findings[0]!.cause).toBe(`Pod taskflow/${PROMETHEUS_POD} is Running but not Ready: container prometheus is not ready, so Service taskflow/prometheus has no ready endpoint`);
  });

  it('notes the pods it may not list', async () => {
    const stack = await stackWith();
    stack.cluster.endpointsOf('prometheus').subsets = [];
    stack.cluster.deny('list', 'pods');
    const { findings, notes, result } = await probe(stack, 'prometheus-service');
    expect(result.reason).toEqual({ code: 'service.no-endpoints', namespace: 'taskflow', name: 'prometheus', notReady: 0 });
    expect(findings).toEqual([]);
    expect(notes).toEqual(['the pods matching app=prometheus in namespace taskflow not read: list pods is forbidden']);
  });
});

describe('prometheus-pod', () => {
  const CONFIG_ERROR = [
    'ts=2025-03-14T09:30:12.001Z caller=main.go:585 level=info msg="Starting Prometheus Server" mode=server version="(version=2.42.0, branch=HEAD, revision=225c61122d88b01d1f0eaaee0e05b6f3e0567ac0)"',
    'ts=2025-03-14T09:30:12.114Z caller=main.go:1170 level=error msg="Error loading config (--config.file=/etc/prometheus/prometheus.yml)" file=/etc/prometheus/prometheus.yml err="parsing YAML file /etc/prometheus/prometheus.yml: yaml: line 12: did not find expected key"',
  ].join('\n');

  it('quotes the previous run’s log of a crashing Prometheus and targets its configuration', async () => {
    const cluster = taskflowCluster().setPodStatus(PROMETHEUS_POD, { waiting: 'CrashLoopBackOff', restartCount: 5 });
    cluster.logs.set(`${PROMETHEUS_POD}/prometheus/previous`, CONFIG_ERROR);
    const { findings, notes } = await probe(await stackWith(cluster), 'prometheus-pod');
    expect(notes).toEqual([]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.cause).toBe(`Pod taskflow/${PROMETHEUS_POD} keeps crashing (CrashLoopBackOff, 5 restarts): container prometheus exited with code 1`);
    expect(findings[0]!.fix).toBe('Fix prometheus.yml in ConfigMap taskflow/prometheus-config (promtool check config shows the error), then restart the pod');
    expect(findings[0]!.target).toEqual(CONFIG_TARGET);
    expect(findings[0]!.evidence).toEqual(CONFIG_ERROR.split('\n'));
  });

  it('notes a log it may not read, and still says the pod crashes', async () => {
    const cluster = taskflowCluster().setPodStatus(PROMETHEUS_POD, { waiting: 'CrashLoopBackOff', restartCount: 5 }).deny('get', 'pods', 'log');
    const { findings, notes } = await probe(await stackWith(cluster), 'prometheus-pod');
    expect(notes).toEqual(["Prometheus's logs not read: get pods/log is forbidden"]);
    expect(findings[0]!.cause).toBe(`Pod taskflow/${PROMETHEUS_POD} keeps crashing (CrashLoopBackOff, 5 restarts): container prometheus exited with code 1`);
    expect(findings[0]!.fix).toBe(`Fix what its log reports (kubectl logs -n taskflow ${PROMETHEUS_POD} -c prometheus --previous), then let it restart`);
    expect(findings[0]!.evidence).toEqual([]);
  });

  it('names the image it cannot pull', async () => {
    const cluster = taskflowCluster().setPodStatus(PROMETHEUS_POD, { waiting: 'ImagePullBackOff', phase: 'Pending' });
    cluster.pod(PROMETHEUS_POD).status!.containerStatuses![0]!.state!.waiting!.message = 'Back-off pulling image "prom/prometheus:v2.42.0"';
    const { findings } = await probe(await stackWith(cluster), 'prometheus-pod');
    expect(findings[0]!.cause).toBe(`Pod taskflow/${PROMETHEUS_POD} cannot pull image prom/prometheus:v2.42.0 (ImagePullBackOff)`);
    expect(findings[0]!.target).toEqual({ object: deployment('prometheus'), path: ['spec', 'template', 'spec', 'containers', 0, 'image'] });
    expect(findings[0]!.evidence).toEqual(['Back-off pulling image "prom/prometheus:v2.42.0"']);
  });

  it('gives the reason a pod is Pending', async () => {
    const cluster = taskflowCluster();
    cluster.pod(PROMETHEUS_POD).status = {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }.' }],
    };
    const { findings } = await probe(await stackWith(cluster), 'prometheus-pod');
    expect(findings[0]!.cause).toBe(
      `Pod taskflow/${PROMETHEUS_POD} is Pending: it cannot be scheduled (Unschedulable: 0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }.)`,
    );
    expect(findings[0]!.target).toEqual({ object: deployment('prometheus'), path: ['spec', 'template', 'spec'] });
  });

  it('says a ConfigMap the pod mounts does not exist', async () => {
    const cluster = taskflowCluster();
    cluster.pod(PROMETHEUS_POD).status = { phase: 'Pending', containerStatuses: [{ name: 'prometheus', image: 'prom/prometheus:v2.42.0', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] };
    const { findings } = await probe(await stackWith(cluster), 'prometheus-pod');
    expect(findings[0]!.cause).toBe(`ConfigMap taskflow/prometheus-config, which pod taskflow/${PROMETHEUS_POD} mounts, does not exist, so the pod stays Pending`);
    expect(findings[0]!.target).toEqual({ object: { kind: 'ConfigMap', namespace: 'taskflow', name: 'prometheus-config' }, path: [] });
  });

  it('says the Deployment is scaled to zero when no pod exists', async () => {
    const cluster = taskflowCluster().remove('pod', PROMETHEUS_POD);
    cluster.deployments.find((d) => d.metadata?.name === 'prometheus')!.spec!.replicas = 0;
    const { findings } = await probe(await stackWith(cluster), 'prometheus-pod');
    expect(findings).toEqual([
      {
        cause: 'Deployment taskflow/prometheus is scaled to 0 replicas',
        fix: 'Set replicas: 1 in the Deployment (kubectl scale deployment/prometheus -n taskflow --replicas=1)',
        target: { object: deployment('prometheus'), path: ['spec', 'replicas'] },
      },
    ]);
  });

  it('says no Deployment runs Prometheus', async () => {
    const cluster = taskflowCluster().remove('pod', PROMETHEUS_POD);
    cluster.deployments.splice(cluster.deployments.findIndex((d) => d.metadata?.name === 'prometheus'), 1);
    const { findings } = await probe(await stackWith(cluster), 'prometheus-pod');
    expect(findings[0]!.cause).toBe('No Deployment in namespace taskflow runs Prometheus (none labels its pods app.kubernetes.io/name=prometheus or app=prometheus or is named after it)');
  });
});

describe('configuration reading', () => {
  it('reads TaskFlow’s job: namespaces, keep rules, interval', () => {
    const [job] = parsePromConfig(TASKFLOW_PROMETHEUS_YML).jobs;
    expect(job!.name).toBe('kubernetes-pods');
    expect(job!.sd).toEqual([{ index: 0, role: 'pod', namespaces: ['taskflow'], ownNamespace: false, ownCredentials: undefined }]);
    expect(job!.scrapeInterval).toBe('15s');
    expect(job!.relabel[0]!.regex!.test('redis')).toBe(true);
    expect(job!.relabel[0]!.regex!.test('redis-cache')).toBe(false);
  });

  it('parses Prometheus durations and PromQL selectors', () => {
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('15s')).toBe(15_000);
    expect(durationMs('abc')).toBeNaN();
    expect(firstSelector('up{job="kubernetes-pods"}')).toEqual({ metric: 'up', matchers: [{ name: 'job', op: '=', value: 'kubernetes-pods' }] });
    expect(firstSelector('sum by (app) (rate(http_requests_total{app=~"backend.*"}[5m]))')).toEqual({
      metric: 'http_requests_total',
      matchers: [{ name: 'app', op: '=~', value: 'backend.*' }],
    });
    expect(firstSelector('up')).toEqual({ metric: 'up', matchers: [] });
  });

  it('answers /api/v1/status/config in the test stack', async () => {
    const stack = await stackWith();
    expect(await stack.context.prometheus.configYaml()).toBe(TASKFLOW_PROMETHEUS_YML);
    expect(promOk({}).status).toBe(200);
  });
});
