/**
 * The objects prometheus-operator creates for a `Prometheus` (pkg/prometheus/server/statefulset.go
 * makeStatefulSet/makeStatefulSetSpec, pkg/prometheus/common.go BuildCommonVolumes,
 * BuildConfigReloader, BuildStatefulSetService, MakeConfigurationSecret, pkg/operator/
 * config_reloader.go CreateConfigReloader, factory.go UpdateObject): the StatefulSet per shard,
 * the governing Service `prometheus-operated`, the config Secret `prometheus-<name>` (key
 * `prometheus.yaml.gz`), the web-config and TLS-assets Secrets and the rule-files ConfigMap.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { KubeObject } from '../kube/view.js';
import { versionAtLeast } from './promcfg.js';

type Obj = Record<string, any>;

export const OPERATOR_VERSION = '0.93.0';
/** operator.DefaultPrometheusVersion: the last entry of the operator's compatibility matrix. */
export const DEFAULT_PROMETHEUS_VERSION = 'v3.13.2';
export const GOVERNING_SERVICE = 'prometheus-operated';
export const CONFIG_KEY = 'prometheus.yaml.gz';
const CONFIG_RELOADER_IMAGE = `quay.io/prometheus-operator/prometheus-config-reloader:v${OPERATOR_VERSION}`;
const MANAGED_BY = 'prometheus-operator';

/** The labels UpdateObject puts on everything the operator manages. */
export function managedLabels(): Record<string, string> {
  return { 'managed-by': MANAGED_BY, 'app.kubernetes.io/managed-by': MANAGED_BY };
}

export function managingOwner(p: KubeObject): Obj {
  return { apiVersion: p.apiVersion, kind: p.kind, name: p.metadata.name, uid: p.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** `prometheus-<name>`, the prefix of the StatefulSet, config Secret and other objects. */
export function prefixedName(p: KubeObject): string {
  return `prometheus-${p.metadata.name}`;
}

/** The StatefulSet of a shard: `prometheus-<name>`, then `prometheus-<name>-shard-<n>`. */
export function statefulSetName(p: KubeObject, shard: number): string {
  return shard === 0 ? prefixedName(p) : `${prefixedName(p)}-shard-${shard}`;
}

export function shardCount(p: KubeObject): number {
  const shards = Number((p.spec as Obj | undefined)?.shards ?? 1);
  return shards > 1 ? shards : 1;
}

/** makeSelectorLabels: what selects the pods of one Prometheus (its shards add their number). */
export function selectorLabels(name: string): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/name': 'prometheus',
    'app.kubernetes.io/instance': name,
    'operator.prometheus.io/name': name,
    prometheus: name,
  };
}

/** The Prometheus version of the object (spec.version, else the operator's default), without `v`. */
export function prometheusVersion(p: KubeObject): string {
  return String((p.spec as Obj | undefined)?.version || DEFAULT_PROMETHEUS_VERSION).replace(/^v/, '');
}

function webRoutePrefix(spec: Obj): string {
  return spec.routePrefix || '/';
}

function cleanPath(path: string): string {
  return ('/' + path.split('/').filter((s) => s !== '' && s !== '.').join('/')).replace(/\/+/g, '/');
}

function imagePath(spec: Obj, version: string): string {
  if (spec.image) return spec.image;
  const base = spec.baseImage || 'quay.io/prometheus/prometheus';
  if (spec.sha) return `${base}@sha256:${spec.sha}`;
  if (spec.tag) return `${base}:${spec.tag}`;
  return `${base}:v${version}`;
}

