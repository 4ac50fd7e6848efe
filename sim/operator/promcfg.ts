/**
 * The Prometheus configuration prometheus-operator generates for a `Prometheus` object and the
 * ServiceMonitors and PodMonitors it selected (pkg/prometheus/promcfg.go of
 * prometheus-operator/prometheus-operator: GenerateServerConfiguration, buildGlobalConfig,
 * generateServiceMonitorConfig, generatePodMonitorConfig, generateK8SSDConfig,
 * generateAlertmanagerConfig, appendShardingRelabelingWithLabel), in the same key order.
 *
 * Like the operator's ConfigGenerator, fields are gated on a Prometheus version: here the version
 * that actually runs the configuration (the simulator's Debian Prometheus, 2.42.0, by default),
 * so that what is generated always loads. Not generated: Probes, ScrapeConfigs, remote
 * read/write, OAuth2, sigv4, TLS material from Secrets (only file paths and flags), rules.
 */
import YAML from 'yaml';
import type { KubeObject } from '../kube/view.js';

type Obj = Record<string, any>;

export interface ConfigInput {
  prometheus: KubeObject;
  /** Selected, valid ServiceMonitors and PodMonitors (any order: sorted here by `<ns>/<name>`). */
  serviceMonitors: KubeObject[];
  podMonitors: KubeObject[];
  /** The value of a Secret key (`{name, key}`) in a namespace, or undefined. */
  secretKey(namespace: string, ref: { name?: string; key?: string }): string | undefined;
  /** The Prometheus version fields are gated on. */
  version: string;
  /** Whether the cluster serves discovery.k8s.io/v1 EndpointSlices. */
  endpointSliceSupported: boolean;
  /** The rule ConfigMaps' names (`prometheus-<name>-rulefiles-<i>`). */
  ruleConfigMapNames: string[];
}

const RULES_DIR = '/etc/prometheus/rules';
const HASH_LABEL = '__tmp_hash';
const DISABLE_SHARDING_LABEL = '__tmp_disable_sharding';

/** `a >= b` for versions `2.42.0`, `v3.1.0`. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  const [a, b] = [parse(version), parse(minimum)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** Prometheus's label-name sanitising, as the operator's sanitizeLabelName. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function sortedKeys(map: Record<string, unknown> | undefined): string[] {
  return Object.keys(map ?? {}).sort();
}

/** labels.Selector.String() of a metav1.LabelSelector: requirements sorted by key. */
export function labelSelectorString(selector: Obj | undefined): string {
  const reqs: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries((selector?.matchLabels ?? {}) as Record<string, string>)) reqs.push({ key, text: `${key}=${value}` });
  for (const exp of (selector?.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    const values = [...(exp.values ?? [])].sort().join(',');
    const text =
      exp.operator === 'In' ? `${exp.key} in (${values})` : exp.operator === 'NotIn' ? `${exp.key} notin (${values})` : exp.operator === 'Exists' ? exp.key : `!${exp.key}`;
    reqs.push({ key: exp.key, text });
  }
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((r) => r.text).join(',');
}

class Generator {
  readonly spec: Obj;
  readonly ns: string;
  readonly name: string;

  constructor(readonly input: ConfigInput) {
    this.spec = (input.prometheus.spec ?? {}) as Obj;
    this.ns = input.prometheus.metadata.namespace ?? 'default';
    this.name = input.prometheus.metadata.name;
  }

  atLeast(minimum: string): boolean {
    return versionAtLeast(this.input.version, minimum);
  }

  /** endpointRoleFlavor: endpointslice only when supported, Prometheus >= 2.21 and asked for. */
  roleFlavor(role: string | undefined): string {
    if (!this.input.endpointSliceSupported || !this.atLeast('2.21.0')) return 'endpoints';
    return role === 'EndpointSlice' ? 'endpointslice' : 'endpoints';
  }

  shards(): number {
    const shards = Number(this.spec.shards ?? 1);
    return shards > 1 ? shards : 1;
  }

