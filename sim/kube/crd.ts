/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1) as kube-apiserver's apiextensions server
 * handles them: a custom resource is served only while a CRD naming it is stored and Established,
 * for each of its served versions, under its names (plural, singular, kind, short names,
 * categories) and scope; its objects get the defaults of the version's structural schema.
 *
 * The CRD's own defaulting (names.singular, names.listKind) happens when it is stored; its status
 * (acceptedNames, NamesAccepted/Established, storedVersions) is set by `crdStatus`, which the
 * controllers run as apiextensions' naming and establishing controllers do.
 */
import type { KubeObject } from './view.js';
import { rememberCustomKind, resourceByKind, type PrinterColumn, type ResourceType } from './resources.js';

interface CrdNames {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  additionalPrinterColumns?: PrinterColumn[];
  subresources?: { status?: unknown; scale?: unknown };
  schema?: { openAPIV3Schema?: Schema };
}

interface CrdSpec {
  group: string;
  names: CrdNames;
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
}

/** The part of an OpenAPI v3 schema that structural defaulting reads. */
export interface Schema {
  type?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
}

/** The verbs discovery lists for every custom resource (apiextensions' crdHandler). */
export const CUSTOM_RESOURCE_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The CRD's spec when it is well-formed enough to serve; undefined otherwise. */
function crdSpec(crd: KubeObject): CrdSpec | undefined {
  const spec = crd.spec as Partial<CrdSpec> | undefined;
  if (!spec || typeof spec.group !== 'string' || !spec.names?.plural || !spec.names.kind) return undefined;
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) return undefined;
  // The API server only accepts a CRD named `<plural>.<group>`.
  if (crd.metadata.name !== `${spec.names.plural}.${spec.group}`) return undefined;
  return { scope: 'Namespaced', ...spec } as CrdSpec;
}

function typeFor(crd: KubeObject, spec: CrdSpec, version: CrdVersion): ResourceType {
  const subresources: Record<string, readonly string[]> = {};
  if (version.subresources?.status !== undefined) subresources.status = ['get', 'patch', 'update'];
  if (version.subresources?.scale !== undefined) subresources.scale = ['get', 'patch', 'update'];
  const names = spec.names;
  return {
    name: names.plural,
    singularName: names.singular ?? names.kind.toLowerCase(),
    kind: names.kind,
    group: spec.group,
    version: version.name,
    namespaced: spec.scope !== 'Cluster',
    verbs: CUSTOM_RESOURCE_VERBS,
    ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
    ...(names.categories?.length ? { categories: names.categories } : {}),
    ...(Object.keys(subresources).length ? { subresources } : {}),
    custom: {
      crd: crd.metadata.name,
      // apiextensions prints an Age column when a version declares no columns of its own.
      printerColumns: version.additionalPrinterColumns?.length
        ? version.additionalPrinterColumns
        : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    },
  };
}

/**
 * What the API server does when a CRD is written: defaults `names.singular` and
 * `names.listKind`, and makes the kind's scope known to the store.
 */
export function defaultCustomResourceDefinition(crd: KubeObject): void {
  const spec = crd.spec as Partial<CrdSpec> | undefined;
  const names = spec?.names;
  if (names?.kind) {
    names.singular ??= names.kind.toLowerCase();
    names.listKind ??= `${names.kind}List`;
  }
  const parsed = crdSpec(crd);
  if (parsed) rememberCustomKind(typeFor(crd, parsed, parsed.versions[0]!));
}

/**
 * What the API server does when a custom object is written: the defaults of its version's
 * schema, from the CRD of its kind (`lookup` finds a CRD by name). Other objects are untouched.
 */
export function defaultCustomResource(obj: KubeObject, lookup: (crdName: string) => KubeObject | undefined, existing?: KubeObject): void {
  const type = resourceByKind(obj.kind);
  if (!type?.custom) return;
  const crd = lookup(type.custom.crd);
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  if (!crd || group !== (crd.spec as { group?: string } | undefined)?.group) return;
  applySchemaDefaults(obj, customResourceSchema(crd, version ?? ''));
  // Defaults come before the comparison that bumps the generation: the same manifest again is no change.
  if (existing && JSON.stringify(existing.spec) === JSON.stringify(obj.spec)) obj.metadata.generation = existing.metadata.generation;
}

export function isEstablished(crd: KubeObject): boolean {
  const conditions = ((crd.status as Obj | undefined)?.conditions ?? []) as { type?: string; status?: string }[];
  return conditions.some((c) => c.type === 'Established' && c.status === 'True');
}

/** The resource types served for the given CRDs: one per served version of each Established CRD. */
export function customResourceTypes(crds: readonly KubeObject[]): ResourceType[] {
  return crds.flatMap((crd) => {
    const spec = crdSpec(crd);
    if (!spec || !isEstablished(crd)) return [];
    return spec.versions.filter((v) => v.served).map((v) => typeFor(crd, spec, v));
  });
}

/** The version's structural schema (openAPIV3Schema) of a custom resource, if any. */
export function customResourceSchema(crd: KubeObject, version: string): Schema | undefined {
  return crdSpec(crd)?.versions.find((v) => v.name === version)?.schema?.openAPIV3Schema;
}

