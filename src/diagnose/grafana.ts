/**
 * Grafana-side probes: the seed guide's troubleshooting ("Datasource Prometheus introuvable dans
 * Grafana", "Connexion refusée entre Grafana et Prometheus"), automated and read-only.
 *
 * - No such datasource: the chain ConfigMap → provisioned datasource → Deployment template mounts
 *   it → running pod mounts it → the container sees the file → Grafana's provisioning log lines →
 *   Grafana provisions only at start-up. The first broken link is the finding.
 * - Datasource health / query errors: the datasource URL → its Service → port → ready endpoints →
 *   `nslookup` and `wget` from the Grafana pod.
 * - 401/403 from Grafana: which credential was refused, and where Grafana's admin password comes from.
 * - Grafana pod or API down: why the pod does not run (its previous run's log, image, volumes).
 *
 * A refused read (HTTP 403) becomes a note saying what was not diagnosed and which permission is
 * missing. No credential is ever put on an exec command line: the API server's audit log records
 * exec arguments.
 */
import { posix } from 'node:path';
import type { V1Container, V1Deployment, V1Pod, V1PodSpec, V1Service } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { describePod } from '../checks/pod-check.js';
import { KubeError, type ExecResult } from '../cluster.js';
import { parseProvisioning, sameUrl, serviceTargetOf, type ProvisionedDatasource } from '../datasource.js';
import { trimTrailingSlashes } from '../http.js';
import { isReady } from '../endpoint.js';
import type { CheckId, CheckResult, Settings } from '../types.js';
import type { DiagnoseContext, Finding, ObjectPath, ObjectRef, Prober } from './types.js';

// ------------------------------------------------------------------------------------------------
// Probe bookkeeping

type Outcome = { findings: Finding[]; notes: string[] };

const REFUSED = Symbol('refused');
type Read<T> = T | typeof REFUSED;

/** Lines of Grafana's log read when looking for provisioning errors. */
const LOG_LINES = 300;
/** Lines of a crashed container's previous run read. */
const PREVIOUS_LOG_LINES = 20;
const MAX_EVIDENCE = 5;
/** Seconds `wget` may take inside the Grafana pod. */
const WGET_TIMEOUT_S = 5;

const TEMPLATE_CONTAINERS = ['spec', 'template', 'spec', 'containers'] as const;

class Probe {
  readonly findings: Finding[] = [];
  readonly notes: string[] = [];
  private deploymentRead?: Promise<V1Deployment | undefined>;
  private podsRead?: Promise<Read<V1Pod[]>>;

  constructor(readonly ctx: DiagnoseContext) {}

  get settings(): Settings {
    return this.ctx.settings;
  }
  get ns(): string {
    return this.ctx.settings.namespace;
  }
  get signal(): AbortSignal {
    return this.ctx.signal;
  }

