/**
 * The monitoring-stack examples (examples/kube-prometheus, kube-prometheus-stack,
 * prometheus-grafana-charts): every file parses and is an object kubectl accepts; the names,
 * ports and datasources the reference tables give; Services, ServiceMonitors and mounts that point
 * at things that exist; and the simulated exporters serving /metrics on the ports the examples'
 * Services and ServiceMonitors scrape.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { startExporter, type Exporter } from '../../sim/exporters/exporter.js';
import { KubeStateMetricsWorkload, KubeStateMetricsTelemetry } from '../../sim/exporters/kube-state-metrics.js';
import { NodeExporterWorkload } from '../../sim/exporters/node-exporter.js';
import { exporterKindForPod, exportersForPod, parseImage } from '../../sim/exporters/pods.js';
import { renderFamilies, type MetricFamily } from '../../sim/exporters/exposition.js';
import { createWorkload } from '../../sim/exporters/workloads.js';
import { ObjectStore, type KubeObject } from '../../sim/kube/index.js';

type Obj = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = ['kube-prometheus', 'kube-prometheus-stack', 'prometheus-grafana-charts'] as const;
type Example = (typeof EXAMPLES)[number];

interface Doc {
  file: string;
  obj: Obj;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
const WORKLOAD_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

function dir(example: Example): string {
  return join(ROOT, 'examples', example);
}

function yamlFiles(example: Example): string[] {
  return readdirSync(dir(example))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

function load(example: Example): Doc[] {
  return yamlFiles(example).flatMap((file) =>
    YAML.parseAllDocuments(readFileSync(join(dir(example), file), 'utf8')).map((d) => ({ file, obj: d.toJS() as Obj })),
  );
}

const DOCS: Record<Example, Doc[]> = Object.fromEntries(EXAMPLES.map((e) => [e, load(e)])) as Record<Example, Doc[]>;

function find(example: Example, kind: string, name: string, namespace = 'monitoring'): Obj {
  const doc = DOCS[example].find((d) => d.obj.kind === kind && d.obj.metadata.name === name && (CLUSTER_SCOPED.has(kind) || d.obj.metadata.namespace === namespace));
  if (!doc) throw new Error(`${example}: no ${kind} ${namespace}/${name}`);
  return doc.obj;
}

function all(example: Example, kind: string): Obj[] {
  return DOCS[example].filter((d) => d.obj.kind === kind).map((d) => d.obj);
}

/** A label selector (`{matchLabels, matchExpressions}`, or a Service's plain map) against labels. */
function selects(selector: Obj | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  const isLabelSelector = 'matchLabels' in selector || 'matchExpressions' in selector;
  const matchLabels: Record<string, string> = isLabelSelector ? (selector.matchLabels ?? {}) : selector;
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === String(v))) return false;
  for (const expr of (isLabelSelector ? selector.matchExpressions : undefined) ?? []) {
    const has = expr.key in labels;
    if (expr.operator === 'In' && !(has && expr.values.includes(labels[expr.key]))) return false;
    if (expr.operator === 'NotIn' && has && expr.values.includes(labels[expr.key])) return false;
    if (expr.operator === 'Exists' && !has) return false;
    if (expr.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const CONFIG_RELOADER_IMAGE = 'quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1';

/**
 * The pod prometheus-operator makes for a Prometheus object: labels from spec.podMetadata and the
 * operator's selector labels (PO pkg/prometheus/server/operator.go makeSelectorLabels,
 * statefulset.go), containers prometheus (port spec.portName, default "web", 9090) and
 * config-reloader (port reloader-web 8080, operator/config_reloader.go).
 */
function operatorPod(cr: Obj): Obj {
  const name = cr.metadata.name as string;
  const labels = {
    ...(cr.spec.podMetadata?.labels ?? {}),
    'app.kubernetes.io/name': 'prometheus',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': 'prometheus-operator',
    'operator.prometheus.io/name': name,
    'operator.prometheus.io/shard': '0',
    prometheus: name,
  };
  return {
    metadata: { labels },
    spec: {
      serviceAccountName: cr.spec.serviceAccountName,
      containers: [
        { name: 'prometheus', image: cr.spec.image, ports: [{ name: cr.spec.portName ?? 'web', containerPort: 9090 }] },
        { name: 'config-reloader', image: CONFIG_RELOADER_IMAGE, args: ['--listen-address=:8080', '--reload-url=http://127.0.0.1:9090/-/reload'], ports: [{ name: 'reloader-web', containerPort: 8080 }] },
      ],
    },
  };
}

interface PodTemplate {
  owner: string;
  template: Obj;
}

/** The pod templates of an example: its workloads', and the pods the operator makes from Prometheus objects. */
function podTemplates(example: Example): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const { obj } of DOCS[example]) {
    if (WORKLOAD_KINDS.has(obj.kind)) out.push({ owner: `${obj.kind}/${obj.metadata.name}`, template: obj.spec.template });
    if (obj.kind === 'Prometheus') out.push({ owner: `Prometheus/${obj.metadata.name}`, template: operatorPod(obj) });
  }
  return out;
}

function asPod(t: PodTemplate, name = 'pod'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'monitoring', labels: t.template.metadata.labels }, spec: { ...t.template.spec, nodeName: 'sim-node' } };
}

function templatesSelectedBy(example: Example, service: Obj): PodTemplate[] {
  return podTemplates(example).filter((t) => selects(service.spec.selector, t.template.metadata.labels));
}

/** The container port a Service port reaches in a pod template, or undefined. */
function resolveTargetPort(port: Obj, template: Obj): { container: Obj; number: number } | undefined {
  const target = port.targetPort ?? port.port;
  for (const container of template.spec.containers ?? []) {
    for (const p of container.ports ?? []) {
      if ((typeof target === 'number' && p.containerPort === target) || (typeof target === 'string' && p.name === target)) return { container, number: p.containerPort };
    }
  }
  // A numeric targetPort need not be declared by the container.
  return typeof target === 'number' ? { container: template.spec.containers[0], number: target } : undefined;
}

function datasourceFile(example: Example): { text: string; url: string } {
  switch (example) {
    case 'kube-prometheus': {
      const text = find(example, 'Secret', 'grafana-datasources').stringData['datasources.yaml'];
      return { text, url: YAML.parse(text).datasources[0].url };
    }
    case 'kube-prometheus-stack': {
      const text = find(example, 'ConfigMap', 'kps-kube-prometheus-stack-grafana-datasource').data['datasource.yaml'];
      return { text, url: YAML.parse(text).datasources[0].url };
    }
    case 'prometheus-grafana-charts': {
      const text = find(example, 'ConfigMap', 'grafana').data['datasources.yaml'];
      return { text, url: YAML.parse(text).datasources[0].url };
    }
  }
}