  scrapeClass(name: string | undefined): Obj {
    const classes = (this.spec.scrapeClasses ?? []) as Obj[];
    return classes.find((c) => c.name === name) ?? classes.find((c) => c.default === true) ?? {};
  }

  externalLabels(): Obj {
    const labels: Record<string, string> = {};
    const promLabel = this.spec.prometheusExternalLabelName ?? 'prometheus';
    if (promLabel !== '') labels[promLabel] = `${this.ns}/${this.name}`;
    const replicaLabel = this.spec.replicaExternalLabelName ?? 'prometheus_replica';
    if (replicaLabel !== '') labels[replicaLabel] = '$(POD_NAME)';
    for (const [k, v] of Object.entries((this.spec.externalLabels ?? {}) as Record<string, string>)) if (!(k in labels)) labels[k] = v;
    return Object.fromEntries(sortedKeys(labels).map((k) => [k, labels[k]]));
  }

  global(): Obj {
    const g: Obj = { scrape_interval: this.spec.scrapeInterval || '30s' };
    if (this.spec.scrapeTimeout) g.scrape_timeout = this.spec.scrapeTimeout;
    this.scrapeProtocols(g, this.spec.scrapeProtocols);
    g.external_labels = this.externalLabels();
    if (this.atLeast('2.45.0')) {
      if (this.spec.bodySizeLimit ?? this.spec.enforcedBodySizeLimit) g.body_size_limit = this.spec.bodySizeLimit ?? this.spec.enforcedBodySizeLimit;
      for (const [field, key, enforced] of [
        ['sample_limit', 'sampleLimit', 'enforcedSampleLimit'],
        ['target_limit', 'targetLimit', 'enforcedTargetLimit'],
        ['label_limit', 'labelLimit', 'enforcedLabelLimit'],
        ['label_name_length_limit', 'labelNameLengthLimit', 'enforcedLabelNameLengthLimit'],
        ['label_value_length_limit', 'labelValueLengthLimit', 'enforcedLabelValueLengthLimit'],
      ] as const) {
        const limit = Number(this.spec[key] ?? 0);
        const max = Number(this.spec[enforced] ?? 0);
        if (limit > 0) g[field] = max > 0 && limit > max ? max : limit;
        else if (max > 0) g[field] = max;
      }
    }
    g.evaluation_interval = this.spec.evaluationInterval || '30s';
    if (this.spec.ruleQueryOffset !== undefined && this.atLeast('2.53.0')) g.rule_query_offset = this.spec.ruleQueryOffset;
    if (this.spec.queryLogFile && this.atLeast('2.16.0')) {
      const file = String(this.spec.queryLogFile);
      g.query_log_file = file.includes('/') ? file : `/var/log/prometheus/${file}`;
    }
    return g;
  }

  scrapeProtocols(cfg: Obj, protocols: string[] | undefined): void {
    if (!protocols?.length || !this.atLeast('2.49.0')) return;
    cfg.scrape_protocols = protocols.filter((p) => p !== 'PrometheusText1.0.0' || this.atLeast('3.0.0'));
  }

  honorLabels(cfg: Obj, honor: boolean | undefined): void {
    cfg.honor_labels = this.spec.overrideHonorLabels ? false : honor === true;
  }

  honorTimestamps(cfg: Obj, honor: boolean | undefined): void {
    if (honor === undefined && !this.spec.overrideHonorTimestamps) return;
    if (this.atLeast('2.9.0')) cfg.honor_timestamps = honor === true && !this.spec.overrideHonorTimestamps;
  }

  trackTimestampsStaleness(cfg: Obj, track: boolean | undefined): void {
    if (track !== undefined && this.atLeast('2.48.0')) cfg.track_timestamps_staleness = track;
  }