/** BuildCommonPrometheusArgs + buildServerArgs, then the web config file flag. */
function prometheusArgs(spec: Obj, version: string): string[] {
  const args: [string, string?][] = [['config.file', '/etc/prometheus/config_out/prometheus.env.yaml']];
  if (version.startsWith('2.')) {
    args.push(['web.console.templates', '/etc/prometheus/consoles'], ['web.console.libraries', '/etc/prometheus/console_libraries']);
  }
  if ((spec.reloadStrategy ?? 'HTTP') === 'HTTP') args.push(['web.enable-lifecycle']);
  if (spec.web?.pageTitle) args.push(['web.page-title', spec.web.pageTitle]);
  if (spec.externalUrl) args.push(['web.external-url', spec.externalUrl]);
  args.push(['web.route-prefix', webRoutePrefix(spec)]);
  if (spec.logLevel && spec.logLevel !== 'info') args.push(['log.level', spec.logLevel]);
  if (spec.logFormat && spec.logFormat !== 'logfmt') args.push(['log.format', spec.logFormat]);
  if (spec.listenLocal) args.push(['web.listen-address', '127.0.0.1:9090']);
  if (!versionAtLeast(version, '3.11.0')) {
    const retention = spec.retention || (spec.retentionSize ? '' : '24h');
    if (retention) args.push(['storage.tsdb.retention.time', retention]);
    if (spec.retentionSize) args.push(['storage.tsdb.retention.size', spec.retentionSize]);
  }
  args.push(['storage.tsdb.path', '/prometheus']);
  if (spec.enableAdminAPI) args.push(['web.enable-admin-api']);
  if (spec.query?.lookbackDelta) args.push(['query.lookback-delta', spec.query.lookbackDelta]);
  if (spec.query?.maxSamples > 0) args.push(['query.max-samples', String(spec.query.maxSamples)]);
  if (spec.query?.maxConcurrency > 0) args.push(['query.max-concurrency', String(spec.query.maxConcurrency)]);
  if (spec.query?.timeout) args.push(['query.timeout', spec.query.timeout]);
  args.push(['web.config.file', '/etc/prometheus/web_config/web-config.yaml']);
  const rendered = args.map(([name, value]) => (value === undefined ? `--${name}` : `--${name}=${value}`));
  for (const extra of (spec.additionalArgs ?? []) as { name: string; value?: string }[]) {
    rendered.push(extra.value ? `--${extra.name}=${extra.value}` : `--${extra.name}`);
  }
  return rendered;
}

const RESTRICTED = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };

/** CreateConfigReloader for the init container or the sidecar. */
function configReloader(init: boolean, shard: number, mounts: Obj[], watchedDirs: string[], spec: Obj): Obj {
  const port = init ? 8081 : 8080;
  const args = [...(init ? ['--watch-interval=0'] : []), `--listen-address=:${port}`];
  if (!init) args.push('--reload-url=http://localhost:9090' + cleanPath(`${webRoutePrefix(spec)}/-/reload`));
  args.push('--config-file=/etc/prometheus/config/prometheus.yaml.gz', '--config-envsubst-file=/etc/prometheus/config_out/prometheus.env.yaml');
  for (const dir of [...watchedDirs, '/etc/prometheus/config']) args.push(`--watched-dir=${dir}`);
  if (spec.logLevel && spec.logLevel !== 'info') args.push(`--log-level=${spec.logLevel}`);
  if (spec.logFormat && spec.logFormat !== 'logfmt') args.push(`--log-format=${spec.logFormat}`);
  return {
    name: init ? 'init-config-reloader' : 'config-reloader',
    image: CONFIG_RELOADER_IMAGE,
    command: ['/bin/prometheus-config-reloader'],
    args,
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'SHARD', value: String(shard) },
    ],
    ports: [{ name: init ? 'reloader-init' : 'reloader-web', containerPort: port, protocol: 'TCP' }],
    resources: { limits: { cpu: '10m', memory: '50Mi' }, requests: { cpu: '10m', memory: '50Mi' } },
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: RESTRICTED,
    volumeMounts: mounts,
  };
}

function probe(spec: Obj, path: string, periodSeconds: number, failureThreshold: number): Obj {
  return {
    httpGet: { path: cleanPath(`${webRoutePrefix(spec)}${path}`), port: spec.portName || 'web' },
    timeoutSeconds: 3,
    periodSeconds,
    failureThreshold,
  };
}