function container(workload: Obj, name: string): Obj {
  const c = workload.spec.template.spec.containers.find((x: Obj) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${workload.metadata.name}`);
  return c;
}

function envOf(c: Obj): Record<string, unknown> {
  return Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value ?? e.valueFrom]));
}

function mountsOf(workload: Obj, containerName: string): Record<string, { volume: Obj; subPath?: string }> {
  const volumes = new Map<string, Obj>((workload.spec.template.spec.volumes ?? []).map((v: Obj) => [v.name, v]));
  const out: Record<string, { volume: Obj; subPath?: string }> = {};
  for (const m of container(workload, containerName).volumeMounts ?? []) out[m.mountPath] = { volume: volumes.get(m.name)!, ...(m.subPath ? { subPath: m.subPath } : {}) };
  return out;
}

function decode(secret: Obj, key: string): string {
  if (secret.stringData?.[key] !== undefined) return secret.stringData[key];
  return Buffer.from(secret.data[key], 'base64').toString('utf8');
}

// ---------------------------------------------------------------------------------------------

describe.each(EXAMPLES)('examples/%s', (example) => {
  const docs = DOCS[example];

  it('has a README naming the upstream version it follows', () => {
    const readme = readFileSync(join(dir(example), 'README.md'), 'utf8');
    expect(readme).toMatch(/\b[0-9a-f]{40}\b/);
    expect(readme).toMatch(/kubectl apply/);
  });

  it.each(yamlFiles(example))('%s parses, opens with a comment naming its upstream, holds whole objects', (file) => {
    const text = readFileSync(join(dir(example), file), 'utf8');
    const header = text.split('\n').filter((_, i, lines) => lines.slice(0, i + 1).every((l) => l.startsWith('#')));
    expect(header.length).toBeGreaterThan(0);
    expect(header.join('\n')).toMatch(/manifests\/|charts\/|helm/);
    const parsed = YAML.parseAllDocuments(text);
    for (const d of parsed) {
      expect(d.errors).toEqual([]);
      expect(d.warnings).toEqual([]);
      const obj = d.toJS() as Obj;
      expect(typeof obj.apiVersion).toBe('string');
      expect(typeof obj.kind).toBe('string');
      expect(typeof obj.metadata?.name).toBe('string');
    }
  });

  it('puts every namespaced object in monitoring (and cluster-scoped ones in none)', () => {
    const elsewhere = docs
      .filter((d) => !CLUSTER_SCOPED.has(d.obj.kind) && d.obj.metadata.namespace !== 'monitoring')
      .map((d) => `${d.obj.kind} ${d.obj.metadata.namespace}/${d.obj.metadata.name}`);
    // kube-prometheus grants Prometheus discovery in default and kube-system with Roles there.
    const expected =
      example === 'kube-prometheus'
        ? ['Role default/prometheus-k8s', 'Role kube-system/prometheus-k8s', 'RoleBinding default/prometheus-k8s', 'RoleBinding kube-system/prometheus-k8s']
        : [];
    expect(elsewhere.sort()).toEqual(expected);
    expect(docs.filter((d) => CLUSTER_SCOPED.has(d.obj.kind) && d.obj.metadata.namespace).map((d) => d.obj.metadata.name)).toEqual([]);
  });

  it('has no two objects with the same kind, namespace and name', () => {
    const keys = docs.map((d) => `${d.obj.kind}/${d.obj.metadata.namespace ?? ''}/${d.obj.metadata.name}`);
    expect(keys.length).toBe(new Set(keys).size);
  });

  it('orders the files so that the namespace and the CRDs come first', () => {
    const firstOf = (kind: string) => docs.findIndex((d) => d.obj.kind === kind);
    expect(firstOf('Namespace')).toBe(0);
    const crds = docs.filter((d) => d.obj.kind === 'CustomResourceDefinition').map((d) => d.file);
    const crs = docs.filter((d) => d.obj.apiVersion.startsWith('monitoring.coreos.com/')).map((d) => d.file);
    for (const f of crs) expect(crds.every((c) => c < f)).toBe(true);
  });

  it('selects, with every Service, the pods of some workload, and reaches a declared container port', () => {
    for (const svc of all(example, 'Service')) {
      const templates = templatesSelectedBy(example, svc);
      expect({ service: svc.metadata.name, selected: templates.length > 0 }).toEqual({ service: svc.metadata.name, selected: true });
      for (const port of svc.spec.ports) {
        const reached = templates.some((t) => resolveTargetPort(port, t.template));
        expect({ service: svc.metadata.name, port: port.name, reached }).toEqual({ service: svc.metadata.name, port: port.name, reached: true });
      }
    }
  });

  it('names, in every ServiceMonitor endpoint, a port of a Service it selects', () => {
    for (const sm of all(example, 'ServiceMonitor')) {
      const namespaces: string[] = sm.spec.namespaceSelector?.matchNames ?? [sm.metadata.namespace];
      const services = all(example, 'Service').filter((s) => namespaces.includes(s.metadata.namespace) && selects(sm.spec.selector, s.metadata.labels));
      expect({ monitor: sm.metadata.name, services: services.length > 0 }).toEqual({ monitor: sm.metadata.name, services: true });
      for (const ep of sm.spec.endpoints) {
        expect(typeof ep.port).toBe('string');
        expect(services.some((s) => s.spec.ports.some((p: Obj) => p.name === ep.port))).toBe(true);
      }
    }
  });

  it('refers only to ServiceAccounts, ConfigMaps, Secrets and keys that exist in the example', () => {
    const names = (kind: string) => new Set(all(example, kind).map((o) => o.metadata.name));
    for (const t of podTemplates(example)) {
      const spec = t.template.spec;
      if (spec.serviceAccountName) expect({ owner: t.owner, sa: spec.serviceAccountName, exists: names('ServiceAccount').has(spec.serviceAccountName) }).toMatchObject({ exists: true });
      for (const v of spec.volumes ?? []) {
        if (v.configMap) expect({ owner: t.owner, cm: v.configMap.name, exists: names('ConfigMap').has(v.configMap.name) }).toMatchObject({ exists: true });
        if (v.secret) expect({ owner: t.owner, secret: v.secret.secretName, exists: names('Secret').has(v.secret.secretName) }).toMatchObject({ exists: true });
        if (v.persistentVolumeClaim) expect(names('PersistentVolumeClaim').has(v.persistentVolumeClaim.claimName)).toBe(true);
      }
      for (const c of spec.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) expect({ owner: t.owner, env: e.name, key: decode(find(example, 'Secret', ref.name), ref.key) !== undefined }).toMatchObject({ key: true });
        }
        for (const m of c.volumeMounts ?? []) expect((spec.volumes ?? []).some((v: Obj) => v.name === m.name)).toBe(true);
      }
    }
    for (const b of [...all(example, 'RoleBinding'), ...all(example, 'ClusterRoleBinding')]) {
      for (const s of b.subjects) expect({ binding: b.metadata.name, sa: s.name, exists: names('ServiceAccount').has(s.name) }).toMatchObject({ exists: true });
      const roleKind = b.roleRef.kind as string;
      expect(all(example, roleKind).some((r) => r.metadata.name === b.roleRef.name && (roleKind === 'ClusterRole' || r.metadata.namespace === b.metadata.namespace))).toBe(true);
    }
  });

  it("points Grafana's Prometheus datasource at a Service port of the example", () => {
    const url = new URL(datasourceFile(example).url);
    const [service, namespace = 'monitoring'] = url.hostname.split('.');
    const svc = find(example, 'Service', service!, namespace);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    expect(svc.spec.ports.map((p: Obj) => p.port)).toContain(port);
  });

  it('serves /metrics from a simulated exporter on every scraped port that is not Prometheus or Grafana', async () => {
    const scraped: { svc: Obj; port: Obj }[] = [];
    for (const sm of all(example, 'ServiceMonitor')) {
      for (const svc of all(example, 'Service').filter((s) => selects(sm.spec.selector, s.metadata.labels))) {
        for (const ep of sm.spec.endpoints) for (const port of svc.spec.ports.filter((p: Obj) => p.name === ep.port)) scraped.push({ svc, port });
      }
    }
    for (const svc of all(example, 'Service').filter((s) => s.metadata.annotations?.['prometheus.io/scrape'] === 'true')) {
      for (const port of svc.spec.ports) scraped.push({ svc, port });
    }
    expect(scraped.length).toBeGreaterThan(0);
    // kube-state-metrics reports the objects of a cluster holding the example.
    const view = new ObjectStore({ ipBase: '127.97.3' });
    for (const file of yamlFiles(example)) view.loadYaml(readFileSync(join(dir(example), file), 'utf8'));
    let pods = 0;
    const servedBySimulator: string[] = [];
    for (const { svc, port } of scraped) {
      for (const t of templatesSelectedBy(example, svc)) {
        const target = resolveTargetPort(port, t.template)!;
        const image = parseImage(target.container.image).name;
        const exporter = exportersForPod(asPod(t)).find((e) => e.container === target.container.name && e.port === target.number);
        if (!exporter) {
          // The simulator runs a real Prometheus and its own Grafana for these.
          expect(['prometheus', 'grafana']).toContain(image);
          servedBySimulator.push(`${svc.metadata.name}:${port.name}`);
          continue;
        }
        pods += 1;
        const host = `127.99.${1 + (process.pid % 200)}.${pods}`;
        const server = await startExporter({ kind: exporter.kind, host, port: exporter.port, context: { view, args: exporter.args, nodeName: exporter.nodeName, version: exporter.version } });
        try {
          const res = await get(`http://${host}:${target.number}/metrics`);
          expect({ svc: svc.metadata.name, port: port.name, status: res.status }).toEqual({ svc: svc.metadata.name, port: port.name, status: 200 });
          expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8');
          expect(res.body).toMatch(/^# HELP /);
        } finally {
          await server.stop();
        }
      }
    }
    expect(pods).toBeGreaterThan(0);
    // With ServiceMonitors, Prometheus and Grafana are scraped too (by the simulator's own servers).
    if (all(example, 'ServiceMonitor').length > 0) expect(servedBySimulator.length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The facts of the reference tables (shared/reference/stacks.md §1-3), one row each.

type Fact = [example: Example, fact: string, actual: (ex: Example) => unknown, expected: unknown];

const FACTS: Fact[] = [
  // kube-prometheus
  ['kube-prometheus', 'Grafana Service grafana:3000, port http -> container port 3000',
    (ex) => { const s = find(ex, 'Service', 'grafana'); return [s.spec.ports[0].name, s.spec.ports[0].port, resolveTargetPort(s.spec.ports[0], find(ex, 'Deployment', 'grafana').spec.template)?.number]; },
    ['http', 3000, 3000]],
  ['kube-prometheus', 'Grafana container `grafana`, image grafana/grafana:13.1.3, readiness GET /api/health',
    (ex) => { const c = container(find(ex, 'Deployment', 'grafana'), 'grafana'); return [c.image, c.readinessProbe.httpGet.path]; },
    ['grafana/grafana:13.1.3', '/api/health']],
  ['kube-prometheus', 'Grafana pod selector labels',
    (ex) => find(ex, 'Service', 'grafana').spec.selector,
    { 'app.kubernetes.io/component': 'grafana', 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/part-of': 'kube-prometheus' }],
  ['kube-prometheus', 'Prometheus Service ports web 9090 and reloader-web 8080, sessionAffinity ClientIP',
    (ex) => { const s = find(ex, 'Service', 'prometheus-k8s'); return [s.spec.ports.map((p: Obj) => `${p.name}:${p.port}`), s.spec.sessionAffinity]; },
    [['web:9090', 'reloader-web:8080'], 'ClientIP']],
  ['kube-prometheus', 'Prometheus Service selector',
    (ex) => find(ex, 'Service', 'prometheus-k8s').spec.selector,
    { 'app.kubernetes.io/component': 'prometheus', 'app.kubernetes.io/instance': 'k8s', 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/part-of': 'kube-prometheus' }],
  ['kube-prometheus', 'Prometheus/k8s: replicas 2, SA prometheus-k8s, EndpointSlice discovery',
    (ex) => { const p = find(ex, 'Prometheus', 'k8s').spec; return [p.replicas, p.serviceAccountName, p.serviceDiscoveryRole]; },
    [2, 'prometheus-k8s', 'EndpointSlice']],
  ['kube-prometheus', 'Prometheus/k8s: every selector is {}',
    (ex) => { const p = find(ex, 'Prometheus', 'k8s').spec; return Object.fromEntries(Object.entries(p).filter(([k]) => k.endsWith('Selector') && k !== 'nodeSelector')); },
    Object.fromEntries(['serviceMonitor', 'serviceMonitorNamespace', 'podMonitor', 'podMonitorNamespace', 'probe', 'probeNamespace', 'rule', 'ruleNamespace', 'scrapeConfig', 'scrapeConfigNamespace'].map((k) => [`${k}Selector`, {}]))],
  ['kube-prometheus', 'Roles prometheus-k8s (discovery) only in default, kube-system, monitoring',
    (ex) => all(ex, 'Role').filter((r) => r.metadata.name === 'prometheus-k8s').map((r) => r.metadata.namespace).sort(),
    ['default', 'kube-system', 'monitoring']],
  ['kube-prometheus', 'ClusterRole prometheus-k8s grants no discovery, only nodes/metrics and /metrics',
    (ex) => find(ex, 'ClusterRole', 'prometheus-k8s').rules.map((r: Obj) => r.resources ?? r.nonResourceURLs),
    [['nodes/metrics'], ['/metrics', '/metrics/slis']]],
  ['kube-prometheus', 'datasource in Secret grafana-datasources, key datasources.yaml, exact fields (no uid, no isDefault)',
    (ex) => YAML.parse(decode(find(ex, 'Secret', 'grafana-datasources'), 'datasources.yaml')).datasources,
    [{ name: 'prometheus', type: 'prometheus', access: 'proxy', url: 'http://prometheus-k8s.monitoring.svc:9090', orgId: 1, editable: false, version: 1 }]],
  ['kube-prometheus', 'datasource Secret mounted at /etc/grafana/provisioning/datasources; providers, grafana.ini and dashboards mounted as upstream',
    (ex) => { const m = mountsOf(find(ex, 'Deployment', 'grafana'), 'grafana'); return [m['/etc/grafana/provisioning/datasources']?.volume.secret?.secretName, m['/etc/grafana/provisioning/dashboards']?.volume.configMap?.name, m['/etc/grafana']?.volume.secret?.secretName, m['/grafana-dashboard-definitions/0/nodes']?.volume.configMap?.name]; },
    ['grafana-datasources', 'grafana-dashboards', 'grafana-config', 'grafana-dashboard-nodes']],
  ['kube-prometheus', 'dashboard provider "0", folder Default, path /grafana-dashboard-definitions/0',
    (ex) => { const p = JSON.parse(find(ex, 'ConfigMap', 'grafana-dashboards').data['dashboards.yaml']).providers[0]; return [p.name, p.folder, p.options.path]; },
    ['0', 'Default', '/grafana-dashboard-definitions/0']],
  ['kube-prometheus', 'grafana.ini in Secret grafana-config sets default_timezone = UTC',
    (ex) => decode(find(ex, 'Secret', 'grafana-config'), 'grafana.ini').includes('default_timezone = UTC'),
    true],
  ['kube-prometheus', 'no admin credential object and no GF_SECURITY_ADMIN_* env (admin/admin)',
    (ex) => [all(ex, 'Secret').map((s) => s.metadata.name).sort(), Object.keys(envOf(container(find(ex, 'Deployment', 'grafana'), 'grafana')))],
    [['grafana-config', 'grafana-datasources'], []]],
  ['kube-prometheus', 'dashboards query through the ${datasource} variable',
    (ex) => all(ex, 'ConfigMap').filter((c) => c.metadata.name.startsWith('grafana-dashboard-')).every((c) => Object.values(c.data as Record<string, string>).every((j) => JSON.parse(j).panels.every((p: Obj) => p.targets.every((t: Obj) => t.datasource.uid === '${datasource}')))),
    true],
  ['kube-prometheus', 'node-exporter ServiceMonitor: jobLabel app.kubernetes.io/name, instance from the node name',
    (ex) => { const s = find(ex, 'ServiceMonitor', 'node-exporter').spec; return [s.jobLabel, s.endpoints[0].relabelings[0].sourceLabels, s.endpoints[0].relabelings[0].targetLabel]; },
    ['app.kubernetes.io/name', ['__meta_kubernetes_pod_node_name'], 'instance']],
  ['kube-prometheus', 'kube-state-metrics ServiceMonitor: endpoint 0 honorLabels and labeldrop, two endpoints',
    (ex) => { const e = find(ex, 'ServiceMonitor', 'kube-state-metrics').spec.endpoints; return [e.length, e[0].honorLabels, e[0].relabelings[0]]; },
    [2, true, { action: 'labeldrop', regex: '(pod|service|endpoint|namespace)' }]],
  ['kube-prometheus', 'ServiceMonitors prometheus-k8s, grafana, node-exporter, kube-state-metrics',
    (ex) => all(ex, 'ServiceMonitor').map((s) => s.metadata.name).sort(),
    ['grafana', 'kube-state-metrics', 'node-exporter', 'prometheus-k8s']],
  ['kube-prometheus', 'CRD names, short names and categories',
    (ex) => all(ex, 'CustomResourceDefinition').map((c) => [c.metadata.name, c.spec.names.shortNames, c.spec.names.categories]),
    [['prometheuses.monitoring.coreos.com', ['prom'], ['prometheus-operator']], ['servicemonitors.monitoring.coreos.com', ['smon'], ['prometheus-operator']], ['podmonitors.monitoring.coreos.com', ['pmon'], ['prometheus-operator']]]],

  // kube-prometheus-stack
  ['kube-prometheus-stack', 'Grafana Service kps-grafana:80, port name http-web, targetPort grafana -> 3000',
    (ex) => { const s = find(ex, 'Service', 'kps-grafana'); const p = s.spec.ports[0]; return [p.name, p.port, p.targetPort, resolveTargetPort(p, find(ex, 'Deployment', 'kps-grafana').spec.template)?.number]; },
    ['http-web', 80, 'grafana', 3000]],
  ['kube-prometheus-stack', 'Grafana pods: selector name/instance, containers sc-dashboard, sc-datasources, grafana',
    (ex) => { const d = find(ex, 'Deployment', 'kps-grafana'); return [d.spec.selector.matchLabels, d.spec.template.spec.containers.map((c: Obj) => c.name)]; },
    [{ 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'kps' }, ['grafana-sc-dashboard', 'grafana-sc-datasources', 'grafana']]],
  ['kube-prometheus-stack', 'Prometheus Service: http-web 9090 (targetPort 9090), reloader-web 8080; selector name + operator.prometheus.io/name',
    (ex) => { const s = find(ex, 'Service', 'kps-kube-prometheus-stack-prometheus'); return [s.spec.ports.map((p: Obj) => `${p.name}:${p.port}->${p.targetPort}`), s.spec.selector]; },
    [['http-web:9090->9090', 'reloader-web:8080->reloader-web'], { 'app.kubernetes.io/name': 'prometheus', 'operator.prometheus.io/name': 'kps-kube-prometheus-stack-prometheus' }]],
  ['kube-prometheus-stack', 'Prometheus CR: replicas 1, portName http-web, SA kps-kube-prometheus-stack-prometheus',
    (ex) => { const p = find(ex, 'Prometheus', 'kps-kube-prometheus-stack-prometheus').spec; return [p.replicas, p.portName, p.serviceAccountName]; },
    [1, 'http-web', 'kps-kube-prometheus-stack-prometheus']],
  ['kube-prometheus-stack', 'Prometheus CR: monitor selectors release=kps, namespace selectors {}',
    (ex) => { const p = find(ex, 'Prometheus', 'kps-kube-prometheus-stack-prometheus').spec; return [p.serviceMonitorSelector, p.podMonitorSelector, p.serviceMonitorNamespaceSelector, p.podMonitorNamespaceSelector]; },
    [{ matchLabels: { release: 'kps' } }, { matchLabels: { release: 'kps' } }, {}, {}]],
  ['kube-prometheus-stack', 'Prometheus ClusterRole grants discovery cluster-wide',
    (ex) => find(ex, 'ClusterRole', 'kps-kube-prometheus-stack-prometheus').rules.slice(0, 2).map((r: Obj) => r.resources),
    [['nodes', 'nodes/metrics', 'services', 'endpoints', 'pods'], ['endpointslices']]],
  ['kube-prometheus-stack', 'datasource ConfigMap: label grafana_datasource "1", key datasource.yaml',
    (ex) => { const c = find(ex, 'ConfigMap', 'kps-kube-prometheus-stack-grafana-datasource'); return [c.metadata.labels.grafana_datasource, Object.keys(c.data)]; },
    ['1', ['datasource.yaml']]],
  ['kube-prometheus-stack', 'Prometheus datasource: name, uid, URL with trailing slash and no .svc, isDefault, jsonData',
    (ex) => YAML.parse(datasourceFile(ex).text).datasources[0],
    { name: 'Prometheus', type: 'prometheus', uid: 'prometheus', url: 'http://kps-kube-prometheus-stack-prometheus.monitoring:9090/', access: 'proxy', isDefault: true, jsonData: { httpMethod: 'POST', timeInterval: '30s' } }],
  ['kube-prometheus-stack', 'Alertmanager datasource kept as the chart writes it',
    (ex) => YAML.parse(datasourceFile(ex).text).datasources[1],
    { name: 'Alertmanager', type: 'alertmanager', uid: 'alertmanager', url: 'http://kps-kube-prometheus-stack-alertmanager.monitoring:9093/', access: 'proxy', jsonData: { handleGrafanaManagedAlerts: false, implementation: 'prometheus' } }],
  ['kube-prometheus-stack', 'datasource sidecar: image and env as the chart renders them',
    (ex) => { const c = container(find(ex, 'Deployment', 'kps-grafana'), 'grafana-sc-datasources'); return [c.image, envOf(c)]; },
    ['quay.io/kiwigrid/k8s-sidecar:2.10.1', {
      METHOD: 'WATCH', LABEL: 'grafana_datasource', LABEL_VALUE: '1', FOLDER: '/etc/grafana/provisioning/datasources', RESOURCE: 'both',
      REQ_USERNAME: { secretKeyRef: { name: 'kps-grafana', key: 'admin-user' } }, REQ_PASSWORD: { secretKeyRef: { name: 'kps-grafana', key: 'admin-password' } },
      REQ_URL: 'http://localhost:3000/api/admin/provisioning/datasources/reload', REQ_METHOD: 'POST',
    }]],
  ['kube-prometheus-stack', 'dashboard sidecar: env, NAMESPACE=ALL, FOLDER=/tmp/dashboards',
    (ex) => envOf(container(find(ex, 'Deployment', 'kps-grafana'), 'grafana-sc-dashboard')),
    {
      METHOD: 'WATCH', LABEL: 'grafana_dashboard', LABEL_VALUE: '1', FOLDER: '/tmp/dashboards', RESOURCE: 'both', NAMESPACE: 'ALL',
      REQ_USERNAME: { secretKeyRef: { name: 'kps-grafana', key: 'admin-user' } }, REQ_PASSWORD: { secretKeyRef: { name: 'kps-grafana', key: 'admin-password' } },
      REQ_URL: 'http://localhost:3000/api/admin/provisioning/dashboards/reload', REQ_METHOD: 'POST',
    }],
  ['kube-prometheus-stack', 'grafana container: admin credentials from Secret kps-grafana, GF_PATHS_* from grafana.ini',
    (ex) => envOf(container(find(ex, 'Deployment', 'kps-grafana'), 'grafana')),
    {
      POD_IP: { fieldRef: { fieldPath: 'status.podIP' } },
      GF_SECURITY_ADMIN_USER: { secretKeyRef: { name: 'kps-grafana', key: 'admin-user' } }, GF_SECURITY_ADMIN_PASSWORD: { secretKeyRef: { name: 'kps-grafana', key: 'admin-password' } },
      GF_PATHS_DATA: '/var/lib/grafana/', GF_PATHS_LOGS: '/var/log/grafana', GF_PATHS_PLUGINS: '/var/lib/grafana/plugins', GF_PATHS_PROVISIONING: '/etc/grafana/provisioning',
      GF_UNIFIED_STORAGE_INDEX_PATH: '/var/lib/grafana-search/bleve',
    }],
  ['kube-prometheus-stack', 'emptyDirs sc-datasources-volume and sc-dashboard-volume shared by sidecars and grafana; provider file by subPath',
    (ex) => {
      const d = find(ex, 'Deployment', 'kps-grafana');
      const g = mountsOf(d, 'grafana');
      return [
        mountsOf(d, 'grafana-sc-datasources')['/etc/grafana/provisioning/datasources']?.volume, g['/etc/grafana/provisioning/datasources']?.volume,
        mountsOf(d, 'grafana-sc-dashboard')['/tmp/dashboards']?.volume, g['/tmp/dashboards']?.volume,
        g['/etc/grafana/provisioning/dashboards/sc-dashboardproviders.yaml'], g['/etc/grafana/grafana.ini'],
      ];
    },
    [
      { name: 'sc-datasources-volume', emptyDir: {} }, { name: 'sc-datasources-volume', emptyDir: {} },
      { name: 'sc-dashboard-volume', emptyDir: {} }, { name: 'sc-dashboard-volume', emptyDir: {} },
      { volume: { name: 'sc-dashboard-provider', configMap: { name: 'kps-grafana-config-dashboards' } }, subPath: 'provider.yaml' },
      { volume: { name: 'config', configMap: { name: 'kps-grafana' } }, subPath: 'grafana.ini' },
    ]],
  ['kube-prometheus-stack', 'Secret kps-grafana: admin-user admin, a 40-character admin-password, ldap-toml; component admin-secret',
    (ex) => { const s = find(ex, 'Secret', 'kps-grafana'); return [Object.keys(s.data).sort(), decode(s, 'admin-user'), /^[A-Za-z0-9]{40}$/.test(decode(s, 'admin-password')), s.metadata.labels['app.kubernetes.io/component']]; },
    [['admin-password', 'admin-user', 'ldap-toml'], 'admin', true, 'admin-secret']],
  ['kube-prometheus-stack', 'sidecar RBAC: ClusterRole kps-grafana-clusterrole (configmaps, secrets: get, watch, list) bound to SA kps-grafana',
    (ex) => [find(ex, 'ClusterRole', 'kps-grafana-clusterrole').rules, find(ex, 'ClusterRoleBinding', 'kps-grafana-clusterrolebinding').subjects, find(ex, 'Deployment', 'kps-grafana').spec.template.spec.serviceAccountName],
    [[{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'watch', 'list'] }], [{ kind: 'ServiceAccount', name: 'kps-grafana', namespace: 'monitoring' }], 'kps-grafana']],
  ['kube-prometheus-stack', 'dashboard provider path /tmp/dashboards; a dashboard ConfigMap labelled grafana_dashboard "1"',
    (ex) => [YAML.parse(find(ex, 'ConfigMap', 'kps-grafana-config-dashboards').data['provider.yaml']).providers[0].options.path, all(ex, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1').length],
    ['/tmp/dashboards', 1]],
  ['kube-prometheus-stack', 'node-exporter: Service label jobLabel node-exporter, ServiceMonitor jobLabel jobLabel, port http-metrics',
    (ex) => [find(ex, 'Service', 'kps-prometheus-node-exporter').metadata.labels.jobLabel, find(ex, 'ServiceMonitor', 'kps-prometheus-node-exporter').spec.jobLabel, find(ex, 'ServiceMonitor', 'kps-prometheus-node-exporter').spec.endpoints[0].port],
    ['node-exporter', 'jobLabel', 'http-metrics']],
  ['kube-prometheus-stack', 'ServiceMonitors of the Prometheus, the operator, grafana, node-exporter, kube-state-metrics',
    (ex) => all(ex, 'ServiceMonitor').map((s) => s.metadata.name).sort(),
    ['kps-grafana', 'kps-kube-prometheus-stack-operator', 'kps-kube-prometheus-stack-prometheus', 'kps-kube-state-metrics', 'kps-prometheus-node-exporter']],
  ['kube-prometheus-stack', 'every ServiceMonitor carries release: kps and is selected by the Prometheus',
    (ex) => { const sel = find(ex, 'Prometheus', 'kps-kube-prometheus-stack-prometheus').spec.serviceMonitorSelector; return all(ex, 'ServiceMonitor').map((s) => [s.metadata.labels.release, selects(sel, s.metadata.labels)]); },
    Array.from({ length: 5 }, () => ['kps', true])],
  ['kube-prometheus-stack', 'Grafana ServiceMonitor: jobLabel "kps" (a key the Service does not carry), port http-web',
    (ex) => { const s = find(ex, 'ServiceMonitor', 'kps-grafana').spec; return [s.jobLabel, s.jobLabel in find(ex, 'Service', 'kps-grafana').metadata.labels, s.endpoints[0].port]; },
    ['kps', false, 'http-web']],

  // prometheus community chart + grafana chart
  ['prometheus-grafana-charts', 'Service prometheus-server:80 -> 9090, port name http',
    (ex) => { const p = find(ex, 'Service', 'prometheus-server').spec.ports[0]; return [p.name, p.port, p.targetPort]; },
    ['http', 80, 9090]],
  ['prometheus-grafana-charts', 'prometheus-server pods: labels and the two containers',
    (ex) => { const d = find(ex, 'Deployment', 'prometheus-server'); const l = d.spec.template.metadata.labels; return [l['app.kubernetes.io/name'], l['app.kubernetes.io/component'], l['app.kubernetes.io/instance'], d.spec.template.spec.containers.map((c: Obj) => c.name)]; },
    ['prometheus', 'server', 'prometheus', ['prometheus-server-configmap-reload', 'prometheus-server']]],
  ['prometheus-grafana-charts', 'prometheus.yml keeps the jobs prometheus, kubernetes-service-endpoints, kubernetes-pods',
    (ex) => YAML.parse(find(ex, 'ConfigMap', 'prometheus-server').data['prometheus.yml']).scrape_configs.map((j: Obj) => j.job_name).sort(),
    ['kubernetes-pods', 'kubernetes-service-endpoints', 'prometheus']],
  ['prometheus-grafana-charts', 'ServiceAccount prometheus-server bound to a ClusterRole with cluster-wide discovery',
    (ex) => [find(ex, 'Deployment', 'prometheus-server').spec.template.spec.serviceAccountName, find(ex, 'ClusterRoleBinding', 'prometheus-server').subjects[0].name, find(ex, 'ClusterRole', 'prometheus-server').rules[0].verbs],
    ['prometheus-server', 'prometheus-server', ['get', 'list', 'watch']]],
  ['prometheus-grafana-charts', 'Grafana Service grafana:80 -> targetPort grafana = 3000',
    (ex) => { const p = find(ex, 'Service', 'grafana').spec.ports[0]; return [p.port, p.targetPort, resolveTargetPort(p, find(ex, 'Deployment', 'grafana').spec.template)?.number]; },
    [80, 'grafana', 3000]],
  ['prometheus-grafana-charts', 'datasources.yaml from ConfigMap grafana, mounted by subPath, Prometheus at prometheus-server.monitoring.svc.cluster.local',
    (ex) => [mountsOf(find(ex, 'Deployment', 'grafana'), 'grafana')['/etc/grafana/provisioning/datasources/datasources.yaml'], YAML.parse(datasourceFile(ex).text).datasources[0]],
    [{ volume: { name: 'config', configMap: { name: 'grafana' } }, subPath: 'datasources.yaml' }, { name: 'Prometheus', type: 'prometheus', access: 'proxy', isDefault: true, url: 'http://prometheus-server.monitoring.svc.cluster.local' }]],
  ['prometheus-grafana-charts', 'Secret grafana: admin-user admin, 40-character admin-password; the grafana container reads them',
    (ex) => { const s = find(ex, 'Secret', 'grafana'); const env = envOf(container(find(ex, 'Deployment', 'grafana'), 'grafana')); return [decode(s, 'admin-user'), decode(s, 'admin-password').length, env.GF_SECURITY_ADMIN_PASSWORD]; },
    ['admin', 40, { secretKeyRef: { name: 'grafana', key: 'admin-password' } }]],
  ['prometheus-grafana-charts', 'node-exporter and kube-state-metrics Services carry prometheus.io/scrape: "true"',
    (ex) => ['prometheus-prometheus-node-exporter', 'prometheus-kube-state-metrics'].map((n) => find(ex, 'Service', n).metadata.annotations['prometheus.io/scrape']),
    ['true', 'true']],
];

describe('the reference facts', () => {
  it.each(FACTS.map(([ex, fact, actual, expected]) => ({ ex, fact, actual, expected })))('$ex: $fact', ({ ex, actual, expected }) => {
    expect(actual(ex)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// The real kubectl: `kubectl apply --dry-run=client --validate=false -f <dir>`.

/**
 * kubectl needs the API server's discovery to map kinds to resources even for a client-side dry
 * run. This serves just that — the built-in groups the examples use, and monitoring.coreos.com as
 * the example's own CustomResourceDefinitions define it once applied — and answers 404 to reads of
 * objects, as for objects that do not exist yet.
 */
function discoveryServer(crds: Obj[]): http.Server {
  const r = (name: string, kind: string, namespaced: boolean) => ({ name, singularName: kind.toLowerCase(), namespaced, kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] });
  const groups: Record<string, ReturnType<typeof r>[]> = {
    v1: [r('namespaces', 'Namespace', false), r('services', 'Service', true), r('secrets', 'Secret', true), r('configmaps', 'ConfigMap', true), r('serviceaccounts', 'ServiceAccount', true), r('persistentvolumeclaims', 'PersistentVolumeClaim', true), r('pods', 'Pod', true)],
    'apps/v1': [r('deployments', 'Deployment', true), r('daemonsets', 'DaemonSet', true), r('statefulsets', 'StatefulSet', true)],
    'rbac.authorization.k8s.io/v1': [r('roles', 'Role', true), r('rolebindings', 'RoleBinding', true), r('clusterroles', 'ClusterRole', false), r('clusterrolebindings', 'ClusterRoleBinding', false)],
    'networking.k8s.io/v1': [r('networkpolicies', 'NetworkPolicy', true)],
    'apiextensions.k8s.io/v1': [r('customresourcedefinitions', 'CustomResourceDefinition', false)],
  };
  for (const crd of crds) {
    for (const v of crd.spec.versions.filter((x: Obj) => x.served)) {
      (groups[`${crd.spec.group}/${v.name}`] ??= []).push(r(crd.spec.names.plural, crd.spec.names.kind, crd.spec.scope === 'Namespaced'));
    }
  }
  const json = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.headers.host }] });
    if (path === '/apis') {
      const byGroup = new Map<string, string[]>();
      for (const gv of Object.keys(groups).filter((g) => g.includes('/'))) {
        const [g, v] = gv.split('/') as [string, string];
        byGroup.set(g, [...(byGroup.get(g) ?? []), v]);
      }
      return json(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...byGroup].map(([name, versions]) => ({ name, versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })), preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] } })),
      });
    }
    const gv = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice(6) : undefined;
    if (gv && groups[gv]) return json(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: groups[gv] });
    return json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server could not find the requested resource`, reason: 'NotFound', code: 404 });
  });
}

function findKubectl(): string | undefined {
  if (existsSync('/usr/bin/kubectl')) return '/usr/bin/kubectl';
  try {
    return execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const KUBECTL = findKubectl();
if (!KUBECTL) console.warn('examples.test: kubectl not found on PATH or at /usr/bin/kubectl; the kubectl dry-run cases are skipped');

describe('kubectl apply --dry-run=client', () => {
  let server: http.Server;
  let work: string;
  let kubeconfig: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mfc-examples-'));
    server = discoveryServer(all('kube-prometheus', 'CustomResourceDefinition'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(work, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      YAML.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'dry', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'dry', user: { token: 'dry-run' } }],
        contexts: [{ name: 'dry', context: { cluster: 'dry', user: 'dry' } }],
        'current-context': 'dry',
      }),
    );
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    rmSync(work, { recursive: true, force: true });
  });

  (KUBECTL ? it.each : it.skip.each)(EXAMPLES.map((e) => [e]))('accepts every object of examples/%s', async (example) => {
    const { stdout, stderr, code } = await run(KUBECTL!, ['apply', '--dry-run=client', '--validate=false', '--kubeconfig', kubeconfig, '--cache-dir', join(work, 'cache'), '-f', dir(example)]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBe(DOCS[example].length);
    for (const line of lines) expect(line).toMatch(/ created \(dry run\)$/);
  });

  (KUBECTL ? it : it.skip)('rejects a manifest kubectl cannot map (the check can fail)', async () => {
    const bad = join(work, 'bad');
    rmSync(bad, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', bad]);
    writeFileSync(join(bad, 'x.yaml'), 'apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: old\n  namespace: monitoring\n');
    const { code, stderr } = await run(KUBECTL!, ['apply', '--dry-run=client', '--validate=false', '--kubeconfig', kubeconfig, '--cache-dir', join(work, 'cache'), '-f', bad]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/no matches for kind "Deployment" in version "apps\/v1beta1"/);
  });
});

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The simulated exporters.

function get(url: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
      })
      .on('error', reject);
  });
}

/** Series in an exposition, `name{labels}` → value, after checking every line's syntax. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(typed.has(meta[2]!)).toBe(false);
        typed.add(meta[2]!);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(line);
    expect({ line, ok: Boolean(sample) }).toEqual({ line, ok: true });
    out.set(`${sample![1]}${sample![2] ?? ''}`, Number(sample![3]));
  }
  return out;
}

function samplesOf(families: MetricFamily[], name: string): { labels: Record<string, string>; value: number }[] {
  const family = families.find((f) => f.name === name);
  return (family?.samples ?? []).map((s) => ({ labels: s.labels ?? {}, value: s.value }));
}

function promtoolAccepts(text: string): void {
  let out = '';
  try {
    out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') return;
    out = String(e.stdout) + String(e.stderr);
  }
  expect(out).not.toMatch(/parsing error|error while linting/);
}

describe('node-exporter exporter', () => {
  const t0 = Date.parse('2026-08-20T10:00:00Z');

  it('exposes the node_* families dashboards read, with node_exporter label sets', () => {
    const families = new NodeExporterWorkload(t0, { nodeName: 'kind-worker', version: '1.12.1' }).collect(t0 + 15_000);
    const names = families.map((f) => f.name);
    for (const n of ['node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes', 'node_filesystem_avail_bytes', 'node_filesystem_size_bytes', 'node_load1', 'node_network_receive_bytes_total', 'node_boot_time_seconds', 'node_uname_info', 'node_exporter_build_info', 'node_scrape_collector_success', 'process_cpu_seconds_total']) {
      expect(names).toContain(n);
    }
    const cpu = samplesOf(families, 'node_cpu_seconds_total');
    expect(cpu).toHaveLength(4 * 8);
    expect(Object.keys(cpu[0]!.labels)).toEqual(['cpu', 'mode']);
    expect(new Set(cpu.map((s) => s.labels.mode))).toEqual(new Set(['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user']));
    expect(Object.keys(samplesOf(families, 'node_filesystem_avail_bytes')[0]!.labels)).toEqual(['device', 'device_error', 'fstype', 'mountpoint']);
    expect(samplesOf(families, 'node_filesystem_avail_bytes').find((s) => s.labels.mountpoint === '/')!.value).toBeGreaterThan(0);
    expect(samplesOf(families, 'node_uname_info')[0]!.labels).toMatchObject({ nodename: 'kind-worker', sysname: 'Linux' });
    expect(samplesOf(families, 'node_exporter_build_info')[0]!.labels).toMatchObject({ version: '1.12.1', goos: 'linux' });
    const avail = samplesOf(families, 'node_memory_MemAvailable_bytes')[0]!.value;
    expect(avail).toBeLessThan(samplesOf(families, 'node_memory_MemTotal_bytes')[0]!.value);
    expect(samplesOf(families, 'node_boot_time_seconds')[0]!.value).toBe(t0 / 1000 - 3 * 86400);
    promtoolAccepts(renderFamilies(families));
  });

  it('moves CPU and network counters forward with the elapsed time, and keeps idle dominant', () => {
    const workload = new NodeExporterWorkload(t0);
    const before = samplesOf(workload.collect(t0), 'node_cpu_seconds_total');
    const after = samplesOf(workload.collect(t0 + 60_000), 'node_cpu_seconds_total');
    const perCpu = (samples: typeof before, cpu: string) => samples.filter((s) => s.labels.cpu === cpu).reduce((sum, s) => sum + s.value, 0);
    expect(perCpu(after, '0') - perCpu(before, '0')).toBeCloseTo(60, 0);
    const idle = (s: typeof before) => s.find((x) => x.labels.cpu === '1' && x.labels.mode === 'idle')!.value;
    expect(idle(after) - idle(before)).toBeGreaterThan(30);
    for (const [a, b] of after.map((s, i) => [s.value, before[i]!.value])) expect(a!).toBeGreaterThanOrEqual(b!);
  });
});

describe('kube-state-metrics exporter', () => {
  const store = new ObjectStore({ ipBase: '127.98.7' });
  beforeAll(() => {
    for (const file of yamlFiles('kube-prometheus-stack')) store.loadYaml(readFileSync(join(dir('kube-prometheus-stack'), file), 'utf8'));
  });

  const args = container(find('kube-prometheus-stack', 'Deployment', 'kps-kube-state-metrics'), 'kube-state-metrics').args as string[];

  it("exports the cluster's pods with kube-state-metrics' label sets", () => {
    const families = new KubeStateMetricsWorkload({ view: store, args }).collect();
    const info = samplesOf(families, 'kube_pod_info').find((s) => s.labels.pod?.startsWith('kps-grafana-'))!;
    expect(Object.keys(info.labels)).toEqual(['namespace', 'pod', 'uid', 'host_ip', 'pod_ip', 'node', 'created_by_kind', 'created_by_name', 'priority_class', 'host_network']);
    expect(info.labels).toMatchObject({ namespace: 'monitoring', node: 'sim-node', created_by_kind: 'ReplicaSet', host_network: 'false' });
    expect(info.labels.pod_ip).toMatch(/^127\.98\.7\.\d+$/);
    const daemonPod = samplesOf(families, 'kube_pod_info').find((s) => s.labels.pod?.startsWith('kps-prometheus-node-exporter-'))!;
    expect(daemonPod.labels).toMatchObject({ created_by_kind: 'DaemonSet', created_by_name: 'kps-prometheus-node-exporter', host_network: 'true' });
    const phases = samplesOf(families, 'kube_pod_status_phase').filter((s) => s.labels.pod === info.labels.pod);
    expect(phases.map((s) => `${s.labels.phase}=${s.value}`)).toEqual(['Pending=0', 'Succeeded=0', 'Failed=0', 'Unknown=0', 'Running=1']);
    const ready = samplesOf(families, 'kube_pod_status_ready').filter((s) => s.labels.pod === info.labels.pod);
    expect(ready.map((s) => `${s.labels.condition}=${s.value}`)).toEqual(['true=1', 'false=0', 'unknown=0']);
    const containers = samplesOf(families, 'kube_pod_container_info').filter((s) => s.labels.pod === info.labels.pod).map((s) => s.labels.container);
    expect(containers).toEqual(['grafana-sc-dashboard', 'grafana-sc-datasources', 'grafana']);
    expect(families.find((f) => f.name === 'kube_pod_info')!.help).toBe('[STABLE] Information about pod.');
    promtoolAccepts(renderFamilies(families));
  });

  it('exports Deployments, DaemonSets, Services and Namespaces from their status', () => {
    const families = new KubeStateMetricsWorkload({ view: store, args }).collect();
    const value = (name: string, labels: Record<string, string>) => samplesOf(families, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('kube_deployment_spec_replicas', { deployment: 'kps-grafana' })).toBe(1);
    expect(value('kube_deployment_status_replicas', { namespace: 'monitoring', deployment: 'kps-grafana' })).toBe(1);
    expect(value('kube_deployment_status_replicas_available', { deployment: 'kps-kube-state-metrics' })).toBe(1);
    expect(value('kube_daemonset_status_number_ready', { daemonset: 'kps-prometheus-node-exporter' })).toBe(1);
    expect(value('kube_service_info', { service: 'kps-grafana' })).toBe(1);
    expect(value('kube_namespace_status_phase', { namespace: 'monitoring', phase: 'Active' })).toBe(1);
    expect(value('kube_node_status_condition', { node: 'sim-node', condition: 'Ready', status: 'true' })).toBe(1);
  });

  it('honours --resources and --namespaces', () => {
    const onlyPods = new KubeStateMetricsWorkload({ view: store, args: ['--resources=pods', '--namespaces=monitoring'] }).collect();
    expect(new Set(onlyPods.map((f) => f.name.split('_')[1]))).toEqual(new Set(['pod']));
    expect(samplesOf(onlyPods, 'kube_pod_info').length).toBeGreaterThan(3);
    expect(samplesOf(onlyPods, 'kube_pod_info').every((s) => s.labels.namespace === 'monitoring')).toBe(true);
    const elsewhere = new KubeStateMetricsWorkload({ view: store, args: ['--namespaces=default'] }).collect();
    expect(samplesOf(elsewhere, 'kube_pod_info')).toEqual([]);
    expect(samplesOf(elsewhere, 'kube_namespace_status_phase').length).toBeGreaterThan(0);
    expect(new KubeStateMetricsWorkload({}).collect()).toEqual([]);
  });

  it('serves telemetry about its own list/watch calls on the second port', async () => {
    const families = new KubeStateMetricsTelemetry(Date.now(), { view: store, args }).collect(Date.now());
    const lists = samplesOf(families, 'kube_state_metrics_list_total').map((s) => s.labels.resource);
    expect(lists).toEqual(expect.arrayContaining(['*v1.Pod', '*v1.Deployment', '*v1.Service']));
    expect(samplesOf(families, 'kube_state_metrics_list_objects').find((s) => s.labels.resource === '*v1.Pod')!.value).toBeGreaterThan(0);
    expect(samplesOf(families, 'kube_state_metrics_build_info')[0]!.labels).toMatchObject({ version: 'v2.20.0' });
    expect(families.some((f) => f.name.startsWith('kube_pod_'))).toBe(false);
    promtoolAccepts(renderFamilies(families));
  });

  it('answers its HTTP endpoints as kube-state-metrics does', async () => {
    const servers: Exporter[] = [];
    try {
      const main = await startExporter({ kind: 'kube-state-metrics', host: '127.0.0.1', port: 0, context: { view: store, args } });
      servers.push(main);
      const tele = await startExporter({ kind: 'kube-state-metrics-telemetry', host: '127.0.0.1', port: 0, context: { view: store, args } });
      servers.push(tele);
      const metrics = await get(main.url);
      expect(metrics.status).toBe(200);
      expect([...series(metrics.body).keys()].some((k) => k.startsWith('kube_deployment_status_replicas{namespace="monitoring",deployment="kps-grafana"}'))).toBe(true);
      expect((await get(`http://${main.address}/livez`)).body).toBe('OK');
      expect((await get(`http://${tele.address}/readyz`)).status).toBe(200);
      expect((await get(`http://${tele.address}/livez`)).status).toBe(404);
      main.setDown(true);
      expect((await get(main.url)).status).toBe(500);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
});

