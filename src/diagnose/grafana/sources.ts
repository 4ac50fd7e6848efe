/**
 * The provisioning objects of the route (a volume's ConfigMaps and Secrets, or the objects the
 * datasource sidecar copies): their content, the datasources they provision and where each is in
 * its file (for the finding's target), and the first link of the provisioning chain — the object
 * exists, holds a valid provisioning file, and provisions a Prometheus datasource under the
 * expected name. A Secret the credentials may not read is a note: the file the Grafana container
 * sees stands in for it.
 */
import { posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseProvisioning, type ProvisionedDatasource, type ProvisioningFile } from '../../datasource.js';
import { chooseDatasource, objectText } from '../../checks/provisioning.js';
import type { SourceObject } from '../../stack/types.js';
import type { ObjectPath } from '../types.js';
import { isRunning, REFUSED, type Probe } from './probe.js';
import { dataField, objectRef } from './text.js';

/** An object's files: from the object itself, or (a Secret the credentials may not read) from the Grafana container. */
export interface Content {
  readonly object: SourceObject;
  /** Key → content. */
  readonly data: Readonly<Record<string, string>>;
  /** The pod whose container the files were read in, when the object could not be read. */
  readonly fromPod?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A provisioned datasource, its object, and where it is in the file. */
export interface Entry {
  readonly ds: ProvisionedDatasource;
  readonly object: SourceObject;
  /** The object's key (file). */
  readonly key: string;
  /** Index in the file's `datasources:` list. */
  readonly index: number;
}

export interface Parsed {
  readonly contents: readonly Content[];
  readonly files: readonly { readonly object: SourceObject; readonly file: ProvisioningFile }[];
  readonly entries: readonly Entry[];
  /** The first file Grafana refuses, and why (invalid YAML, no list, two defaults across the files). */
  readonly broken?: { readonly object: SourceObject; readonly file: string; readonly error: string };
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
  return Math.max(
    0,
    rawDatasources(text).findIndex((d) => d !== null && typeof d === 'object' && (d as { name?: unknown }).name === name),
  );
}

/**
 * Parses every object's files as Grafana does: each file alone, then the rule that spans them
 * all — one default datasource per organization across every file Grafana reads.
 */
export function parseContents(contents: readonly Content[]): Parsed {
  const files = contents.flatMap((c) => parseProvisioning(c.data).map((file) => ({ object: c.object, file })));
  const entries: Entry[] = files.flatMap(({ object, file }) =>
    file.datasources.map((ds) => ({ ds, object, key: file.file, index: indexOfDatasource(contents.find((c) => c.object === object)?.data[file.file] ?? '', ds.name) })),
  );
  const own = files.find((f) => f.file.error);
  if (own) return { contents, files, entries, broken: { object: own.object, file: own.file.file, error: own.file.error ?? '' } };
  const defaults = entries.filter((e) => e.ds.isDefault);
  if (defaults.length > 1) {
    const where = defaults.map((e) => `"${e.ds.name}" in ${objectText(e.object)} ${e.key}`).join(', ');
    const first = defaults[0] as Entry;
    return {
      contents,
      files,
      entries,
      broken: { object: first.object, file: first.key, error: `${defaults.length} datasources are marked isDefault (${where}); Grafana provisions none of them: only one default datasource per organization` },
    };
  }
  return { contents, files, entries };
}

/** The datasource the checks look for: named `wanted`, else the default (or only) Prometheus one. */
export function chooseEntry(entries: readonly Entry[], wanted: string | undefined): Entry | undefined {
  return chooseDatasource(
    entries.map((e) => ({ name: e.ds.name, type: e.ds.type, isDefault: e.ds.isDefault, e })),
    wanted,
  )?.e;
}

/** Where a datasource's key (`url`, `type`…) is, as a finding's target. */
export function entryTarget(entry: Entry, key?: string): ObjectPath {
  return {
    object: objectRef(entry.object),
    path: [dataField(entry.object), entry.key],
    embedded: key ? ['datasources', entry.index, key] : ['datasources', entry.index],
  };
}

/** An object's file, as a finding's target. */
export function fileTarget(object: SourceObject, key: string | undefined): ObjectPath {
  return { object: objectRef(object), path: key ? [dataField(object), key] : [] };
}

/** The files a container sees in the provisioning directory (`ls`, then `cat`), keyed as the object's items name them. */
async function containerFiles(p: Probe, object: SourceObject): Promise<Content | undefined> {
  const pod = await p.grafanaPod();
  if (!pod || !isRunning(pod, p.container)) return undefined;
  const what = `the provisioning file in pod ${pod.metadata?.name} not read`;
  const ls = await p.exec(what, pod, p.container, ['ls', '-1', p.dir]);
  if (!ls || ls.exitCode !== 0) return undefined;
  const data: Record<string, string> = {};
  for (const name of ls.stdout.split('\n').map((l) => l.trim()).filter((l) => /\.ya?ml$/i.test(l))) {
    const cat = await p.exec(what, pod, p.container, ['cat', posix.join(p.dir, name)]);
    if (!cat || cat.exitCode !== 0) continue;
    data[object.items?.find((i) => i.path === name)?.key ?? name] = cat.stdout;
  }
  return Object.keys(data).length ? { object, data, fromPod: pod.metadata?.name ?? '' } : undefined;
}

export interface RouteContent {
  readonly contents: readonly Content[];
  /** Objects that do not exist (not optional). */
  readonly missing: readonly SourceObject[];
  /** Nothing could be read (a note says why). */
  readonly unread: boolean;
}

/** The content of the route's objects, as the API server and (for unreadable Secrets) the container give it. */
export function routeContent(p: Probe): Promise<RouteContent> {
  return p.once('content', async () => {
    const sources = await p.sources();
    if (sources === REFUSED || sources === undefined) return { contents: [], missing: [], unread: sources === REFUSED };
    const contents: Content[] = [];
    const missing: SourceObject[] = [];
    for (const read of sources.reads) {
      if (read.state === 'ok') {
        contents.push({ object: read.object, data: read.data, ...(read.labels ? { labels: read.labels } : {}), ...(read.annotations ? { annotations: read.annotations } : {}) });
      }
      else if (read.state === 'missing' && !read.object.optional) missing.push(read.object);
      else if (read.state === 'forbidden') {
        if (read.object.name.startsWith('(')) {
          p.note(`Secrets ${read.object.name} in ${read.object.namespace} not read: list secrets is forbidden for the action's credentials (add it to the Role)`);
          continue;
        }
        const seen = await containerFiles(p, read.object);
        p.note(
          `${objectText(read.object)} not read: get secrets is forbidden for the action's credentials${seen ? `; the provisioning file in pod ${seen.fromPod} was read instead` : ', and the file in the Grafana container could not be read either'}`,
        );
        if (seen) contents.push(seen);
      }
    }
    return { contents, missing, unread: false };
  });
}

/** `broken`: a finding was added; `unknown`: nothing could be read; `ok`: the datasource, as provisioned. */
export type SourceLink = { readonly status: 'broken' } | { readonly status: 'unknown' } | { readonly status: 'ok'; readonly parsed: Parsed; readonly entry: Entry };

/** How the fix is applied: the sidecar reloads Grafana; a volume is read at start-up. */
export function applyText(p: Probe): string {
  return p.sidecar ? `the sidecar ${p.sidecar.container} copies the change and reloads Grafana (or ${p.restart})` : p.restart;
}

/**
 * The objects' files are valid and provision the expected Prometheus datasource; adds the
 * finding for the first thing that is not so.
 */
export function judgeContents(p: Probe, contents: readonly Content[]): SourceLink {
  const refs = [...new Set(contents.map((c) => objectText(c.object)))].join(', ');
  const parsed = parseContents(contents);
  if (!parsed.files.length) {
    const c = contents[0] as Content;
    const keys = contents.flatMap((x) => Object.keys(x.data));
    p.add({
      cause: `${refs} ha${contents.length === 1 ? 's' : 've'} no .yaml key (keys: ${keys.join(', ') || 'none'})`,
      fix: 'Grafana reads only *.yaml/*.yml provisioning files: name the key datasources.yaml.',
      target: fileTarget(c.object, keys.length === 1 ? keys[0] : undefined),
    });
    return { status: 'broken' };
  }
  const wanted = p.wanted;
  const entry = chooseEntry(parsed.entries, wanted);
  const broken = parsed.broken;
  if (broken && (!entry || broken.object !== entry.object || broken.file === entry.key || /isDefault/.test(broken.error))) {
    p.add(invalidFinding(p, parsed, broken, entry));
    return { status: 'broken' };
  }
  if (!entry) {
    const all = parsed.entries;
    const only = all.length === 1 ? all[0] : undefined;
    const what = wanted ? `datasource named "${wanted}"` : 'Prometheus datasource';
    const c = contents[0] as Content;
    p.add({
      cause: `${refs} provision${contents.length === 1 ? 's' : ''} no ${what} (it has: ${all.map((e) => `"${e.ds.name}"${wanted ? '' : ` (${e.ds.type})`}`).join(', ') || 'none'})`,
      fix: wanted
        ? `${p.profile.editDatasource(p.stack, only?.object ?? c.object, `Name the Prometheus datasource "${wanted}"`)} Or set the datasource-name input to the name it has.`
        : p.route
          ? p.profile.createDatasource(p.stack, p.route)
          : 'Provision a datasource of type prometheus.',
      target: only ? entryTarget(only, 'name') : fileTarget(c.object, parsed.files[0]?.file.file),
    });
    return { status: 'broken' };
  }
  if (entry.ds.type !== 'prometheus') {
    p.add({
      cause: `datasource "${entry.ds.name}" in ${objectText(entry.object)} has type "${entry.ds.type}", not prometheus`,
      fix: p.profile.editDatasource(p.stack, entry.object, 'Set `type: prometheus` on it'),
      target: entryTarget(entry, 'type'),
    });
    return { status: 'broken' };
  }
  return { status: 'ok', parsed, entry };
}

/** A file Grafana refuses: invalid, or one of several marking a default datasource. */
function invalidFinding(p: Probe, parsed: Parsed, broken: NonNullable<Parsed['broken']>, entry: Entry | undefined) {
  const defaults = /isDefault/.test(broken.error) ? parsed.entries.filter((e) => e.ds.isDefault) : [];
  const keep = entry?.ds.name ?? p.wanted;
  const extra = defaults.find((e) => e.ds.name !== keep) ?? defaults[1];
  const objects = [...new Set((defaults.length ? defaults.map((e) => e.object) : [broken.object]).map((o) => objectText(o)))];
  const cause = `${objects.join(', ')}: ${broken.error}`;
  if (extra) {
    const fix = p.sidecar
      ? `Keep isDefault: true on one datasource only: remove it from "${extra.ds.name}" in ${objectText(extra.object)}; ${applyText(p)}. Until then Grafana refuses the whole provisioning (the sidecar's reload answers 500).`
      : `Keep isDefault: true on one datasource only (remove it from "${extra.ds.name}"), then ${p.restart}.`;
    return { cause, fix, target: entryTarget(extra, 'isDefault') };
  }
  return {
    cause,
    fix: `Fix ${broken.file} (Grafana refuses the whole provisioning when a file is invalid); then ${applyText(p)}.`,
    target: fileTarget(broken.object, broken.file),
  };
}

/** An object with a datasource provisioning file that the route does not deliver (no sidecar label, not mounted). */
export interface Stray {
  readonly object: SourceObject;
  readonly labels: Readonly<Record<string, string>>;
  readonly entries: readonly Entry[];
}

/**
 * The ConfigMaps (and Secrets) in `namespaces` (`undefined`: every namespace) holding a
 * `datasources:` provisioning file, with the datasources they provision. Refused lists become notes.
 */
export async function provisioningObjects(p: Probe, namespaces: readonly (string | undefined)[], kinds: readonly ('ConfigMap' | 'Secret')[]): Promise<Stray[]> {
  const out: Stray[] = [];
  for (const ns of namespaces) {
    const where = ns ?? 'every namespace';
    for (const kind of kinds) {
      const list =
        kind === 'ConfigMap'
          ? await p.read(`ConfigMaps in ${where} not searched for a datasource provisioning file`, 'list configmaps', () => p.view.configMaps(ns, ''))
          : await p.read(`Secrets in ${where} not searched for a datasource provisioning file`, 'list secrets', () => p.view.secrets(ns, ''));
      if (list === REFUSED) continue;
      for (const o of list) {
        const raw: Record<string, string> = {};
        // A Secret's data is base64; a ConfigMap's is text.
        for (const [k, v] of Object.entries(o.data ?? {})) raw[k] = kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
        for (const [k, v] of Object.entries((o as { stringData?: Record<string, string> }).stringData ?? {})) raw[k] = v;
        if (!Object.entries(raw).some(([k, v]) => /\.ya?ml$/i.test(k) && /(^|\n)\s*"?datasources"?\s*:/.test(v))) continue;
        const object: SourceObject = { kind, namespace: o.metadata?.namespace ?? ns ?? '', name: o.metadata?.name ?? '' };
        const parsed = parseContents([{ object, data: raw }]);
        out.push({ object, labels: o.metadata?.labels ?? {}, entries: parsed.entries });
      }
    }
  }
  return out;
}

/** `ConfigMap x` (without namespace), as the mount findings name objects. */
export function shortText(o: SourceObject): string {
  return `${o.kind} ${o.name}`;
}

