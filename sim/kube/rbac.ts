/**
 * Role-based access control evaluated from the Role, ClusterRole, RoleBinding and
 * ClusterRoleBinding objects in the store, as the API server's RBAC authorizer does (with the
 * `system:masters` group always allowed).
 */
import type { KubeObject } from './view.js';

export interface UserInfo {
  name: string;
  groups: string[];
}

/** What a request asks to do, as an authorizer sees it. */
export interface AuthzAttributes {
  user: UserInfo;
  verb: string;
  /** Resource requests name a resource; the others a path (`/version`, `/api`). */
  resource?: string;
  subresource?: string;
  apiGroup?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

export interface Decision {
  allowed: boolean;
  /** `RBAC: allowed by RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns"`, or empty. */
  reason: string;
}

/** authorization.k8s.io/v1 ResourceRule, as a SelfSubjectRulesReview lists it. */
export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs: string[];
}

type Lister = (kind: string, namespace?: string) => KubeObject[];

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface RoleRef {
  kind: 'Role' | 'ClusterRole';
  name: string;
}

function has(list: string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

function resourceMatches(rule: PolicyRule, a: AuthzAttributes): boolean {
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!;
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (!!a.subresource && r === `*/${a.subresource}`),
  );
}

function ruleAllows(rule: PolicyRule, a: AuthzAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resource) {
    const path = a.path ?? '';
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup ?? '') || !resourceMatches(rule, a)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (!!a.name && names.includes(a.name));
}

function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.name === `system:serviceaccount:${s.namespace ?? bindingNamespace}:${s.name}`;
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string | undefined): string {
  return s.kind === 'ServiceAccount' ? `${s.kind} "${s.name}/${s.namespace ?? bindingNamespace}"` : `${s.kind} "${s.name}"`;
}

function describeBinding(b: KubeObject): string {
  return b.kind === 'RoleBinding' ? `RoleBinding "${b.metadata.name}/${b.metadata.namespace}"` : `ClusterRoleBinding "${b.metadata.name}"`;
}

export class RbacAuthorizer {
  constructor(private readonly list: Lister) {}

  private rulesOf(ref: RoleRef, bindingNamespace: string | undefined): PolicyRule[] {
    const role = this.list(ref.kind, ref.kind === 'Role' ? bindingNamespace : undefined).find((r) => r.metadata.name === ref.name);
    return (role?.rules ?? []) as PolicyRule[];
  }

  /** The bindings that apply: every ClusterRoleBinding, then the RoleBindings of the namespace. */
  private bindings(namespace: string | undefined): KubeObject[] {
    const cluster = this.list('ClusterRoleBinding');
    return namespace ? [...cluster, ...this.list('RoleBinding', namespace)] : cluster;
  }

  /**
   * The rules `user` has in `namespace`, as the RBAC authorizer's RulesFor lists them for a
   * SelfSubjectRulesReview (plugin/pkg/auth/authorizer/rbac/rbac.go): every rule of the roles
   * bound by a ClusterRoleBinding, then those bound by a RoleBinding of the namespace. RBAC lists
   * them completely; `system:masters` holds cluster-admin's `*` rules.
   */
  rulesFor(user: UserInfo, namespace: string): { resourceRules: ResourceRuleInfo[]; nonResourceRules: NonResourceRuleInfo[] } {
    if (user.groups.includes('system:masters')) {
      return { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] };
    }
    const resourceRules: ResourceRuleInfo[] = [];
    const nonResourceRules: NonResourceRuleInfo[] = [];
    for (const binding of this.bindings(namespace)) {
      const ns = binding.metadata.namespace;
      if (!((binding.subjects ?? []) as Subject[]).some((s) => subjectMatches(s, user, ns))) continue;
      for (const rule of this.rulesOf(binding.roleRef as RoleRef, ns)) {
        if (rule.nonResourceURLs?.length) nonResourceRules.push({ verbs: [...(rule.verbs ?? [])], nonResourceURLs: [...rule.nonResourceURLs] });
        if (rule.resources?.length) {
          resourceRules.push({
            verbs: [...(rule.verbs ?? [])],
            apiGroups: [...(rule.apiGroups ?? [])],
            resources: [...rule.resources],
            ...(rule.resourceNames?.length ? { resourceNames: [...rule.resourceNames] } : {}),
          });
        }
      }
    }
    return { resourceRules, nonResourceRules };
  }

  authorize(a: AuthzAttributes): Decision {
    if (a.user.groups.includes('system:masters')) return { allowed: true, reason: '' };
    for (const binding of this.bindings(a.namespace)) {
      const ns = binding.metadata.namespace;
      const subject = ((binding.subjects ?? []) as Subject[]).find((s) => subjectMatches(s, a.user, ns));
      if (!subject) continue;
      const ref = binding.roleRef as RoleRef;
      if (this.rulesOf(ref, ns).some((rule) => ruleAllows(rule, a))) {
        const source = `${describeBinding(binding)} of ${ref.kind} "${ref.name}" to ${describeSubject(subject, ns)}`;
        return { allowed: true, reason: `RBAC: allowed by ${source}` };
      }
    }
    return { allowed: false, reason: '' };
  }
}