  /** generateK8SSDConfig for a monitor's namespace selector and role. */
  k8sSd(namespaceSelector: Obj | undefined, namespace: string, role: string, attachMetadata: Obj | undefined, minimum: string, roleSelectors?: { roles: string[]; selector: Obj }): Obj {
    const sd: Obj = { role };
    let namespaces: string[];
    if (this.spec.ignoreNamespaceSelectors) namespaces = [namespace];
    else if (namespaceSelector?.any) namespaces = [];
    else if (!(namespaceSelector?.matchNames as string[] | undefined)?.length) namespaces = [namespace];
    else namespaces = namespaceSelector!.matchNames as string[];
    if (namespaces.length) sd.namespaces = { names: namespaces };
    const api = this.spec.apiserverConfig as Obj | undefined;
    if (api) {
      sd.api_server = api.host;
      if (api.bearerTokenFile) sd.bearer_token_file = api.bearerTokenFile;
      if (api.tlsConfig) this.tls(sd, api.tlsConfig, namespace);
    }
    if (attachMetadata && this.atLeast(minimum)) sd.attach_metadata = { node: attachMetadata.node === true };
    if (roleSelectors) {
      sd.selectors = roleSelectors.roles.map((r) => ({ role: r, label: labelSelectorString(roleSelectors.selector) }));
    }
    return { kubernetes_sd_configs: [sd] };
  }

  tls(cfg: Obj, tls: Obj | undefined, namespace: string): void {
    if (!tls) return;
    const out: Obj = {};
    if (tls.insecureSkipVerify !== undefined) out.insecure_skip_verify = tls.insecureSkipVerify;
    const asset = (ref: Obj | undefined, kind: string) => {
      const source = ref?.secret ? `secret_${namespace}_${ref.secret.name}_${ref.secret.key}` : ref?.configMap ? `configmap_${namespace}_${ref.configMap.name}_${ref.configMap.key}` : undefined;
      if (source) out[kind] = `/etc/prometheus/certs/${source}`;
    };
    asset(tls.ca, 'ca_file');
    asset(tls.cert, 'cert_file');
    if (tls.keySecret) out.key_file = `/etc/prometheus/certs/secret_${namespace}_${tls.keySecret.name}_${tls.keySecret.key}`;
    if (tls.serverName) out.server_name = tls.serverName;
    if (tls.minVersion !== undefined && this.atLeast('2.35.0')) out.min_version = tls.minVersion;
    if (tls.maxVersion !== undefined && this.atLeast('2.41.0')) out.max_version = tls.maxVersion;
    if (tls.caFile) out.ca_file = tls.caFile;
    if (tls.certFile) out.cert_file = tls.certFile;
    if (tls.keyFile) out.key_file = tls.keyFile;
    cfg.tls_config = out;
  }

  /** mergeTLSConfigWithScrapeClass: the scrape class's TLS files fill what the endpoint leaves out. */
  mergedTls(tls: Obj | undefined, scrapeClass: Obj): Obj | undefined {
    const classTls = scrapeClass.tlsConfig as Obj | undefined;
    if (!tls) return classTls;
    if (!classTls) return tls;
    const merged = { ...tls };
    if (!merged.caFile && !merged.ca) merged.caFile = classTls.caFile;
    if (!merged.certFile && !merged.cert) merged.certFile = classTls.certFile;
    if (!merged.keyFile && !merged.keySecret) merged.keyFile = classTls.keyFile;
    return merged;
  }

  basicAuth(cfg: Obj, basicAuth: Obj | undefined, namespace: string): void {
    if (!basicAuth) return;
    cfg.basic_auth = {
      username: this.input.secretKey(namespace, basicAuth.username ?? {}) ?? '',
      password: this.input.secretKey(namespace, basicAuth.password ?? {}) ?? '',
    };
  }

  authorization(cfg: Obj, auth: Obj | undefined, namespace: string): void {
    if (!auth || !this.atLeast('2.26.0')) return;
    const out: Obj = { type: String(auth.type || 'Bearer').trim() };
    if (auth.credentials) {
      const value = this.input.secretKey(namespace, auth.credentials);
      if (value !== undefined) out.credentials = value;
    }
    if (auth.credentialsFile) out.credentials_file = auth.credentialsFile;
    cfg.authorization = out;
  }