describe('operator and config-reloader exporters', () => {
  it('serves the reloader and operator families', () => {
    const reloader = createWorkload('prometheus-config-reloader', 1_000_000).collect(1_030_000);
    expect(samplesOf(reloader, 'reloader_last_reload_successful')[0]!.value).toBe(1);
    expect(samplesOf(reloader, 'prometheus_config_reloader_build_info')[0]!.labels.version).toBe('0.93.1');
    const operator = createWorkload('prometheus-operator', 1_000_000, { version: '0.93.1' }).collect(1_030_000);
    expect(samplesOf(operator, 'prometheus_operator_ready').map((s) => s.labels.controller)).toContain('prometheus');
    promtoolAccepts(renderFamilies(reloader));
    promtoolAccepts(renderFamilies(operator));
  });
});

describe('which exporter a pod runs', () => {
  const template = (example: Example, kind: string, name: string): PodTemplate => ({ owner: name, template: find(example, kind, name).spec.template });
  const summary = (t: PodTemplate) => exportersForPod(asPod(t)).map((e) => `${e.kind}@${e.container}:${e.port}${e.portName ? `(${e.portName})` : ''}`);

  it.each<[Example, string, string, string[], string | undefined]>([
    ['kube-prometheus', 'DaemonSet', 'node-exporter', ['node-exporter@node-exporter:9100(https)'], 'node-exporter'],
    ['kube-prometheus', 'Deployment', 'kube-state-metrics', ['kube-state-metrics@kube-state-metrics:8443(https-main)', 'kube-state-metrics-telemetry@kube-state-metrics:9443(https-self)'], 'kube-state-metrics'],
    ['kube-prometheus', 'Deployment', 'prometheus-operator', ['prometheus-operator@prometheus-operator:8080(http)'], 'prometheus-operator'],
    ['kube-prometheus', 'Deployment', 'grafana', [], undefined],
    ['kube-prometheus-stack', 'DaemonSet', 'kps-prometheus-node-exporter', ['node-exporter@node-exporter:9100(http-metrics)'], 'node-exporter'],
    ['kube-prometheus-stack', 'Deployment', 'kps-kube-state-metrics', ['kube-state-metrics@kube-state-metrics:8080(http)', 'kube-state-metrics-telemetry@kube-state-metrics:8081(metrics)'], 'kube-state-metrics'],
    ['kube-prometheus-stack', 'Deployment', 'kps-kube-prometheus-stack-operator', ['prometheus-operator@kube-prometheus-stack:8080(http)'], 'prometheus-operator'],
    ['kube-prometheus-stack', 'Deployment', 'kps-grafana', [], undefined],
    ['prometheus-grafana-charts', 'Deployment', 'prometheus-server', ['prometheus-config-reloader@prometheus-server-configmap-reload:8080(metrics)'], undefined],
    ['prometheus-grafana-charts', 'DaemonSet', 'prometheus-prometheus-node-exporter', ['node-exporter@node-exporter:9100(metrics)'], 'node-exporter'],
    ['prometheus-grafana-charts', 'Deployment', 'prometheus-kube-state-metrics', ['kube-state-metrics@kube-state-metrics:8080(http)', 'kube-state-metrics-telemetry@kube-state-metrics:8081(metrics)'], 'kube-state-metrics'],
  ])('%s %s %s', (example, kind, name, expected, main) => {
    const t = template(example, kind, name);
    expect(summary(t)).toEqual(expected);
    expect(exporterKindForPod(asPod(t))).toBe(main);
  });

  it("runs the config-reloader of an operator-made Prometheus pod, but the pod's kind is Prometheus", () => {
    const t: PodTemplate = { owner: 'k8s', template: operatorPod(find('kube-prometheus', 'Prometheus', 'k8s')) };
    expect(summary(t)).toEqual(['prometheus-config-reloader@config-reloader:8080(reloader-web)']);
    expect(exporterKindForPod(asPod(t))).toBeUndefined();
  });

  it('recognises a mirrored image by the pod label, and reads versions and node from the pod', () => {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ne', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus-node-exporter' } },
      spec: { nodeName: 'kind-worker2', containers: [{ name: 'ne', image: 'registry.example.com/mirror/ne@sha256:abc', args: ['--web.listen-address=127.0.0.1:9101'] }] },
    };
    expect(exportersForPod(pod)).toEqual([{ kind: 'node-exporter', container: 'ne', port: 9101, args: ['--web.listen-address=127.0.0.1:9101'], nodeName: 'kind-worker2', version: undefined }]);
    expect(parseImage('quay.io/prometheus/node-exporter:v1.12.1-distroless')).toEqual({ name: 'node-exporter', tag: 'v1.12.1-distroless' });
    const [ksm] = exportersForPod(asPod(template('kube-prometheus-stack', 'Deployment', 'kps-kube-state-metrics')));
    expect(ksm!.version).toBe('2.20.0');
  });
});