/** A decimal uint64 hash of the StatefulSet's inputs, like the operator's hashstructure hash. */
function inputHash(p: KubeObject, ruleConfigMapNames: string[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ labels: p.metadata.labels, annotations: p.metadata.annotations, generation: p.metadata.generation, spec: p.spec, ruleConfigMapNames }))
    .digest();
  return digest.readBigUInt64BE(0).toString(10);
}

/** The StatefulSet of one shard of a Prometheus. */
export function makeStatefulSet(p: KubeObject, shard: number, ruleConfigMapNames: string[]): KubeObject {
  const spec = (p.spec ?? {}) as Obj;
  const name = p.metadata.name;
  const ns = p.metadata.namespace;
  const version = prometheusVersion(p);
  const portName = spec.portName || 'web';
  const prefix = prefixedName(p);
  const replicas = spec.replicas === undefined || spec.replicas === null || spec.replicas < 0 ? 1 : Number(spec.replicas);

  const podSelector = { ...selectorLabels(name), 'operator.prometheus.io/shard': String(shard) };
  const podLabels = { 'app.kubernetes.io/version': version, ...(spec.podMetadata?.labels ?? {}), ...podSelector };
  const podAnnotations = { 'kubectl.kubernetes.io/default-container': 'prometheus', ...(spec.podMetadata?.annotations ?? {}) };

  const ruleMounts = ruleConfigMapNames.map((cm) => ({ name: cm, mountPath: `/etc/prometheus/rules/${cm}` }));
  const ruleDirs = ruleMounts.map((m) => m.mountPath);
  const reloaderMounts = [
    { name: 'config', mountPath: '/etc/prometheus/config' },
    { name: 'config-out', mountPath: '/etc/prometheus/config_out' },
    ...ruleMounts,
  ];
  const volumes: Obj[] = [
    { name: 'config', secret: { secretName: prefix } },
    { name: 'tls-assets', projected: { sources: [{ secret: { name: `${prefix}-tls-assets-0` } }] } },
    { name: 'config-out', emptyDir: { medium: 'Memory' } },
    ...ruleConfigMapNames.map((cm) => ({ name: cm, configMap: { name: cm, optional: true } })),
    { name: 'web-config', secret: { secretName: `${prefix}-web-config` } },
    spec.storage?.emptyDir ? { name: `${prefix}-db`, emptyDir: spec.storage.emptyDir } : { name: `${prefix}-db`, emptyDir: {} },
    ...((spec.volumes ?? []) as Obj[]),
  ];
  const prometheusMounts = [
    { name: 'config-out', readOnly: true, mountPath: '/etc/prometheus/config_out' },
    { name: 'tls-assets', readOnly: true, mountPath: '/etc/prometheus/certs' },
    { name: `${prefix}-db`, mountPath: '/prometheus' },
    ...((spec.volumeMounts ?? []) as Obj[]),
    ...ruleMounts.map((m) => ({ ...m, readOnly: true })),
    { name: 'web-config', readOnly: true, mountPath: '/etc/prometheus/web_config/web-config.yaml', subPath: 'web-config.yaml' },
  ];

  const prometheus = {
    name: 'prometheus',
    image: imagePath(spec, version),
    ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
    ...(spec.listenLocal ? {} : { ports: [{ name: portName, containerPort: 9090, protocol: 'TCP' }] }),
    args: prometheusArgs(spec, version),
    volumeMounts: prometheusMounts,
    startupProbe: probe(spec, '/-/ready', 15, 60),
    readinessProbe: probe(spec, '/-/ready', 5, 3),
    livenessProbe: probe(spec, '/-/healthy', 5, 6),
    resources: spec.resources ?? {},
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: RESTRICTED,
  };
  const annotations = Object.fromEntries(Object.entries(p.metadata.annotations ?? {}).filter(([k]) => !k.startsWith('kubectl.kubernetes.io/')));
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: statefulSetName(p, shard),
      namespace: ns,
      labels: { ...managedLabels(), ...(p.metadata.labels ?? {}), 'operator.prometheus.io/mode': 'server', ...podSelector },
      annotations: { ...annotations, 'prometheus-operator-input-hash': inputHash(p, ruleConfigMapNames) },
      ownerReferences: [managingOwner(p)],
    },
    spec: {
      replicas,
      selector: { matchLabels: podSelector },
      serviceName: spec.serviceName ?? GOVERNING_SERVICE,
      podManagementPolicy: spec.podManagementPolicy ?? 'Parallel',
      updateStrategy: spec.updateStrategy ?? { type: 'RollingUpdate' },
      ...(spec.minReadySeconds ? { minReadySeconds: spec.minReadySeconds } : {}),
      template: {
        metadata: { labels: podLabels, annotations: podAnnotations },
        spec: {
          automountServiceAccountToken: spec.automountServiceAccountToken ?? true,
          containers: [prometheus, configReloader(false, shard, reloaderMounts, ruleDirs, spec), ...((spec.containers ?? []) as Obj[])],
          initContainers: [configReloader(true, shard, reloaderMounts, ruleDirs, spec), ...((spec.initContainers ?? []) as Obj[])],
          ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
          ...(spec.securityContext ? { securityContext: spec.securityContext } : {}),
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.priorityClassName ? { priorityClassName: spec.priorityClassName } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
          ...(spec.affinity ? { affinity: spec.affinity } : {}),
          shareProcessNamespace: spec.reloadStrategy === 'ProcessSignal',
          terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 600,
          volumes,
        },
      },
    },
  };
}