  proxy(cfg: Obj, ep: Obj): void {
    if (ep.proxyUrl) cfg.proxy_url = ep.proxyUrl;
    if (ep.noProxy && this.atLeast('2.43.0')) cfg.no_proxy = ep.noProxy;
    if (ep.proxyFromEnvironment !== undefined && this.atLeast('2.43.0')) cfg.proxy_from_environment = ep.proxyFromEnvironment;
  }

  limits(cfg: Obj, monitor: Obj): void {
    const pick = (user: unknown, enforced: unknown): number | undefined => {
      const u = Number(user ?? 0);
      const e = Number(enforced ?? 0);
      if (e === 0) return user === undefined || user === null ? undefined : u;
      if (u === 0) return this.atLeast('2.45.0') ? undefined : e;
      return e > u ? u : e;
    };
    const entries: [string, string, string, string?][] = [
      ['sample_limit', 'sampleLimit', 'enforcedSampleLimit'],
      ['target_limit', 'targetLimit', 'enforcedTargetLimit', '2.21.0'],
      ['label_limit', 'labelLimit', 'enforcedLabelLimit', '2.27.0'],
      ['label_name_length_limit', 'labelNameLengthLimit', 'enforcedLabelNameLengthLimit', '2.27.0'],
      ['label_value_length_limit', 'labelValueLengthLimit', 'enforcedLabelValueLengthLimit', '2.27.0'],
      ['keep_dropped_targets', 'keepDroppedTargets', 'enforcedKeepDroppedTargets', '2.47.0'],
    ];
    for (const [field, key, enforced, minimum] of entries) {
      const value = pick(monitor[key], this.spec[enforced]);
      if (value !== undefined && (!minimum || this.atLeast(minimum))) cfg[field] = value;
    }
  }

  /** appendShardingRelabelingWithLabel (without retention policies or topology sharding). */
  sharding(relabelings: Obj[], label = '__address__'): Obj[] {
    return [
      ...relabelings,
      { source_labels: [label, HASH_LABEL], target_label: HASH_LABEL, regex: '(.+);', replacement: '$1', action: 'replace' },
      { source_labels: [HASH_LABEL], target_label: HASH_LABEL, modulus: this.shards(), action: 'hashmod' },
      { source_labels: [HASH_LABEL, DISABLE_SHARDING_LABEL], regex: '$(SHARD);|.+;.+', action: 'keep' },
    ];
  }

  /** namespacelabeler.GetRelabelingConfigs: the enforced namespace label comes last. */
  enforced(rcs: Obj[] | undefined, namespace: string): Obj[] {
    const list = [...(rcs ?? [])];
    if (this.spec.enforcedNamespaceLabel) list.push({ targetLabel: this.spec.enforcedNamespaceLabel, replacement: namespace });
    return list;
  }