  add(f: Finding): void {
    const evidence = (f.evidence ?? []).filter(Boolean).slice(0, MAX_EVIDENCE);
    const { evidence: _unused, ...rest } = f;
    this.findings.push(evidence.length ? { ...rest, evidence } : rest);
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /**
   * Runs a read of the Kubernetes API. A refusal (403) becomes a note naming what was not
   * diagnosed and the missing permission; other API failures become a note with their message.
   */
  async read<T>(what: string, permission: string, fn: () => Promise<T>): Promise<Read<T>> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof KubeError)) throw err;
      this.note(err.status === 403 ? `${what}: ${permission} is forbidden for the action's credentials (add it to the Role)` : `${what}: ${err.message}`);
      return REFUSED;
    }
  }

  /** Runs a command in a container; undefined (with a note) when exec is refused or fails. */
  async exec(what: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult | undefined> {
    if (this.signal.aborted) {
      this.note(`${what}: the diagnosis ran out of time`);
      return undefined;
    }
    try {
      return await this.ctx.cluster.exec(this.ns, pod, container, command);
    } catch (err) {
      if (err instanceof KubeError && err.status === 403) {
        this.note(`${what}: exec is forbidden for the action's credentials (add get pods/exec to the Role)`);
      } else {
        this.note(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
      return undefined;
    }
  }

  /** The Deployment whose pod template matches `grafana-selector` (listed once). */
  grafanaDeployment(): Promise<V1Deployment | undefined> {
    this.deploymentRead ??= (async () => {
      const list = await this.read("the Grafana Deployment's pod template not checked", 'list deployments', () =>
        this.ctx.cluster.listDeployments(this.ns, this.signal),
      );
      if (list === REFUSED) return undefined;
      const found = list.find((d) => matchesSelector(d.spec?.template?.metadata?.labels, this.settings.grafanaSelector));
      if (!found) this.note(`no Deployment in ${this.ns} has a pod template labelled ${this.settings.grafanaSelector}: the pod template was not checked`);
      return found;
    })();
    return this.deploymentRead;
  }

  /** The Grafana pods (listed once). */
  grafanaPods(): Promise<Read<V1Pod[]>> {
    this.podsRead ??= this.read('the Grafana pod not checked', 'list pods', () => this.ctx.cluster.listPods(this.ns, this.settings.grafanaSelector, this.signal));
    return this.podsRead;
  }

  /** The Grafana pod the checks look at: Ready, else Running, else the first; undefined with a note when there is none. */
  async grafanaPod(): Promise<V1Pod | undefined> {
    const pods = await this.grafanaPods();
    if (pods === REFUSED) return undefined;
    const pod = pods.find(isReady) ?? pods.find((p) => p.status?.phase === 'Running') ?? pods[0];
    if (!pod) this.note(`no pod in ${this.ns} matches ${this.settings.grafanaSelector}: the running Grafana was not checked`);
    return pod;
  }

  result(): Outcome {
    return { findings: this.findings, notes: this.notes };
  }
}

function prober(fn: (p: Probe, result: CheckResult) => Promise<void>): Prober {
  return async (result, ctx) => {
    const p = new Probe(ctx);
    await fn(p, result);
    return p.result();
  };
}

// ------------------------------------------------------------------------------------------------
// Small helpers

function refText(o: ObjectRef): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

function configMapRef(s: Settings): ObjectRef {
  return { kind: 'ConfigMap', namespace: s.namespace, name: s.datasourceConfigmap };
}

function deploymentRef(ns: string, name: string): ObjectRef {
  return { kind: 'Deployment', namespace: ns, name };
}

/** The Deployment that owns a pod, from its ReplicaSet's name (`grafana-7b9c6d5f4` → `grafana`). */
function deploymentNameOf(pod: V1Pod): string | undefined {
  const rs = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  if (!rs) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (hash && rs.endsWith(`-${hash}`)) return rs.slice(0, -hash.length - 1);
  return rs.replace(/-[a-z0-9]+$/, '');
}

function restartCommand(ns: string, deployment = 'grafana'): string {
  return `kubectl rollout restart deployment/${deployment} -n ${ns}`;
}

function mountDir(s: Settings): string {
  return posix.normalize(s.datasourceMountPath).replace(/(.)\/$/, '$1');
}

function firstLine(text: string): string {
  return clip(
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? '',
    200,
  );
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function quote(text: string): string {
  return `"${clip(text.trim(), 300)}"`;
}

/** Kubernetes label selector (equality, set and existence requirements) against labels. */
export function matchesSelector(labels: Readonly<Record<string, string>> | undefined, selector: string): boolean {
  const requirements = selector.split(/,(?![^()]*\))/).map((r) => r.trim()).filter(Boolean);
  return requirements.every((req) => {
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(req);
    if (set) {
      const [, key, op, list] = set as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      const value = labels?.[key];
      return op === 'in' ? value !== undefined && values.includes(value) : value === undefined || !values.includes(value);
    }
    const eq = /^([^\s=!(),]+)\s*(==|!=|=)\s*([^\s=!(),]*)$/.exec(req);
    if (eq) {
      const [, key, op, value] = eq as unknown as [string, string, string, string];
      return op === '!=' ? labels?.[key] !== value : labels?.[key] === value;
    }
    if (req.startsWith('!')) return labels?.[req.slice(1).trim()] === undefined;
    return labels?.[req] !== undefined;
  });
}

function selectorText(selector: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// ------------------------------------------------------------------------------------------------
// The datasource in the ConfigMap, and where it is in the file

interface DatasourceEntry {
  readonly ds: ProvisionedDatasource;
  /** The ConfigMap key (file). */
  readonly file: string;
  /** Index in the file's `datasources:` list. */
  readonly index: number;
}

/** The raw `datasources:` list of a provisioning file (indexes as in the file). */
function rawDatasources(text: string): unknown[] {
  try {
    const first = parseAllDocuments(text)[0];
    if (!first || first.errors.length) return [];
    const doc: unknown = first.toJS();
    const list = doc && typeof doc === 'object' ? (doc as { datasources?: unknown }).datasources : undefined;
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function indexOfDatasource(text: string, name: string): number {
  return rawDatasources(text).findIndex((d) => d !== null && typeof d === 'object' && (d as { name?: unknown }).name === name);
}

function findEntry(data: Readonly<Record<string, string>>, name: string): DatasourceEntry | undefined {
  for (const file of parseProvisioning(data)) {
    const ds = file.datasources.find((d) => d.name === name);
    if (ds) return { ds, file: file.file, index: Math.max(0, indexOfDatasource(data[file.file] ?? '', name)) };
  }
  return undefined;
}

function entryTarget(s: Settings, entry: DatasourceEntry, key?: string): ObjectPath {
  return { object: configMapRef(s), path: ['data', entry.file], embedded: key ? ['datasources', entry.index, key] : ['datasources', entry.index] };
}

// ------------------------------------------------------------------------------------------------
// Link 1: the ConfigMap and the datasource it provisions

type ConfigMapLink = { status: 'broken' } | { status: 'refused' } | { status: 'ok'; data: Record<string, string>; entry: DatasourceEntry };

async function configMapLink(p: Probe, deploymentHint: string): Promise<ConfigMapLink> {
  const s = p.settings;
  const ref = configMapRef(s);
  const cm = await p.read(`${refText(ref)} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, s.datasourceConfigmap, p.signal));
  if (cm === REFUSED) return { status: 'refused' };
  if (!cm) {
    p.add({
      cause: `${refText(ref)} does not exist`,
      fix: `Create it with a datasources.yaml that provisions the "${s.datasourceName}" datasource (TaskFlow: kubectl apply -f 20-grafana-datasource.yaml), then ${restartCommand(p.ns, deploymentHint)}: Grafana reads provisioning files only at start-up.`,
      evidence: [`kubectl get configmap ${s.datasourceConfigmap} -n ${p.ns}: NotFound`],
      target: { object: ref, path: [] },
    });
    return { status: 'broken' };
  }
  const data = cm.data ?? {};
  const files = parseProvisioning(data);
  if (!files.length) {
    const keys = Object.keys(data);
    p.add({
      cause: `${refText(ref)} has no .yaml key (keys: ${keys.join(', ') || 'none'})`,
      fix: 'Grafana reads only *.yaml/*.yml provisioning files: name the key datasources.yaml.',
      target: { object: ref, path: keys.length === 1 ? ['data', keys[0] as string] : ['data'] },
    });
    return { status: 'broken' };
  }
  const entry = findEntry(data, s.datasourceName);
  const broken = files.find((f) => f.error && (!entry || f.file === entry.file)) ?? files.find((f) => f.error);
  if (broken?.error) {
    const defaults = /isDefault/.test(broken.error) ? files.flatMap((f) => f.datasources.filter((d) => d.isDefault)) : [];
    const extra = defaults.find((d) => d.name !== s.datasourceName) ?? defaults[1];
    const target: ObjectPath =
      extra && broken.error.includes('isDefault')
        ? { object: ref, path: ['data', extra.file], embedded: ['datasources', Math.max(0, indexOfDatasource(data[extra.file] ?? '', extra.name)), 'isDefault'] }
        : { object: ref, path: ['data', broken.file] };
    p.add({
      cause: `${refText(ref)}: ${broken.error}`,
      fix: extra
        ? `Keep isDefault: true on one datasource only (remove it from "${extra.name}"), then ${restartCommand(p.ns, deploymentHint)}.`
        : `Fix ${broken.file} (Grafana refuses the whole provisioning when a file is invalid), then ${restartCommand(p.ns, deploymentHint)}.`,
      target,
    });
    return { status: 'broken' };
  }
  if (!entry) {
    const all = files.flatMap((f) => f.datasources);
    const only = all.length === 1 ? findEntry(data, all[0]?.name ?? '') : undefined;
    p.add({
      cause: `${refText(ref)} provisions no datasource named "${s.datasourceName}" (it has: ${all.map((d) => `"${d.name}"`).join(', ') || 'none'})`,
      fix: `Name the Prometheus datasource "${s.datasourceName}" in ${refText(ref)} (or set the datasource-name input), then ${restartCommand(p.ns, deploymentHint)}.`,
      target: only ? entryTarget(s, only, 'name') : { object: ref, path: ['data', files[0]?.file ?? 'datasources.yaml'] },
    });
    return { status: 'broken' };
  }
  if (entry.ds.type !== 'prometheus') {
    p.add({
      cause: `datasource "${entry.ds.name}" in ${refText(ref)} has type "${entry.ds.type}", not prometheus`,
      fix: `Set type: prometheus on it, then ${restartCommand(p.ns, deploymentHint)}.`,
      target: entryTarget(s, entry, 'type'),
    });
    return { status: 'broken' };
  }
  return { status: 'ok', data, entry };
}

// ------------------------------------------------------------------------------------------------
// Links 2 and 3: the Deployment's pod template and the running pod mount the ConfigMap

interface MountState {
  readonly status: 'mounted' | 'elsewhere' | 'other-configmap' | 'none';
  /** Index of the container that mounts (or should mount) the ConfigMap. */
  readonly container: number;
  readonly containerName: string;
  readonly mount?: number;
  readonly volume?: number;
  readonly volumeName: string;
  readonly where?: string;
  readonly otherConfigMap?: string;
}

/** How a pod spec mounts the ConfigMap relative to the mount directory. */
function mountState(spec: V1PodSpec | undefined, configMap: string, dir: string): MountState {
  const containers = spec?.containers ?? [];
  const volumes = spec?.volumes ?? [];
  const fromCm = new Set(volumes.filter((v) => v.configMap?.name === configMap).map((v) => v.name));
  const inDir = (mountPath: string, subPath?: string): boolean => {
    const path = posix.normalize(mountPath).replace(/(.)\/$/, '$1');
    return subPath ? posix.dirname(path) === dir : path === dir;
  };
  const fallback = Math.max(0, containers.findIndex((c) => c.name === 'grafana'));
  const volumeName = volumes.find((v) => v.configMap?.name === configMap)?.name ?? configMap;
  const base = (container: number) => ({ container, containerName: containers[container]?.name ?? 'grafana', volumeName });
  let elsewhere: MountState | undefined;
  for (const [ci, c] of containers.entries()) {
    for (const [mi, m] of (c.volumeMounts ?? []).entries()) {
      if (!fromCm.has(m.name)) continue;
      if (inDir(m.mountPath, m.subPath)) return { status: 'mounted', ...base(ci), mount: mi, volumeName: m.name };
      elsewhere ??= { status: 'elsewhere', ...base(ci), mount: mi, volumeName: m.name, where: m.mountPath };
    }
  }
  if (elsewhere) return elsewhere;
  for (const [ci, c] of containers.entries()) {
    for (const [mi, m] of (c.volumeMounts ?? []).entries()) {
      if (!inDir(m.mountPath, m.subPath)) continue;
      const vi = volumes.findIndex((v) => v.name === m.name);
      const other = volumes[vi]?.configMap?.name;
      if (other) return { status: 'other-configmap', ...base(ci), mount: mi, volume: vi, volumeName: m.name, otherConfigMap: other };
    }
  }
  return { status: 'none', ...base(fallback) };
}

/** The Deployment's pod template: a finding when it does not mount the ConfigMap at the directory. */
function templateFinding(p: Probe, dep: V1Deployment, state: MountState): Finding | undefined {
  const s = p.settings;
  const dir = mountDir(s);
  const depRef = deploymentRef(p.ns, dep.metadata?.name ?? 'grafana');
  const c = state.container;
  const restart = 'kubectl apply it; the Deployment then replaces the pod and Grafana provisions the datasource at start-up';
  switch (state.status) {
    case 'mounted':
      return undefined;
    case 'elsewhere':
      return {
        cause: `${refText(depRef)} mounts ConfigMap ${s.datasourceConfigmap} at ${state.where}, not at ${dir}`,
        fix: `Set mountPath: ${dir} on that volumeMount of container ${state.containerName} (Grafana provisions datasources only from that directory), then ${restart}.`,
        target: { object: depRef, path: [...TEMPLATE_CONTAINERS, c, 'volumeMounts', state.mount ?? 0, 'mountPath'] },
      };
    case 'other-configmap':
      return {
        cause: `${refText(depRef)} mounts ConfigMap ${state.otherConfigMap} at ${dir}, not ${s.datasourceConfigmap}`,
        fix: `Set configMap.name: ${s.datasourceConfigmap} on volume ${state.volumeName} (or set the datasource-configmap input to ${state.otherConfigMap}), then ${restart}.`,
        target: { object: depRef, path: ['spec', 'template', 'spec', 'volumes', state.volume ?? 0, 'configMap', 'name'] },
      };
    case 'none': {
      const hasVolume = (dep.spec?.template?.spec?.volumes ?? []).some((v) => v.configMap?.name === s.datasourceConfigmap);
      return {
        cause: `${refText(depRef)} does not mount ConfigMap ${s.datasourceConfigmap} at ${dir}`,
        fix:
          `Add to container ${state.containerName}'s volumeMounts: {name: ${state.volumeName}, mountPath: ${dir}, readOnly: true}` +
          (hasVolume ? '' : `, and to the pod template's volumes: {name: ${state.volumeName}, configMap: {name: ${s.datasourceConfigmap}}}`) +
          `; then ${restart}.`,
        target: { object: depRef, path: [...TEMPLATE_CONTAINERS, c, 'volumeMounts'] },
      };
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Grafana's log: provisioning errors

interface LogVerdict {
  /** The provisioning error lines (evidence). */
  readonly errors: string[];
  /** The error text of the most telling line (`error="…"`, else `msg="…"`). */
  readonly error?: string;
  /** `inserting datasource from configuration … name=<datasource-name>` lines. */
  readonly inserted: string[];
}

function logfmtValue(line: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(line);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\"/g, '"').replace(/\\\\/g, '\\') : m[2];
}

const ERROR_LEVEL = /(?:^|\s)level=(?:error|eror|crit|fatal)\b/i;

/** Reads Grafana's log for provisioning errors (logfmt, as Grafana 10–12 writes it). */
export function provisioningLog(log: string, datasourceName: string): LogVerdict {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter(
    (l) => (/logger=provisioning/.test(l) && ERROR_LEVEL.test(l)) || /Failed to provision/i.test(l) || /provisioning error/i.test(l) || (ERROR_LEVEL.test(l) && /datasource/i.test(l)),
  );
  const telling = errors.find((l) => /Failed to provision|provisioning error/i.test(l)) ?? errors[0];
  const error = telling ? (logfmtValue(telling, 'error') ?? logfmtValue(telling, 'msg') ?? telling) : undefined;
  const inserted = lines.filter((l) => /inserting datasource from configuration/i.test(l) && logfmtValue(l, 'name') === datasourceName);
  return { errors, ...(error ? { error: error.replace(/^\*?provisioning\.ProvisioningServiceImpl run error: /, '') } : {}), inserted };
}

/** A finding for a provisioning error Grafana logged: the cause in Grafana's words, with its fix. */
function provisioningErrorFinding(p: Probe, verdict: LogVerdict, entry: DatasourceEntry | undefined, where: string, deploymentName: string): Finding {
  const s = p.settings;
  const error = verdict.error ?? '';
  const restart = restartCommand(p.ns, deploymentName);
  const ref = configMapRef(s);
  let fix: string;
  let target: ObjectPath | undefined;
  if (/only one datasource per organization can be marked as default/i.test(error)) {
    fix = `Keep isDefault: true on one datasource only, across every provisioning file in ${mountDir(s)}, then ${restart}.`;
    target = entry?.ds.isDefault ? entryTarget(s, entry, 'isDefault') : entry ? entryTarget(s, entry) : { object: ref, path: [] };
  } else if (/yaml|unmarshal|parse|invalid/i.test(error)) {
    fix = `Fix the provisioning file as the error says, then ${restart}.`;
    target = entry ? { object: ref, path: ['data', entry.file] } : { object: ref, path: [] };
  } else {
    fix = `Fix what the error says in the provisioning files of ${mountDir(s)} (${refText(ref)}), then ${restart}.`;
    target = entry ? { object: ref, path: ['data', entry.file] } : undefined;
  }
  return {
    cause: `Grafana failed to provision its datasources: ${clip(error, 300)}`,
    fix,
    evidence: verdict.errors.slice(-MAX_EVIDENCE).map((l) => `${where}: ${clip(l, 300)}`),
    ...(target ? { target } : {}),
  };
}

// ------------------------------------------------------------------------------------------------
// The chain: no such datasource in Grafana (and the datasource-configmap / datasource-mounted failures)

type ChainMode = 'configmap' | 'mounted' | 'listed';

async function provisioningChain(p: Probe, mode: ChainMode): Promise<void> {
  const s = p.settings;
  const dir = mountDir(s);
  const depName = async () => (await p.grafanaDeployment())?.metadata?.name ?? 'grafana';

  // 1. The ConfigMap, and the datasource it provisions.
  const cmLink = await configMapLink(p, mode === 'configmap' ? 'grafana' : await depName());
  if (cmLink.status === 'broken') return;
  if (mode === 'configmap') {
    if (cmLink.status === 'ok') await configMapUrlLink(p, cmLink.entry);
    return;
  }
  const entry = cmLink.status === 'ok' ? cmLink.entry : undefined;
  const data = cmLink.status === 'ok' ? cmLink.data : undefined;

  // 2. The Deployment's pod template mounts it.
  const dep = await p.grafanaDeployment();
  const template = dep ? mountState(dep.spec?.template?.spec, s.datasourceConfigmap, dir) : undefined;
  if (dep && template) {
    const f = templateFinding(p, dep, template);
    if (f) {
      p.add(f);
      return;
    }
  }

  // 3. The running pod mounts it.
  const pod = await p.grafanaPod();
  if (!pod) return;
  const podName = pod.metadata?.name ?? '?';
  const deployment = dep?.metadata?.name ?? deploymentNameOf(pod) ?? 'grafana';
  const depRef = deploymentRef(p.ns, deployment);
  const state = mountState(pod.spec, s.datasourceConfigmap, dir);
  if (state.status !== 'mounted') {
    if (template?.status === 'mounted') {
      p.add({
        cause: `pod ${podName} does not mount ConfigMap ${s.datasourceConfigmap} at ${dir}, although ${refText(depRef)}'s pod template does`,
        fix: `The pod predates the change: ${restartCommand(p.ns, deployment)} (if no new pod comes up, kubectl rollout status deployment/${deployment} -n ${p.ns} says why).`,
        evidence: [`pod ${podName} created ${pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).toISOString() : 'at an unknown time'}`],
      });
    } else {
      const f = templateFinding(p, { metadata: { name: deployment }, spec: { selector: {}, template: { spec: pod.spec } } }, state);
      if (f) p.add({ ...f, cause: `pod ${podName} does not mount ConfigMap ${s.datasourceConfigmap} at ${dir}`, evidence: [`the pod's spec (${refText(depRef)}'s template was not read)`] });
    }
    return;
  }
  const containerName = state.containerName;

  // 4. The container sees the file, as in the ConfigMap.
  if (pod.status?.phase !== 'Running') {
    p.note(`the file inside the container not checked: pod ${podName} is ${pod.status?.phase ?? 'not running'}`);
  } else if (data) {
    const files = filesInDir(pod.spec, s.datasourceConfigmap, dir, Object.keys(data).filter((k) => /\.ya?ml$/i.test(k)));
    for (const file of files) {
      const res = await p.exec('the file inside the container not checked', podName, file.container, ['cat', file.path]);
      if (!res) break;
      if (res.exitCode !== 0) {
        p.add({
          cause: `${file.path} does not exist in pod ${podName}, although its spec mounts ConfigMap ${s.datasourceConfigmap} there`,
          fix: `Recreate the pod so the kubelet mounts the volume again: ${restartCommand(p.ns, deployment)}.`,
          evidence: [`cat ${file.path}: ${firstLine(res.stderr) || `exit code ${res.exitCode}`}`],
        });
        return;
      }
      const expected = data[file.key] ?? '';
      if (res.stdout.trim() !== expected.trim()) {
        p.add({
          cause: `${file.path} in pod ${podName} differs from key ${file.key} of ${refText(configMapRef(s))}`,
          fix: `The pod sees an older version of the ConfigMap (the kubelet syncs it within about a minute, never for subPath mounts) and Grafana provisions only at start-up: ${restartCommand(p.ns, deployment)}.`,
          evidence: firstDifference(res.stdout, expected),
        });
        return;
      }
    }
  } else {
    p.note(`the file inside the container not compared: ${refText(configMapRef(s))} could not be read`);
  }

  // 5. Grafana's log: did provisioning fail?
  const log = await p.read("Grafana's logs not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, containerName, LOG_LINES, false, p.signal));
  const verdict = log === REFUSED ? undefined : provisioningLog(log, s.datasourceName);
  if (verdict?.errors.length) {
    p.add(provisioningErrorFinding(p, verdict, entry, `pod ${podName}`, deployment));
    return;
  }
  if (mode !== 'listed') return;

  // 6. Everything is in place but Grafana does not list it.
  const evidence = [
    `pod ${podName} mounts ConfigMap ${s.datasourceConfigmap} at ${dir}`,
    ...(verdict ? [verdict.inserted.length ? `pod ${podName}: ${clip(verdict.inserted[verdict.inserted.length - 1] ?? '', 300)}` : `no provisioning error in the last ${LOG_LINES} lines of Grafana's log`] : []),
  ];
  if (verdict?.inserted.length) {
    p.add({
      cause: `Grafana provisioned "${s.datasourceName}" at start-up but does not list it to ${p.ctx.grafana.credential}`,
      fix: `Check the datasource's orgId in the provisioning file (the API lists only the current organization's datasources) and that this user or service account may read datasources (datasources:read).`,
      evidence,
      ...(entry ? { target: entryTarget(s, entry) } : {}),
    });
    return;
  }
  p.add({
    cause: `Grafana does not list "${s.datasourceName}" although pod ${podName} sees the provisioning file that defines it`,
    fix: `Grafana reads provisioning files only at start-up: ${restartCommand(p.ns, deployment)}.`,
    evidence,
  });
}

interface FileInPod {
  readonly container: string;
  readonly path: string;
  readonly key: string;
}

/** The provisioning files a pod spec puts into the mount directory, per ConfigMap key. */
function filesInDir(spec: V1PodSpec | undefined, configMap: string, dir: string, keys: readonly string[]): FileInPod[] {
  const files: FileInPod[] = [];
  for (const volume of (spec?.volumes ?? []).filter((v) => v.configMap?.name === configMap)) {
    const items = volume.configMap?.items;
    const entries = items?.length ? items.map((i) => ({ key: i.key, path: i.path })) : keys.map((k) => ({ key: k, path: k }));
    for (const c of spec?.containers ?? []) {
      for (const m of c.volumeMounts ?? []) {
        if (m.name !== volume.name) continue;
        const chosen = m.subPath ? entries.filter((e) => e.path === m.subPath).map((e) => ({ ...e, full: m.mountPath })) : entries.map((e) => ({ ...e, full: posix.join(m.mountPath, e.path) }));
        for (const e of chosen) {
          if (posix.dirname(e.full) === dir && /\.ya?ml$/i.test(e.full) && keys.includes(e.key)) files.push({ container: c.name, path: e.full, key: e.key });
        }
      }
    }
  }
  return files;
}

/** The first line that differs between the file in the pod and the ConfigMap's key. */
function firstDifference(inPod: string, inConfigMap: string): string[] {
  const a = inPod.split('\n');
  const b = inConfigMap.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? '').trimEnd() !== (b[i] ?? '').trimEnd()) {
      return [`line ${i + 1} in the pod: ${quote(a[i] ?? '(end of file)')}`, `line ${i + 1} in the ConfigMap: ${quote(b[i] ?? '(end of file)')}`];
    }
  }
  return [];
}

// ------------------------------------------------------------------------------------------------
// The datasource URL → Service → port → endpoints (datasource-configmap, health and query errors)

/** The URL check of `datasource-configmap`: the expected URL, then its Service and port. */
async function configMapUrlLink(p: Probe, entry: DatasourceEntry): Promise<void> {
  const s = p.settings;
  const ref = configMapRef(s);
  if (!sameUrl(entry.ds.url, s.datasourceUrl, p.ns)) {
    p.add({
      cause: `datasource "${entry.ds.name}" in ${refText(ref)} has url ${withoutCredentials(entry.ds.url) || '(none)'}, not ${s.datasourceUrl}`,
      fix: `Set url: ${s.datasourceUrl} (or set the datasource-url input if ${withoutCredentials(entry.ds.url)} is intended), then ${restartCommand(p.ns)}.`,
      target: entryTarget(s, entry, 'url'),
    });
    return;
  }
  await serviceLink(p, entry.ds.url, entryTarget(s, entry, 'url'));
}

/** Strips user information from a URL: it is quoted in findings and run inside the pod. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/**
 * The Service the URL names exists, exposes the port, and has ready endpoints whose pods declare
 * the target port. Adds a finding and returns true when a link is broken.
 */
async function serviceLink(p: Probe, url: string, urlTarget: ObjectPath | undefined): Promise<boolean> {
  const s = p.settings;
  const t = serviceTargetOf(url, p.ns);
  if (!t) {
    p.note(`the datasource url ${url} does not name a cluster Service: the Service, its port and endpoints were not checked`);
    return false;
  }
  const host = new URL(url).hostname;
  const svcRef: ObjectRef = { kind: 'Service', namespace: t.namespace, name: t.service };
  const svc = await p.read(`${refText(svcRef)} not read`, 'get services', () => p.ctx.cluster.readService(t.namespace, t.service, p.signal));
  if (svc === REFUSED) return false;
  const expected = serviceTargetOf(s.datasourceUrl, p.ns);
  if (!svc) {
    const isExpected = expected && expected.service === t.service && expected.namespace === t.namespace;
    let evidence: string[] = [`kubectl get svc ${t.service} -n ${t.namespace}: NotFound`];
    if (!isExpected && expected) {
      const prom = await p.read(`Service ${expected.namespace}/${expected.service} not read`, 'get services', () => p.ctx.cluster.readService(expected.namespace, expected.service, p.signal));
      if (prom && prom !== REFUSED) evidence = [...evidence, `Service ${expected.namespace}/${expected.service} exists (ports: ${portsText(prom)})`];
    }
    p.add(
      isExpected
        ? {
            cause: `the datasource url's host ${host} names Service ${t.namespace}/${t.service}, which does not exist`,
            fix: `Create the Prometheus Service (TaskFlow: kubectl apply -f 15-prometheus-deployment.yaml), or set the prometheus-service input to the Service that exists.`,
            evidence,
            target: { object: svcRef, path: [] },
          }
        : {
            cause: `the datasource url's host ${host} names Service ${t.namespace}/${t.service}, which does not exist`,
            fix: `Point the url at the Prometheus Service: url: ${s.datasourceUrl} in ${refText(configMapRef(s))}, then ${restartCommand(p.ns)}.`,
            evidence,
            ...(urlTarget ? { target: urlTarget } : {}),
          },
    );
    return true;
  }
  const sp = svc.spec?.ports?.find((port) => port.port === t.port);
  if (!sp) {
    const first = svc.spec?.ports?.[0]?.port ?? 9090;
    const fixed = new URL(url);
    fixed.port = String(first);
    p.add({
      cause: `the datasource url ${withoutCredentials(url)} uses port ${t.port}, but ${refText(svcRef)} exposes only ${portsText(svc)}`,
      fix: `Use the Service's port in the url: ${withoutCredentials(fixed.toString()).replace(/\/$/, '')}, then ${restartCommand(p.ns)}.`,
      evidence: [`kubectl get svc ${t.service} -n ${t.namespace}: ports ${portsText(svc)}`],
      ...(urlTarget ? { target: urlTarget } : {}),
    });
    return true;
  }
  const eps = await p.read(`the endpoints of ${refText(svcRef)} not read`, 'get endpoints', () => p.ctx.cluster.readEndpoints(t.namespace, t.service, p.signal));
  if (eps === REFUSED) return false;
  const ready = (eps?.subsets ?? []).flatMap((sub) => sub.addresses ?? []);
  const selector = selectorText(svc.spec?.selector);
  if (ready.length) return targetPortLink(p, svc, svcRef, sp, selector);
  const notReady = (eps?.subsets ?? []).flatMap((sub) => sub.notReadyAddresses ?? []);
  if (!selector) {
    p.add({
      cause: `${refText(svcRef)} has no ready endpoints and no selector`,
      fix: 'Give the Service a selector matching the Prometheus pod (e.g. app: prometheus), or list the pod in its Endpoints.',
      target: { object: svcRef, path: ['spec'] },
    });
    return true;
  }
  const pods = await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.ctx.cluster.listPods(t.namespace, selector, p.signal));
  if (pods !== REFUSED && !pods.length) {
    p.add({
      cause: `${refText(svcRef)} selects ${selector}, which no pod in ${t.namespace} matches`,
      fix: `Make the Service's selector match the Prometheus pod's labels (kubectl get pods -n ${t.namespace} --show-labels).`,
      target: { object: svcRef, path: ['spec', 'selector'] },
    });
    return true;
  }
  p.add({
    cause: `${refText(svcRef)} has no ready endpoints: no pod matching ${selector} is Ready`,
    fix: `Get Prometheus Running and Ready (kubectl describe pod -n ${t.namespace} -l ${selector}; kubectl logs -n ${t.namespace} -l ${selector}): the Service sends traffic only to Ready pods.`,
    evidence: [
      ...(pods === REFUSED ? [] : pods.slice(0, 3).map((pod) => describePod(pod))),
      ...(notReady.length ? [`not ready addresses: ${notReady.map((a) => `${a.ip}${a.targetRef?.name ? ` (${a.targetRef.name})` : ''}`).join(', ')}`] : []),
    ],
  });
  return true;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

function portsText(svc: V1Service): string {
  const ports = svc.spec?.ports ?? [];
  return ports.map((port) => `${port.port}${port.name ? ` (${port.name})` : ''}`).join(', ') || 'none';
}

/** A numeric targetPort that no selected pod declares: traffic reaches the pod on a port nothing listens on. */
async function targetPortLink(p: Probe, svc: V1Service, svcRef: ObjectRef, sp: NonNullable<NonNullable<V1Service['spec']>['ports']>[number], selector: string): Promise<boolean> {
  const targetPort = sp.targetPort ?? sp.port;
  if (typeof targetPort !== 'number' && !/^\d+$/.test(String(targetPort))) return false;
  const port = Number(targetPort);
  if (!selector) return false;
  const pods = await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.ctx.cluster.listPods(svcRef.namespace ?? p.ns, selector, p.signal));
  if (pods === REFUSED) return false;
  const pod = pods.find(isReady);
  const declared = (pod?.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  if (!pod || !declared.length || declared.some((d) => d.containerPort === port)) return false;
  const index = (svc.spec?.ports ?? []).indexOf(sp);
  p.add({
    cause: `${refText(svcRef)} forwards port ${sp.port} to targetPort ${port}, which pod ${pod.metadata?.name} does not declare (its container ports: ${declared.map((d) => `${d.containerPort}${d.name ? ` (${d.name})` : ''}`).join(', ')})`,
    fix: `Set targetPort on the Service's port ${sp.port} to the Prometheus container's port (${declared[0]?.name ?? declared[0]?.containerPort}).`,
    target: { object: svcRef, path: ['spec', 'ports', Math.max(0, index), 'targetPort'] },
  });
  return true;
}

/** The datasource URL Grafana uses, and where it is in the ConfigMap. */
async function datasourceUrl(p: Probe, result: CheckResult): Promise<{ url?: string; entry?: DatasourceEntry; grafanaUrl?: string }> {
  const s = p.settings;
  let grafanaUrl: string | undefined;
  try {
    grafanaUrl = (await p.ctx.grafana.datasources(p.signal)).find((d) => d.name === s.datasourceName)?.url || undefined;
  } catch {
    // Grafana's list is the best source but not the only one.
  }
  const cm = await p.read(`${refText(configMapRef(s))} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, s.datasourceConfigmap, p.signal));
  const entry = cm && cm !== REFUSED ? findEntry(cm.data ?? {}, s.datasourceName) : undefined;
  const fromMessage = /"(https?:\/\/[^"\s]+?)\/api\/v1\/[^"\s]*"/.exec(result.summary)?.[1];
  return { url: grafanaUrl ?? entry?.ds.url ?? fromMessage, entry, grafanaUrl };
}

/** The seed guide's probes from the Grafana pod: `nslookup <host>`, `wget <url>/api/v1/query?query=up`. */
async function fromGrafanaPod(p: Probe, url: string): Promise<{ pod?: string; lookup?: ExecResult; fetch?: ExecResult; lookupLine?: string; fetchLine?: string }> {
  const pod = await p.grafanaPod();
  if (!pod?.metadata?.name) return {};
  const podName = pod.metadata.name;
  if (pod.status?.phase !== 'Running') {
    p.note(`the datasource url not tested from the Grafana pod: pod ${podName} is ${pod.status?.phase ?? 'not running'}`);
    return {};
  }
  const containers = pod.spec?.containers ?? [];
  const container = (containers.find((c) => c.name === 'grafana') ?? containers[0])?.name ?? 'grafana';
  const safe = trimTrailingSlashes(withoutCredentials(url));
  const host = hostOf(safe);
  if (!host) {
    p.note(`the datasource url ${safe} has no host name: it was not tested from the Grafana pod`);
    return {};
  }
  const what = 'the datasource url not tested from the Grafana pod (nslookup, wget)';
  const lookup = await p.exec(what, podName, container, ['nslookup', host]);
  if (!lookup) return { pod: podName };
  const fetch = await p.exec(what, podName, container, ['wget', '-q', '-T', String(WGET_TIMEOUT_S), '-O', '-', `${safe}/api/v1/query?query=up`]);
  return {
    pod: podName,
    lookup,
    lookupLine: `nslookup ${host} (pod ${podName}): ${nslookupLine(lookup)}`,
    ...(fetch ? { fetch, fetchLine: `wget ${safe}/api/v1/query?query=up (pod ${podName}): ${fetch.exitCode === 0 ? clip(firstLine(fetch.stdout), 160) || 'empty answer' : firstLine(fetch.stderr || fetch.stdout) || `exit code ${fetch.exitCode}`}` } : {}),
  };
}

function nslookupFailed(r: ExecResult): boolean {
  return r.exitCode !== 0 || /can't find|NXDOMAIN|server can't|connection timed out|no servers could be reached/i.test(r.stdout + r.stderr);
}

/** The telling line of nslookup's output: its failure, else the address it found. */
function nslookupLine(r: ExecResult): string {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean);
  if (nslookupFailed(r)) return clip(lines.find((l) => /can't|NXDOMAIN|timed out|not found|error|no servers/i.test(l)) ?? lines[0] ?? `exit code ${r.exitCode}`, 200);
  const name = lines.findIndex((l) => /^Name:/i.test(l));
  const address = name >= 0 ? lines.slice(name + 1).find((l) => /^Address/i.test(l)) : undefined;
  return clip(address ?? lines[0] ?? 'resolved', 200);
}

/** `grafana-datasource-health` and `grafana-query` errors: why Grafana cannot reach Prometheus. */
async function connectionChain(p: Probe, result: CheckResult): Promise<void> {
  const s = p.settings;
  const { url, entry, grafanaUrl } = await datasourceUrl(p, result);
  if (!url) {
    p.note(`the datasource url is unknown (Grafana's list and ${refText(configMapRef(s))} could not be read): the connection was not probed`);
    return;
  }
  const urlTarget = entry ? entryTarget(s, entry, 'url') : undefined;
  if (!/^https?:\/\/[^/]/i.test(url)) {
    p.add({
      cause: `the datasource url ${withoutCredentials(url)} does not start with http:// or https://`,
      fix: `Set url: ${s.datasourceUrl} in ${refText(configMapRef(s))}, then ${restartCommand(p.ns)}.`,
      ...(urlTarget ? { target: urlTarget } : {}),
    });
    return;
  }
  const stale = grafanaUrl && entry && !sameUrl(grafanaUrl, entry.ds.url, p.ns) ? `Grafana uses url ${withoutCredentials(grafanaUrl)}; ${refText(configMapRef(s))} now says ${withoutCredentials(entry.ds.url)}` : undefined;
  const before = p.findings.length;
  const broken = await serviceLink(p, url, urlTarget);
  const probe = await fromGrafanaPod(p, url);
  const seen = [probe.lookupLine, probe.fetchLine, stale].filter((e): e is string => Boolean(e));
  if (broken) {
    const f = p.findings[before];
    if (f) p.findings[before] = { ...f, evidence: [...(f.evidence ?? []), ...seen].slice(0, MAX_EVIDENCE) };
    return;
  }
  const safe = withoutCredentials(url);
  const host = hostOf(safe) ?? safe;
  const restart = restartCommand(p.ns);
  if (probe.lookup && nslookupFailed(probe.lookup)) {
    const t = serviceTargetOf(url, p.ns);
    p.add(
      t
        ? {
            cause: `pod ${probe.pod} cannot resolve ${host}, although Service ${t.namespace}/${t.service} exists`,
            fix: `Cluster DNS does not answer the Grafana pod: check CoreDNS (kubectl get pods -n kube-system -l k8s-app=kube-dns), NetworkPolicies that block egress to port 53, and the pod's dnsPolicy.`,
            evidence: seen,
          }
        : {
            cause: `pod ${probe.pod} cannot resolve ${host}, the datasource url's host`,
            fix: `Point the url at the Prometheus Service: url: ${s.datasourceUrl}, then ${restart}.`,
            evidence: seen,
            ...(urlTarget ? { target: urlTarget } : {}),
          },
    );
    return;
  }
  if (probe.fetch && probe.fetch.exitCode !== 0) {
    const text = `${probe.fetch.stderr}\n${probe.fetch.stdout}`;
    const fix = /refused/i.test(text)
      ? `Nothing listens there: check the Service's targetPort against the Prometheus container port and Prometheus's --web.listen-address.`
      : /timed out|timeout/i.test(text)
        ? 'The connection times out: check NetworkPolicies between the Grafana and Prometheus pods (ingress to Prometheus, egress from Grafana).'
        : `Prometheus answers with an error: check its logs (kubectl logs -n ${p.ns} -l ${s.prometheusSelector}) and any path prefix (--web.route-prefix) the url must carry.`;
    p.add({ cause: `Prometheus does not answer ${safe} from pod ${probe.pod}: ${firstLine(probe.fetch.stderr || probe.fetch.stdout) || `exit code ${probe.fetch.exitCode}`}`, fix, evidence: seen });
    return;
  }
  if (stale) {
    p.add({
      cause: `Grafana still uses the datasource url ${withoutCredentials(grafanaUrl ?? '')}, not the ${withoutCredentials(entry?.ds.url ?? '')} that ${refText(configMapRef(s))} now gives`,
      fix: `Grafana reads provisioning files only at start-up: ${restart}.`,
      evidence: seen,
    });
    return;
  }
  if (probe.fetch) {
    p.add({
      cause: `Prometheus answers ${safe} from pod ${probe.pod}, yet Grafana's request to it fails`,
      fix: "The network path works: check the datasource's other settings in Grafana (authentication, TLS, HTTP method, a custom query path), an HTTP_PROXY/HTTPS_PROXY in Grafana's environment, and run the check again in case the failure was transient.",
      evidence: seen,
    });
  }
}

// ------------------------------------------------------------------------------------------------
// Grafana rejected the credentials (401) or the permission (403)

function authStatus(result: CheckResult): 401 | 403 | undefined {
  if (/HTTP 401 — Grafana rejected/.test(result.summary)) return 401;
  if (/HTTP 403 — Grafana accepted/.test(result.summary)) return 403;
  return undefined;
}

/** Grafana's own message, the parenthesis after the credential in the GrafanaAuthError message. */
function authMessage(summary: string, credential: string): string {
  const at = summary.indexOf(credential);
  const rest = at >= 0 ? summary.slice(at + credential.length) : summary;
  return /\(([^()]*)\)\s*$/.exec(rest)?.[1] ?? '';
}

function envIndex(c: V1Container | undefined, name: string): number {
  return (c?.env ?? []).findIndex((e) => e.name === name);
}

async function authProbe(p: Probe, result: CheckResult, status: 401 | 403): Promise<void> {
  const s = p.settings;
  const grafana = p.ctx.grafana;
  const credential = grafana.credential;
  const message = authMessage(result.summary, credential);
  const http = `HTTP ${status}${message ? `: ${message}` : ''}`;
  if (status === 403) {
    p.add({
      cause: `Grafana accepted ${credential} but refused the request (${http})`,
      fix: `Give that ${grafana.auth.kind === 'token' ? 'service account' : 'user'} the Admin role in Grafana, or at least datasources:read and datasources:query on "${s.datasourceName}" (Administration → ${grafana.auth.kind === 'token' ? 'Service accounts' : 'Users'}).`,
      evidence: [clip(result.summary, 300)],
    });
    return;
  }
  if (grafana.auth.kind === 'none') {
    p.add({
      cause: `Grafana's API refused a request without credentials (${http})`,
      fix: 'Set the grafana-password input (the admin password, from a repository secret) or the grafana-token input.',
      evidence: [clip(result.summary, 300)],
    });
    return;
  }
  if (grafana.auth.kind === 'token') {
    p.add({
      cause: `Grafana rejected the grafana-token (${http})`,
      fix: 'The token is invalid, expired or revoked, or belongs to another Grafana: create a new service-account token (Administration → Service accounts) and update the secret behind the grafana-token input.',
      evidence: [clip(result.summary, 300)],
    });
    return;
  }
  const user = grafana.auth.user;
  const cause = `Grafana rejected ${credential} (${http})`;
  const dep = await p.grafanaDeployment();
  if (!dep) {
    p.add({
      cause,
      fix: `Set the grafana-password input to Grafana's admin password: the value the Grafana Deployment gives GF_SECURITY_ADMIN_PASSWORD, or the password set in Grafana since.`,
      evidence: [clip(result.summary, 300)],
    });
    return;
  }
  const depRef = deploymentRef(p.ns, dep.metadata?.name ?? 'grafana');
  const containers = dep.spec?.template?.spec?.containers ?? [];
  const ci = Math.max(0, containers.findIndex((c) => c.name === 'grafana' || (c.env ?? []).some((e) => e.name.startsWith('GF_SECURITY_ADMIN_'))));
  const container = containers[ci];
  const base = [...TEMPLATE_CONTAINERS, ci];

  // The user name first: a different admin user explains the refusal whatever the password.
  const ui = envIndex(container, 'GF_SECURITY_ADMIN_USER');
  const userEnv = container?.env?.[ui];
  if (userEnv?.value !== undefined && userEnv.value !== user) {
    p.add({
      cause: `${cause}: ${refText(depRef)} sets GF_SECURITY_ADMIN_USER to "${userEnv.value}", not "${user}"`,
      fix: `Set the grafana-username input to "${userEnv.value}" (or change GF_SECURITY_ADMIN_USER).`,
      evidence: [`${refText(depRef)}, container ${container?.name}: GF_SECURITY_ADMIN_USER=${userEnv.value}`],
      target: { object: depRef, path: [...base, 'env', ui] },
    });
    return;
  }
  const pi = envIndex(container, 'GF_SECURITY_ADMIN_PASSWORD');
  const fi = envIndex(container, 'GF_SECURITY_ADMIN_PASSWORD__FILE');
  const passwordEnv = container?.env?.[pi];
  const firstStart = 'Grafana applies it only when it creates the admin user, on its first start with an empty database: if the password was changed in Grafana since, use that one.';
  const ref = passwordEnv?.valueFrom?.secretKeyRef;
  if (ref?.name) {
    const secret = `Secret ${p.ns}/${ref.name} key ${ref.key}`;
    p.add({
      cause,
      fix: `Set the grafana-password input to the value of ${secret} (kubectl get secret ${ref.name} -n ${p.ns} -o jsonpath='{.data.${ref.key}}' | base64 -d), which ${refText(depRef)} gives Grafana as GF_SECURITY_ADMIN_PASSWORD. ${firstStart}`,
      evidence: [`${refText(depRef)}, container ${container?.name}: GF_SECURITY_ADMIN_PASSWORD from ${secret}`],
      target: { object: depRef, path: [...base, 'env', pi] },
    });
    return;
  }
  if (passwordEnv) {
    p.add({
      cause,
      fix: `Set the grafana-password input to the GF_SECURITY_ADMIN_PASSWORD that ${refText(depRef)} sets in container ${container?.name} (better: move it to a Secret and use valueFrom.secretKeyRef). ${firstStart}`,
      evidence: [`${refText(depRef)}, container ${container?.name}: GF_SECURITY_ADMIN_PASSWORD set ${passwordEnv.valueFrom ? 'from a reference' : 'inline'}`],
      target: { object: depRef, path: [...base, 'env', pi] },
    });
    return;
  }
  if (fi >= 0) {
    p.add({
      cause,
      fix: `Set the grafana-password input to the content of the file GF_SECURITY_ADMIN_PASSWORD__FILE names in ${refText(depRef)}. ${firstStart}`,
      target: { object: depRef, path: [...base, 'env', fi] },
    });
    return;
  }
  const fromSecrets = (container?.envFrom ?? []).map((e) => e.secretRef?.name).filter(Boolean);
  p.add({
    cause,
    fix: fromSecrets.length
      ? `Set the grafana-password input to GF_SECURITY_ADMIN_PASSWORD from Secret ${p.ns}/${fromSecrets[0]} (envFrom of ${refText(depRef)}). ${firstStart}`
      : `${refText(depRef)} sets no GF_SECURITY_ADMIN_PASSWORD, so Grafana's admin password is "admin" unless it was changed in Grafana: set the grafana-password input to it, or set GF_SECURITY_ADMIN_PASSWORD from a Secret.`,
    evidence: [`${refText(depRef)}, container ${container?.name}: no GF_SECURITY_ADMIN_PASSWORD`],
    target: { object: depRef, path: [...base, fromSecrets.length ? 'envFrom' : 'env'] },
  });
}

// ------------------------------------------------------------------------------------------------
// The Grafana pod and its Service (grafana-pod, grafana-api)

/** Why a pod is not Running and Ready: its containers' state, previous log, image, volumes. */
async function podFinding(p: Probe, pod: V1Pod, dep: V1Deployment | undefined): Promise<Finding | undefined> {
  const s = p.settings;
  const podName = pod.metadata?.name ?? '?';
  const depName = dep?.metadata?.name ?? deploymentNameOf(pod) ?? 'grafana';
  const depRef = deploymentRef(p.ns, depName);
  const containers = pod.spec?.containers ?? [];
  const statuses = pod.status?.containerStatuses ?? [];
  const status = statuses.find((cs) => cs.name === 'grafana' && !cs.ready) ?? statuses.find((cs) => !cs.ready) ?? statuses[0];
  const ci = Math.max(0, containers.findIndex((c) => c.name === status?.name));
  const container = containers[ci];
  const cname = container?.name ?? status?.name ?? 'grafana';
  const path = [...TEMPLATE_CONTAINERS, ci];
  const described = describePod(pod);
  const waiting = status?.state?.waiting;
  const last = status?.lastState?.terminated;
  const restarts = status?.restartCount ?? 0;

  if (waiting?.reason === 'CrashLoopBackOff' || (last && restarts > 0 && !status?.ready)) {
    if (last?.reason === 'OOMKilled') {
      const limit = container?.resources?.limits?.memory;
      return {
        cause: `container ${cname} of pod ${podName} is killed for exceeding its memory limit (OOMKilled${limit ? `, limit ${limit}` : ''})`,
        fix: `Raise resources.limits.memory of container ${cname} in ${refText(depRef)}.`,
        evidence: [described],
        target: { object: depRef, path: [...path, 'resources', 'limits', 'memory'] },
      };
    }
    const log = await p.read("the Grafana container's previous log not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, cname, PREVIOUS_LOG_LINES, true, p.signal));
    const exit = last?.exitCode !== undefined ? `, last exit code ${last.exitCode}` : '';
    if (log === REFUSED || !log.trim()) {
      return {
        cause: `container ${cname} of pod ${podName} keeps crashing (${waiting?.reason ?? 'restarting'}, ${restarts} restart${restarts === 1 ? '' : 's'}${exit})`,
        fix: `Read why with kubectl logs -n ${p.ns} ${podName} -c ${cname} --previous, fix the configuration, and let the Deployment roll out again.`,
        evidence: [described],
      };
    }
    const verdict = provisioningLog(log, s.datasourceName);
    if (verdict.errors.length) {
      const cm = await p.read(`${refText(configMapRef(s))} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, s.datasourceConfigmap, p.signal));
      const entry = cm && cm !== REFUSED ? findEntry(cm.data ?? {}, s.datasourceName) : undefined;
      const f = provisioningErrorFinding(p, verdict, entry, `pod ${podName} (previous run)`, depName);
      return { ...f, cause: `container ${cname} of pod ${podName} exits at start-up: ${f.cause}` };
    }
    const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
    const telling = [...lines].reverse().find((l) => ERROR_LEVEL.test(l) || /\b(error|panic|fatal|failed)\b/i.test(l)) ?? lines[lines.length - 1] ?? '';
    const reason = logfmtValue(telling, 'error') ?? logfmtValue(telling, 'msg') ?? telling;
    return {
      cause: `container ${cname} of pod ${podName} keeps crashing (${waiting?.reason ?? 'restarting'}, ${restarts} restart${restarts === 1 ? '' : 's'}${exit}); its last run ended with: ${clip(reason, 300)}`,
      fix: `Fix what its log says (kubectl logs -n ${p.ns} ${podName} -c ${cname} --previous), then let the Deployment roll out again.`,
      evidence: lines.slice(-MAX_EVIDENCE).map((l) => clip(l, 300)),
    };
  }
  if (waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull' || waiting?.reason === 'InvalidImageName') {
    return {
      cause: `pod ${podName} cannot pull image ${container?.image ?? status?.image ?? '?'} (${waiting.reason})`,
      fix: `Fix the image name or tag of container ${cname} in ${refText(depRef)}, or give the pod an imagePullSecret for its registry.`,
      evidence: [described, ...(waiting.message ? [clip(waiting.message, 300)] : [])],
      target: { object: depRef, path: [...path, 'image'] },
    };
  }
  if (waiting?.reason === 'CreateContainerConfigError' && waiting.message) {
    const secret = /secret "([^"]+)" not found/.exec(waiting.message)?.[1];
    const cmName = /configmap "([^"]+)" not found/i.exec(waiting.message)?.[1];
    const ei = (container?.env ?? []).findIndex((e) => (secret && e.valueFrom?.secretKeyRef?.name === secret) || (cmName && e.valueFrom?.configMapKeyRef?.name === cmName));
    return {
      cause: `pod ${podName} cannot start container ${cname}: ${clip(waiting.message, 300)}`,
      fix: secret
        ? `Create Secret ${p.ns}/${secret} (TaskFlow: kubectl apply -f 20-grafana-secret.yaml), or fix the reference in ${refText(depRef)}.`
        : `Create what the message names, or fix the reference in ${refText(depRef)}.`,
      evidence: [described],
      ...(ei >= 0 ? { target: { object: depRef, path: [...path, 'env', ei] } } : {}),
    };
  }
  if (!status || waiting?.reason === 'ContainerCreating' || pod.status?.phase === 'Pending') {
    // A configMap volume whose ConfigMap is missing keeps the pod in ContainerCreating.
    for (const volume of pod.spec?.volumes ?? []) {
      const name = volume.configMap?.name;
      if (!name || volume.configMap?.optional) continue;
      const cm = await p.read(`ConfigMap ${p.ns}/${name} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, name, p.signal));
      if (cm === undefined) {
        return {
          cause: `pod ${podName} cannot start: its volume ${volume.name} needs ConfigMap ${p.ns}/${name}, which does not exist`,
          fix: name === s.datasourceConfigmap ? 'Create it (TaskFlow: kubectl apply -f 20-grafana-datasource.yaml); the pod then starts by itself.' : 'Create it; the pod then starts by itself.',
          evidence: [described],
          target: { object: { kind: 'ConfigMap', namespace: p.ns, name }, path: [] },
        };
      }
    }
    const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unscheduled) {
      return {
        cause: `pod ${podName} is not scheduled: ${clip(unscheduled.message ?? unscheduled.reason ?? 'no node fits', 300)}`,
        fix: `Free or add node capacity, or lower the requests / fix the node selectors of ${refText(depRef)}.`,
        evidence: [described],
      };
    }
    if (waiting?.message) return { cause: `pod ${podName} is not started: ${clip(waiting.message, 300)}`, fix: `kubectl describe pod -n ${p.ns} ${podName} shows its events.`, evidence: [described] };
    return undefined;
  }
  if (status.state?.running && !status.ready) {
    const log = await p.read("Grafana's logs not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, cname, PREVIOUS_LOG_LINES, false, p.signal));
    const errors = log === REFUSED ? [] : log.split('\n').map((l) => l.trim()).filter((l) => ERROR_LEVEL.test(l));
    return {
      cause: `container ${cname} of pod ${podName} runs but is not Ready: its readiness probe fails`,
      fix: `Check that the readiness probe targets Grafana's port and /api/health, and what Grafana logs (kubectl logs -n ${p.ns} ${podName} -c ${cname}).`,
      evidence: [described, ...errors.slice(-3).map((l) => clip(l, 300))],
      ...(container?.readinessProbe ? { target: { object: depRef, path: [...path, 'readinessProbe'] } } : {}),
    };
  }
  return undefined;
}

/** `grafana-pod`: no pod, or none Running and Ready. */
async function grafanaPodProbe(p: Probe): Promise<void> {
  const s = p.settings;
  const pods = await p.grafanaPods();
  if (pods === REFUSED) return;
  if (!pods.length) {
    const deployments = await p.read('the Grafana Deployment not checked', 'list deployments', () => p.ctx.cluster.listDeployments(p.ns, p.signal));
    if (deployments === REFUSED) return;
    const dep = deployments.find((d) => matchesSelector(d.spec?.template?.metadata?.labels, s.grafanaSelector));
    if (!dep) {
      const named = deployments.find((d) => d.metadata?.name === 'grafana');
      p.add(
        named
          ? {
              cause: `Deployment ${p.ns}/grafana's pods are labelled ${selectorText(named.spec?.template?.metadata?.labels)}, which grafana-selector ${s.grafanaSelector} does not match`,
              fix: `Set the grafana-selector input to the Grafana pods' labels (e.g. ${selectorText(named.spec?.selector?.matchLabels)}).`,
              target: { object: deploymentRef(p.ns, 'grafana'), path: ['spec', 'template', 'metadata', 'labels'] },
            }
          : {
              cause: `no Deployment in ${p.ns} has a pod template labelled ${s.grafanaSelector}`,
              fix: `Deploy Grafana in ${p.ns} (TaskFlow: kubectl apply -f 20-grafana-deployment.yaml), or set the grafana-selector input to its pods' labels.`,
            },
      );
      return;
    }
    const depRef = deploymentRef(p.ns, dep.metadata?.name ?? 'grafana');
    if (dep.spec?.replicas === 0) {
      p.add({ cause: `${refText(depRef)} is scaled to 0 replicas`, fix: `kubectl scale deployment/${depRef.name} -n ${p.ns} --replicas=1 (and set replicas: 1 in its manifest).`, target: { object: depRef, path: ['spec', 'replicas'] } });
      return;
    }
    const failure = dep.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True') ?? dep.status?.conditions?.find((c) => c.status === 'False');
    p.add({
      cause: `${refText(depRef)} has no pod${failure?.message ? `: ${clip(failure.message, 300)}` : ''}`,
      fix: `kubectl describe deployment/${depRef.name} -n ${p.ns} and its ReplicaSet's events say why the pod is not created (quota, service account, admission).`,
    });
    return;
  }
  if (pods.some(isReady)) return;
  const dep = await p.grafanaDeployment();
  const byRelevance = [...pods].sort((a, b) => Number(b.status?.phase === 'Running') - Number(a.status?.phase === 'Running'));
  for (const pod of byRelevance) {
    const f = await podFinding(p, pod, dep);
    if (f) {
      p.add(f);
      return;
    }
  }
}

/** `grafana-api`: the database, else the Service, its endpoints and the pods behind them. */
async function grafanaApiProbe(p: Probe, result: CheckResult): Promise<void> {
  const s = p.settings;
  if (/its database is/.test(result.summary)) {
    const pod = await p.grafanaPod();
    if (!pod?.metadata?.name) return;
    const podName = pod.metadata.name;
    const containers = pod.spec?.containers ?? [];
    const cname = (containers.find((c) => c.name === 'grafana') ?? containers[0])?.name ?? 'grafana';
    const log = await p.read("Grafana's logs not read", 'get pods/log', () => p.ctx.cluster.podLogs(p.ns, podName, cname, LOG_LINES, false, p.signal));
    if (log === REFUSED) return;
    const errors = log.split('\n').map((l) => l.trim()).filter((l) => ERROR_LEVEL.test(l) && /database|sqlite|sql|migrat|disk|read-only|locked/i.test(l));
    const last = errors[errors.length - 1];
    p.add({
      cause: `Grafana's database is failing${last ? `: ${clip(logfmtValue(last, 'error') ?? logfmtValue(last, 'msg') ?? last, 300)}` : ''}`,
      fix: 'Check the storage behind /var/lib/grafana (a full, read-only or locked volume) or the GF_DATABASE_* settings of an external database.',
      evidence: errors.slice(-MAX_EVIDENCE).map((l) => `pod ${podName}: ${clip(l, 300)}`),
    });
    return;
  }
  const svcRef: ObjectRef = { kind: 'Service', namespace: p.ns, name: s.grafanaService.name };
  const svc = await p.read(`${refText(svcRef)} not read`, 'get services', () => p.ctx.cluster.readService(p.ns, s.grafanaService.name, p.signal));
  if (svc === REFUSED) return;
  if (!svc) {
    p.add({
      cause: `${refText(svcRef)} does not exist`,
      fix: `Create it (TaskFlow: kubectl apply -f 20-grafana-deployment.yaml, which defines it), or set the grafana-service input to Grafana's Service.`,
      target: { object: svcRef, path: [] },
    });
    return;
  }
  const port = s.grafanaService.port;
  if (!svc.spec?.ports?.some((sp) => String(sp.port) === port || sp.name === port)) {
    p.add({
      cause: `${refText(svcRef)} has no port ${port} (it exposes ${portsText(svc)})`,
      fix: `Set the grafana-service input to ${s.grafanaService.name}:${svc.spec?.ports?.[0]?.port ?? 3000}, or add the port to the Service.`,
      target: { object: svcRef, path: ['spec', 'ports'] },
    });
    return;
  }
  const eps = await p.read(`the endpoints of ${refText(svcRef)} not read`, 'get endpoints', () => p.ctx.cluster.readEndpoints(p.ns, s.grafanaService.name, p.signal));
  if (eps === REFUSED) return;
  if ((eps?.subsets ?? []).some((sub) => sub.addresses?.length)) return;
  const selector = selectorText(svc.spec?.selector);
  const pods = selector ? await p.read(`the pods behind ${refText(svcRef)} not listed`, 'list pods', () => p.ctx.cluster.listPods(p.ns, selector, p.signal)) : [];
  if (pods === REFUSED) return;
  if (!pods.length) {
    p.add({
      cause: selector ? `${refText(svcRef)} selects ${selector}, which no pod in ${p.ns} matches` : `${refText(svcRef)} has no selector and no endpoints`,
      fix: `Make the Service's selector match the Grafana pod's labels (kubectl get pods -n ${p.ns} --show-labels).`,
      target: { object: svcRef, path: ['spec', 'selector'] },
    });
    return;
  }
  const dep = await p.grafanaDeployment();
  for (const pod of pods) {
    const f = await podFinding(p, pod, dep);
    if (f) {
      p.add({ ...f, evidence: [`${refText(svcRef)} has no ready endpoints`, ...(f.evidence ?? [])] });
      return;
    }
  }
  p.add({
    cause: `${refText(svcRef)} has no ready endpoints: no pod matching ${selector} is Ready`,
    fix: `kubectl describe pod -n ${p.ns} -l ${selector} shows why the Grafana pod is not Ready.`,
    evidence: pods.slice(0, 3).map((pod) => describePod(pod)),
  });
}

// ------------------------------------------------------------------------------------------------
// grafana-datasource: the URL or type Grafana lists

async function listedMismatch(p: Probe, kind: 'url' | 'type'): Promise<void> {
  const s = p.settings;
  const ref = configMapRef(s);
  const cm = await p.read(`${refText(ref)} not read`, 'get configmaps', () => p.ctx.cluster.readConfigMap(p.ns, s.datasourceConfigmap, p.signal));
  if (cm === REFUSED) return;
  const entry = cm ? findEntry(cm.data ?? {}, s.datasourceName) : undefined;
  if (!entry) {
    p.note(`"${s.datasourceName}" is not provisioned by ${refText(ref)}: it was created in Grafana itself (UI or API), so fix it there`);
    return;
  }
  const deployment = (await p.grafanaDeployment())?.metadata?.name ?? 'grafana';
  if (kind === 'type') {
    if (entry.ds.type !== 'prometheus') {
      p.add({ cause: `datasource "${entry.ds.name}" in ${refText(ref)} has type "${entry.ds.type}", not prometheus`, fix: `Set type: prometheus, then ${restartCommand(p.ns, deployment)}.`, target: entryTarget(s, entry, 'type') });
    } else {
      p.add({ cause: `Grafana still has the old type of "${entry.ds.name}"; ${refText(ref)} now gives prometheus`, fix: `Grafana reads provisioning files only at start-up: ${restartCommand(p.ns, deployment)}.` });
    }
    return;
  }
  if (sameUrl(entry.ds.url, s.datasourceUrl, p.ns)) {
    p.add({
      cause: `Grafana still uses an old url for "${entry.ds.name}"; ${refText(ref)} now gives ${withoutCredentials(entry.ds.url)}`,
      fix: `Grafana reads provisioning files only at start-up: ${restartCommand(p.ns, deployment)}.`,
    });
    return;
  }
  p.add({
    cause: `datasource "${entry.ds.name}" in ${refText(ref)} has url ${withoutCredentials(entry.ds.url) || '(none)'}, not ${s.datasourceUrl}`,
    fix: `Set url: ${s.datasourceUrl} (or set the datasource-url input if ${withoutCredentials(entry.ds.url)} is intended), then ${restartCommand(p.ns, deployment)}.`,
    target: entryTarget(s, entry, 'url'),
  });
}

/** A connection-type error from Grafana's request to Prometheus (as opposed to a PromQL error). */
function connectionError(summary: string): boolean {
  return /connection refused|no such host|lookup |dial tcp|i\/o timeout|timeout|deadline|EOF|connection reset|Bad Gateway|Service Unavailable|HTTP 502|HTTP 503|HTTP 504|no route to host|network is unreachable|certificate/i.test(summary);
}

// ------------------------------------------------------------------------------------------------
// The probers

const listedProber = prober(async (p, result) => {
  const status = authStatus(result);
  if (status) return authProbe(p, result, status);
  if (/none named|no datasource at all/.test(result.summary)) return provisioningChain(p, 'listed');
  if (/has url /.test(result.summary)) return listedMismatch(p, 'url');
  if (/has type /.test(result.summary)) return listedMismatch(p, 'type');
  return grafanaApiProbe(p, result);
});

const connectionProber = prober(async (p, result) => {
  const status = authStatus(result);
  if (status) return authProbe(p, result, status);
  if (/no longer lists/.test(result.summary)) return;
  if (result.id === 'grafana-query' && !connectionError(result.summary)) return;
  if (result.id === 'grafana-datasource-health' && !/test of/.test(result.summary) && !connectionError(result.summary)) return grafanaApiProbe(p, result);
  return connectionChain(p, result);
});

export const GRAFANA_PROBERS: Partial<Record<CheckId, Prober>> = {
  'grafana-pod': prober((p) => grafanaPodProbe(p)),
  'grafana-api': prober((p, result) => grafanaApiProbe(p, result)),
  'datasource-configmap': prober((p) => provisioningChain(p, 'configmap')),
  'datasource-mounted': prober((p) => provisioningChain(p, 'mounted')),
  'grafana-datasource': listedProber,
  'grafana-datasource-health': connectionProber,
  'grafana-query': connectionProber,
};