const VERSION_RE = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Kube-aware version order (apimachinery's CompareKubeAwareVersionStrings): GA before beta before
 * alpha, higher numbers first, then other names alphabetically. Negative when `a` comes first.
 */
export function compareKubeVersions(a: string, b: string): number {
  const ma = VERSION_RE.exec(a);
  const mb = VERSION_RE.exec(b);
  if (!ma || !mb) return ma ? -1 : mb ? 1 : a.localeCompare(b);
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  if (ma[1] !== mb[1]) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

/** The API groups of the served custom resources, by name, each with its versions in priority order. */
export function customGroups(types: readonly ResourceType[]): { name: string; versions: string[] }[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of types) {
    const versions = byGroup.get(t.group) ?? new Set<string>();
    versions.add(t.version);
    byGroup.set(t.group, versions);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => ({ name, versions: [...versions].sort(compareKubeVersions) }));
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/**
 * The status apiextensions' controllers give a CRD: accepted names, the NamesAccepted and
 * Established conditions (transition times kept while their status holds) and stored versions.
 * Undefined for a CRD the API server would have refused.
 */
export function crdStatus(crd: KubeObject, now: Date): Obj | undefined {
  const spec = crdSpec(crd);
  if (!spec) return undefined;
  const previous = (((crd.status as Obj | undefined)?.conditions ?? []) as Condition[]);
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, reason: string, message: string): Condition => ({
    type,
    status: 'True',
    reason,
    message,
    lastTransitionTime: previous.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime ?? stamp,
  });
  const names = spec.names;
  const stored = new Set<string>(((crd.status as Obj | undefined)?.storedVersions ?? []) as string[]);
  const storage = spec.versions.find((v) => v.storage)?.name ?? spec.versions[0]!.name;
  stored.add(storage);
  return {
    acceptedNames: {
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      plural: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
      ...(names.categories?.length ? { categories: names.categories } : {}),
    },
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    storedVersions: [...stored],
  };
}

/**
 * Structural defaulting (apiextensions' structuraldefaulting.Default): every property whose schema
 * has a `default` and that is absent from its (present) parent object gets that default; arrays
 * and maps are walked through `items` and `additionalProperties`. Mutates and returns `value`.
 */
export function applySchemaDefaults(value: unknown, schema: Schema | undefined): unknown {
  if (!schema) return value;
  if (isObj(value)) {
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      if (value[key] === undefined && prop.default !== undefined) value[key] = structuredClone(prop.default);
      if (value[key] !== undefined) applySchemaDefaults(value[key], prop);
    }
    if (isObj(schema.additionalProperties)) {
      const known = new Set(Object.keys(schema.properties ?? {}));
      for (const [key, item] of Object.entries(value)) if (!known.has(key)) applySchemaDefaults(item, schema.additionalProperties);
    }
  } else if (Array.isArray(value) && schema.items) {
    for (const item of value) applySchemaDefaults(item, schema.items);
  }
  return value;
}

// ---- JSONPath (the subset CRD printer columns use) -------------------------------------------

type Step = { key: string } | { index: number } | { all: true } | { filter: { path: string[]; op: '==' | '!='; value: string } };

function parsePath(path: string): Step[] {
  const steps: Step[] = [];
  let rest = path.trim().replace(/^\{|\}$/g, '').replace(/^\$/, '');
  while (rest.length > 0) {
    let m: RegExpExecArray | null;
    if ((m = /^\.([^.[\]]+)/.exec(rest))) steps.push({ key: m[1]! });
    else if ((m = /^\[(\d+)\]/.exec(rest))) steps.push({ index: Number(m[1]) });
    else if ((m = /^\[\*\]/.exec(rest))) steps.push({ all: true });
    else if ((m = /^\[['"]([^'"]+)['"]\]/.exec(rest))) steps.push({ key: m[1]! });
    else if ((m = /^\[\?\(@((?:\.[^.\s=!)]+)+)\s*(==|!=)\s*['"]([^'"]*)['"]\)\]/.exec(rest))) {
      steps.push({ filter: { path: m[1]!.slice(1).split('.'), op: m[2] as '==' | '!=', value: m[3]! } });
    } else throw new Error(`unsupported JSONPath ${path}`);
    rest = rest.slice(m[0].length);
  }
  return steps;
}

/** The values a JSONPath expression (`.status.conditions[?(@.type == 'Ready')].status`) finds. */
export function jsonPathValues(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const step of parsePath(path)) {
    const next: unknown[] = [];
    for (const value of current) {
      if ('key' in step) {
        if (isObj(value) && value[step.key] !== undefined) next.push(value[step.key]);
      } else if ('index' in step) {
        if (Array.isArray(value) && step.index < value.length) next.push(value[step.index]);
      } else if ('all' in step) {
        if (Array.isArray(value)) next.push(...value);
        else if (isObj(value)) next.push(...Object.values(value));
      } else if (Array.isArray(value)) {
        const { path: fieldPath, op, value: wanted } = step.filter;
        for (const item of value) {
          let field: unknown = item;
          for (const key of fieldPath) field = isObj(field) ? field[key] : undefined;
          const text = field === undefined ? undefined : typeof field === 'string' ? field : JSON.stringify(field);
          if ((text === wanted) === (op === '==') && field !== undefined) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}