  /** A monitor selector turned into keep/drop relabelings on `<prefix>label_*` meta labels. */
  selectorRelabelings(selector: Obj | undefined, prefix: string): Obj[] {
    const out: Obj[] = [];
    const matchLabels = (selector?.matchLabels ?? {}) as Record<string, string>;
    for (const k of sortedKeys(matchLabels)) {
      const n = sanitizeLabelName(k);
      out.push({ action: 'keep', source_labels: [`${prefix}label_${n}`, `${prefix}labelpresent_${n}`], regex: `(${matchLabels[k]});true` });
    }
    for (const exp of (selector?.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
      const n = sanitizeLabelName(exp.key);
      const values = (exp.values ?? []).join('|');
      switch (exp.operator) {
        case 'In':
          out.push({ action: 'keep', source_labels: [`${prefix}label_${n}`, `${prefix}labelpresent_${n}`], regex: `(${values});true` });
          break;
        case 'NotIn':
          out.push({ action: 'drop', source_labels: [`${prefix}label_${n}`, `${prefix}labelpresent_${n}`], regex: `(${values});true` });
          break;
        case 'Exists':
          out.push({ action: 'keep', source_labels: [`${prefix}labelpresent_${n}`], regex: 'true' });
          break;
        case 'DoesNotExist':
          out.push({ action: 'drop', source_labels: [`${prefix}labelpresent_${n}`], regex: 'true' });
          break;
      }
    }
    return out;
  }

  httpFields(cfg: Obj, ep: Obj): void {
    if (ep.interval) cfg.scrape_interval = ep.interval;
    if (ep.scrapeTimeout) cfg.scrape_timeout = ep.scrapeTimeout;
    if (ep.path) cfg.metrics_path = ep.path;
    if (ep.params) cfg.params = ep.params;
    if (ep.scheme) cfg.scheme = String(ep.scheme).toLowerCase();
  }

  tail(cfg: Obj, monitor: Obj, namespace: string, ep: Obj, scrapeClass: Obj): void {
    this.limits(cfg, monitor);
    this.scrapeProtocols(cfg, monitor.scrapeProtocols);
    const fallback = monitor.fallbackScrapeProtocol ?? scrapeClass.fallbackScrapeProtocol;
    if (fallback && this.atLeast('3.0.0')) cfg.fallback_scrape_protocol = fallback;
    const bodySizeLimit = this.spec.enforcedBodySizeLimit || monitor.bodySizeLimit;
    if (bodySizeLimit && this.atLeast('2.28.0')) cfg.body_size_limit = bodySizeLimit;
    const metric = [...((scrapeClass.metricRelabelings ?? []) as Obj[]), ...this.enforced(ep.metricRelabelings, namespace)];
    if (metric.length > 0) cfg.metric_relabel_configs = relabelConfigs(metric);
  }

  serviceMonitorJob(sm: KubeObject, ep: Obj, i: number): Obj {
    const spec = (sm.spec ?? {}) as Obj;
    const ns = sm.metadata.namespace ?? 'default';
    const scrapeClass = this.scrapeClass(spec.scrapeClassName);
    const cfg: Obj = { job_name: `serviceMonitor/${ns}/${sm.metadata.name}/${i}` };
    this.honorLabels(cfg, ep.honorLabels);
    this.honorTimestamps(cfg, ep.honorTimestamps);
    this.trackTimestampsStaleness(cfg, ep.trackTimestampsStaleness);
    const role = spec.serviceDiscoveryRole ? this.roleFlavor(spec.serviceDiscoveryRole) : this.roleFlavor(this.spec.serviceDiscoveryRole);
    const roleSelector = spec.selectorMechanism === 'RoleSelector' ? { roles: [role, 'service'], selector: spec.selector ?? {} } : undefined;
    Object.assign(cfg, this.k8sSd(spec.namespaceSelector, ns, role, spec.attachMetadata ?? scrapeClass.attachMetadata, '2.37.0', roleSelector));
    this.httpFields(cfg, ep);
    if (ep.followRedirects !== undefined && this.atLeast('2.26.0')) cfg.follow_redirects = ep.followRedirects;
    if (ep.enableHttp2 !== undefined && this.atLeast('2.35.0')) cfg.enable_http2 = ep.enableHttp2;
    this.proxy(cfg, ep);
    this.tls(cfg, this.mergedTls(ep.tlsConfig, scrapeClass), ns);
    if (ep.bearerTokenFile) cfg.bearer_token_file = ep.bearerTokenFile;
    if (ep.bearerTokenSecret?.name) {
      const token = this.input.secretKey(ns, ep.bearerTokenSecret);
      if (token !== undefined) cfg.bearer_token = token;
    }
    this.basicAuth(cfg, ep.basicAuth, ns);
    this.authorization(cfg, ep.authorization ?? scrapeClass.authorization, ns);

    let relabelings: Obj[] = [{ source_labels: ['job'], target_label: '__tmp_prometheus_job_name' }];
    if (spec.selectorMechanism !== 'RoleSelector') relabelings.push(...this.selectorRelabelings(spec.selector, '__meta_kubernetes_service_'));
    if (ep.port) {
      const source = role === 'endpointslice' ? '__meta_kubernetes_endpointslice_port_name' : '__meta_kubernetes_endpoint_port_name';
      relabelings.push({ action: 'keep', source_labels: [source], regex: ep.port });
    } else if (ep.targetPort !== undefined && ep.targetPort !== null) {
      if (typeof ep.targetPort === 'string' && ep.targetPort !== '') {
        relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.targetPort });
      } else if (typeof ep.targetPort === 'number' && ep.targetPort !== 0) {
        relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: ep.targetPort });
      }
    }
    const kindName =
      role === 'endpointslice'
        ? ['__meta_kubernetes_endpointslice_address_target_kind', '__meta_kubernetes_endpointslice_address_target_name']
        : ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'];
    relabelings.push(
      { source_labels: kindName, separator: ';', regex: 'Node;(.*)', replacement: '${1}', target_label: 'node' },
      { source_labels: kindName, separator: ';', regex: 'Pod;(.*)', replacement: '${1}', target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
    );
    if (ep.filterRunning !== false) relabelings.push(runningFilter());
    for (const l of (spec.targetLabels ?? []) as string[]) {
      relabelings.push({ source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' });
    }
    for (const l of [...((spec.podTargetLabels ?? []) as string[]), ...((this.spec.podTargetLabels ?? []) as string[])]) {
      relabelings.push({ source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' });
    }
    relabelings.push({ source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' });
    if (spec.jobLabel) {
      relabelings.push({ source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(spec.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' });
    }
    if (ep.port) relabelings.push({ target_label: 'endpoint', replacement: ep.port });
    else if (ep.targetPort !== undefined && ep.targetPort !== null && String(ep.targetPort) !== '') relabelings.push({ target_label: 'endpoint', replacement: String(ep.targetPort) });
    relabelings.push(...relabelConfigs((scrapeClass.relabelings ?? []) as Obj[]));
    relabelings.push(...relabelConfigs(this.enforced(ep.relabelings, ns)));
    relabelings = this.sharding(relabelings);
    cfg.relabel_configs = relabelings;
    this.tail(cfg, spec, ns, ep, scrapeClass);
    return cfg;
  }

  podMonitorJob(pm: KubeObject, ep: Obj, i: number): Obj {
    const spec = (pm.spec ?? {}) as Obj;
    const ns = pm.metadata.namespace ?? 'default';
    const scrapeClass = this.scrapeClass(spec.scrapeClassName);
    const cfg: Obj = { job_name: `podMonitor/${ns}/${pm.metadata.name}/${i}` };
    this.honorLabels(cfg, ep.honorLabels);
    this.honorTimestamps(cfg, ep.honorTimestamps);
    this.trackTimestampsStaleness(cfg, ep.trackTimestampsStaleness);
    const roleSelector = spec.selectorMechanism === 'RoleSelector' ? { roles: ['pod'], selector: spec.selector ?? {} } : undefined;
    Object.assign(cfg, this.k8sSd(spec.namespaceSelector, ns, 'pod', spec.attachMetadata ?? scrapeClass.attachMetadata, '2.35.0', roleSelector));
    this.httpFields(cfg, ep);
    if (ep.followRedirects !== undefined && this.atLeast('2.26.0')) cfg.follow_redirects = ep.followRedirects;
    if (ep.enableHttp2 !== undefined && this.atLeast('2.35.0')) cfg.enable_http2 = ep.enableHttp2;
    this.tls(cfg, this.mergedTls(ep.tlsConfig, scrapeClass), ns);
    if (ep.bearerTokenSecret?.name) {
      const token = this.input.secretKey(ns, ep.bearerTokenSecret);
      if (token !== undefined) cfg.bearer_token = token;
    }
    this.basicAuth(cfg, ep.basicAuth, ns);
    this.proxy(cfg, ep);
    this.authorization(cfg, ep.authorization ?? scrapeClass.authorization, ns);

    let relabelings: Obj[] = [{ source_labels: ['job'], target_label: '__tmp_prometheus_job_name' }];
    if (ep.filterRunning !== false) relabelings.push(runningFilter());
    if (spec.selectorMechanism !== 'RoleSelector') relabelings.push(...this.selectorRelabelings(spec.selector, '__meta_kubernetes_pod_'));
    if (ep.port) {
      relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.port });
    } else if (ep.portNumber) {
      relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: ep.portNumber });
    } else if (ep.targetPort !== undefined && ep.targetPort !== null) {
      if (typeof ep.targetPort === 'string' && ep.targetPort !== '') {
        relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.targetPort });
      } else if (typeof ep.targetPort === 'number' && ep.targetPort !== 0) {
        relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: ep.targetPort });
      }
    }
    relabelings.push(
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    );
    for (const l of [...((spec.podTargetLabels ?? []) as string[]), ...((this.spec.podTargetLabels ?? []) as string[])]) {
      relabelings.push({ source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' });
    }
    relabelings.push({ target_label: 'job', replacement: `${ns}/${pm.metadata.name}` });
    if (spec.jobLabel) {
      relabelings.push({ source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(spec.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' });
    }
    if (ep.port) relabelings.push({ target_label: 'endpoint', replacement: ep.port });
    else if (ep.targetPort !== undefined && ep.targetPort !== null && String(ep.targetPort) !== '') relabelings.push({ target_label: 'endpoint', replacement: String(ep.targetPort) });
    relabelings.push(...relabelConfigs((scrapeClass.relabelings ?? []) as Obj[]));
    relabelings.push(...relabelConfigs(this.enforced(ep.relabelings, ns)));
    relabelings = this.sharding(relabelings);
    cfg.relabel_configs = relabelings;
    this.tail(cfg, spec, ns, ep, scrapeClass);
    return cfg;
  }

  alerting(): Obj | undefined {
    const alerting = this.spec.alerting as Obj | undefined;
    const alertmanagers = (alerting?.alertmanagers ?? []) as Obj[];
    if (!alerting) return undefined;
    const role = this.roleFlavor(this.spec.serviceDiscoveryRole);
    const configs = alertmanagers.map((am) => {
      const cfg: Obj = {};
      if (am.scheme) cfg.scheme = String(am.scheme).toLowerCase();
      if (am.pathPrefix) cfg.path_prefix = am.pathPrefix;
      if (am.timeout) cfg.timeout = am.timeout;
      if (am.enableHttp2 !== undefined && this.atLeast('2.35.0')) cfg.enable_http2 = am.enableHttp2;
      this.tls(cfg, am.tlsConfig, this.ns);
      this.proxy(cfg, am);
      Object.assign(cfg, this.k8sSd({}, am.namespace ?? this.ns, role, undefined, ''));
      if (am.bearerTokenFile) cfg.bearer_token_file = am.bearerTokenFile;
      if (this.atLeast('2.26.0')) this.basicAuth(cfg, am.basicAuth, this.ns);
      this.authorization(cfg, am.authorization, this.ns);
      const apiVersion = String(am.apiVersion ?? '').toUpperCase();
      if (this.atLeast('2.11.0') && (apiVersion === 'V2' || (apiVersion === 'V1' && !this.atLeast('3.0.0')))) cfg.api_version = apiVersion.toLowerCase();
      const relabelings: Obj[] = [{ action: 'keep', source_labels: ['__meta_kubernetes_service_name'], regex: am.name }];
      if (typeof am.port === 'string' && am.port !== '') {
        const source = role === 'endpointslice' ? '__meta_kubernetes_endpointslice_port_name' : '__meta_kubernetes_endpoint_port_name';
        relabelings.push({ action: 'keep', source_labels: [source], regex: am.port });
      } else if (typeof am.port === 'number' && am.port !== 0) {
        relabelings.push({ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(am.port) });
      }
      relabelings.push(...relabelConfigs((am.relabelings ?? []) as Obj[]));
      cfg.relabel_configs = relabelings;
      if (am.alertRelabelings?.length && this.atLeast('2.51.0')) cfg.alert_relabel_configs = relabelConfigs(am.alertRelabelings);
      return cfg;
    });
    const replicaLabel = this.spec.replicaExternalLabelName ?? 'prometheus_replica';
    const alertRelabel = replicaLabel !== '' ? [{ action: 'labeldrop', regex: replicaLabel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') }] : [];
    return { alert_relabel_configs: alertRelabel, alertmanagers: configs };
  }

  storage(): Obj | undefined {
    const tsdb: Obj = {};
    const storage: Obj = {};
    const maxExemplars = this.spec.exemplars?.maxSize;
    if (maxExemplars !== undefined && this.atLeast('2.29.0')) storage.exemplars = { max_exemplars: maxExemplars };
    if (this.spec.tsdb?.outOfOrderTimeWindow !== undefined && this.atLeast('2.39.0')) tsdb.out_of_order_time_window = this.spec.tsdb.outOfOrderTimeWindow;
    if (this.atLeast('3.11.0')) {
      const retention: Obj = {};
      const time = this.spec.retention || (this.spec.retentionSize ? '' : '24h');
      if (time) retention.time = time;
      if (this.spec.retentionSize) retention.size = this.spec.retentionSize;
      tsdb.retention = retention;
    }
    if (Object.keys(tsdb).length) storage.tsdb = tsdb;
    return Object.keys(storage).length && this.atLeast('2.29.0') ? storage : undefined;
  }

  generate(): Obj {
    const cfg: Obj = { global: this.global() };
    if (this.spec.runtime && this.atLeast('2.53.0')) cfg.runtime = this.spec.runtime.goGC !== undefined ? { gogc: this.spec.runtime.goGC } : {};
    if (this.spec.ruleSelector !== undefined && this.spec.ruleSelector !== null) {
      cfg.rule_files = this.input.ruleConfigMapNames.map((n) => `${RULES_DIR}/${n}/*.yaml`);
    }
    const byKey = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    const sorted = (list: KubeObject[]) => [...list].sort((a, b) => (byKey(a) < byKey(b) ? -1 : byKey(a) > byKey(b) ? 1 : 0));
    const jobs: Obj[] = [];
    for (const sm of sorted(this.input.serviceMonitors)) {
      ((sm.spec as Obj)?.endpoints ?? []).forEach((ep: Obj, i: number) => jobs.push(this.serviceMonitorJob(sm, ep, i)));
    }
    for (const pm of sorted(this.input.podMonitors)) {
      ((pm.spec as Obj)?.podMetricsEndpoints ?? []).forEach((ep: Obj, i: number) => jobs.push(this.podMonitorJob(pm, ep, i)));
    }
    cfg.scrape_configs = jobs;
    const storage = this.storage();
    if (storage) cfg.storage = storage;
    const alerting = this.alerting();
    if (alerting) cfg.alerting = alerting;
    return cfg;
  }
}

function runningFilter(): Obj {
  return { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' };
}

/** generateRelabelConfig: the CRD's camelCase relabelings in Prometheus's keys and order. */
export function relabelConfigs(list: Obj[]): Obj[] {
  return list.map((c) => {
    const out: Obj = {};
    if (c.sourceLabels?.length) out.source_labels = c.sourceLabels;
    if (c.separator !== undefined) out.separator = c.separator;
    if (c.targetLabel) out.target_label = c.targetLabel;
    if (c.regex) out.regex = c.regex;
    if (c.modulus) out.modulus = c.modulus;
    if (c.replacement !== undefined) out.replacement = c.replacement;
    if (c.action) out.action = String(c.action).toLowerCase();
    return out;
  });
}

/** The configuration as a document (for tests) and as the YAML the config Secret holds. */
export function generateConfigObject(input: ConfigInput): Obj {
  return new Generator(input).generate();
}

export function generatePrometheusConfig(input: ConfigInput): string {
  return YAML.stringify(generateConfigObject(input), { lineWidth: 0, indentSeq: false, aliasDuplicateObjects: false });
}