/** BuildStatefulSetService: the headless governing Service all Prometheus pods of a namespace share. */
export function makeGoverningService(p: KubeObject, existing: KubeObject | undefined): KubeObject {
  const portName = ((p.spec as Obj | undefined)?.portName as string) || 'web';
  const owner = { apiVersion: p.apiVersion, kind: p.kind, name: p.metadata.name, uid: p.metadata.uid };
  // k8s.CreateOrUpdateService keeps the other Prometheus objects' owner references.
  const owners = [...((existing?.metadata.ownerReferences ?? []) as Obj[]).filter((r) => r.uid !== owner.uid), owner];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: GOVERNING_SERVICE,
      namespace: p.metadata.namespace,
      labels: { ...managedLabels(), 'operated-prometheus': 'true' },
      ownerReferences: owners,
    },
    spec: {
      clusterIP: 'None',
      ports: [{ name: portName, port: 9090, targetPort: portName }],
      selector: { 'app.kubernetes.io/name': 'prometheus' },
    },
  };
}

function secret(p: KubeObject, name: string, data: Record<string, Buffer>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: p.metadata.namespace, labels: managedLabels(), ownerReferences: [managingOwner(p)] },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')])),
  };
}

/** MakeConfigurationSecret: the generated configuration, gzipped. */
export function makeConfigSecret(p: KubeObject, configYaml: string): KubeObject {
  return secret(p, prefixedName(p), { [CONFIG_KEY]: gzipSync(Buffer.from(configYaml, 'utf8')) });
}

/** The web config Secret (empty file without TLS or HTTP server settings) and the TLS assets shard. */
export function makeSupportSecrets(p: KubeObject): KubeObject[] {
  return [secret(p, `${prefixedName(p)}-tls-assets-0`, {}), secret(p, `${prefixedName(p)}-web-config`, { 'web-config.yaml': Buffer.alloc(0) })];
}

/** The rule names the StatefulSet mounts (always three, optional), and the first, empty ConfigMap. */
export function ruleConfigMapNames(p: KubeObject): string[] {
  return [0, 1, 2].map((i) => `${prefixedName(p)}-rulefiles-${i}`);
}

export function makeRuleConfigMap(p: KubeObject): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${prefixedName(p)}-rulefiles-0`,
      namespace: p.metadata.namespace,
      labels: { ...managedLabels(), 'prometheus-name': p.metadata.name },
      ownerReferences: [managingOwner(p)],
    },
  };
}
