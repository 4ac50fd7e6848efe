/**
 * The datasource ConfigMap: the provisioned datasource and where it is in the file (for the
 * finding's target), and the first link of the provisioning chain — the ConfigMap exists, holds a
 * valid provisioning file, and provisions a Prometheus datasource under the expected name.
 */
import { parseAllDocuments } from 'yaml';
import { parseProvisioning, type ProvisionedDatasource } from '../../datasource.js';
import type { Settings } from '../../types.js';
import type { ObjectPath } from '../types.js';
import { REFUSED, type Probe } from './probe.js';
import { configMapRef, refText, restartCommand } from './text.js';

/** The datasource in the ConfigMap, and where it is in the file. */
export interface DatasourceEntry {
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

/** The datasource named `name` in a ConfigMap's provisioning files. */
export function findEntry(data: Readonly<Record<string, string>>, name: string): DatasourceEntry | undefined {
  for (const file of parseProvisioning(data)) {
    const ds = file.datasources.find((d) => d.name === name);
    if (ds) return { ds, file: file.file, index: Math.max(0, indexOfDatasource(data[file.file] ?? '', name)) };
  }
  return undefined;
}

/** Where a datasource's key (`url`, `type`…) is, as a finding's target. */
export function entryTarget(s: Settings, entry: DatasourceEntry, key?: string): ObjectPath {
  return { object: configMapRef(s), path: ['data', entry.file], embedded: key ? ['datasources', entry.index, key] : ['datasources', entry.index] };
}

/** `refused`: the ConfigMap could not be read (a note says why); `broken`: a finding was added. */
type ConfigMapLink = { status: 'broken' } | { status: 'refused' } | { status: 'ok'; data: Record<string, string>; entry: DatasourceEntry };

/** The ConfigMap exists and provisions a valid Prometheus datasource under the expected name. */
export async function configMapLink(p: Probe, deploymentHint: string): Promise<ConfigMapLink> {
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
    const target: ObjectPath = extra
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
