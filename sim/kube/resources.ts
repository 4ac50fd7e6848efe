/**
 * The API resources the simulated API server serves: their group, version, kind, scope, verbs and
 * short names, as a real API server advertises them in discovery.
 */

export interface ResourceType {
  /** Plural resource name, as in URLs (`pods`). */
  readonly name: string;
  readonly singularName: string;
  readonly kind: string;
  /** API group; `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Subresources, each with the verbs discovery advertises. */
  readonly subresources?: Readonly<Record<string, readonly string[]>>;
  /**
   * Set for the resources of a CustomResourceDefinition: the CRD's name and the columns
   * (`additionalPrinterColumns`) of its server-side printing (see crd.ts).
   */
  readonly custom?: { readonly crd: string; readonly printerColumns: readonly PrinterColumn[] };
}

/** One `additionalPrinterColumns` entry of a CustomResourceDefinition version. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly jsonPath: string;
}

const READ_WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const CREATE_ONLY = ['create'];

function core(
  name: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return { name, singularName: kind.toLowerCase(), kind, group: '', version: 'v1', namespaced, verbs: READ_WRITE, ...extra };
}

function grouped(
  group: string,
  name: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return { name, singularName: kind.toLowerCase(), kind, group, version: 'v1', namespaced, verbs: READ_WRITE, ...extra };
}

const RBAC = 'rbac.authorization.k8s.io';
const AUTHZ = 'authorization.k8s.io';
const APIEXTENSIONS = 'apiextensions.k8s.io';
const DISCOVERY = 'discovery.k8s.io';

export const RESOURCE_TYPES: readonly ResourceType[] = [
  core('namespaces', 'Namespace', false, { shortNames: ['ns'] }),
  core('pods', 'Pod', true, {
    shortNames: ['po'],
    categories: ['all'],
    subresources: {
      exec: ['create', 'get'],
      log: ['get'],
      portforward: ['create', 'get'],
      proxy: ['create', 'delete', 'get', 'patch', 'update'],
      status: ['get', 'patch', 'update'],
    },
  }),
  core('services', 'Service', true, {
    shortNames: ['svc'],
    categories: ['all'],
    subresources: { proxy: ['create', 'delete', 'get', 'patch', 'update'], status: ['get', 'patch', 'update'] },
  }),
  core('endpoints', 'Endpoints', true, { shortNames: ['ep'], singularName: 'endpoints' }),
  core('configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  core('secrets', 'Secret', true),
  core('serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  grouped('apps', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'] }),
  grouped('apps', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'] }),
  grouped('apps', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'] }),
  grouped('apps', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: ['all'] }),
  grouped(RBAC, 'roles', 'Role', true),
  grouped(RBAC, 'rolebindings', 'RoleBinding', true),
  grouped(RBAC, 'clusterroles', 'ClusterRole', false),
  grouped(RBAC, 'clusterrolebindings', 'ClusterRoleBinding', false),
  grouped(AUTHZ, 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: CREATE_ONLY }),
  grouped(AUTHZ, 'subjectaccessreviews', 'SubjectAccessReview', false, { verbs: CREATE_ONLY }),
  grouped(AUTHZ, 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, { verbs: CREATE_ONLY }),
  grouped(AUTHZ, 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { verbs: CREATE_ONLY }),
  grouped(APIEXTENSIONS, 'customresourcedefinitions', 'CustomResourceDefinition', false, {
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: { status: ['get', 'patch', 'update'] },
  }),
  grouped(DISCOVERY, 'endpointslices', 'EndpointSlice', true),
];

/** The built-in API groups served besides the core group, in discovery order. */
export const API_GROUPS: readonly string[] = ['apps', RBAC, AUTHZ, APIEXTENSIONS, DISCOVERY];

/**
 * Kinds of custom resources, learnt from the CustomResourceDefinitions stored so far (see
 * crd.ts), so that the store scopes a custom object as its CRD says (namespaced or cluster).
 * Only the scope is taken from here: what a server serves is decided by its own store's CRDs.
 */
const customKinds = new Map<string, ResourceType>();

/** Records the scope of a custom kind (called when a CustomResourceDefinition is stored). */
export function rememberCustomKind(type: ResourceType): void {
  customKinds.set(type.kind, type);
}

/** `group/version`, or `version` for the core group. */
export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The resource type served at `group`/`version` under the plural `name`. */
export function resourceByName(group: string, version: string, name: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.name === name);
}

/** The resource type of a kind (`Pod`, `Deployment`, …). */
export function resourceByKind(kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => r.kind === kind) ?? customKinds.get(kind);
}

/** `resource.group` as API errors name a resource (`deployments.apps`, or `pods`). */
export function qualifiedName(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}
