/**
 * Reviewing what the credentials may do, in one parallel round: a SelfSubjectRulesReview per
 * namespace lists every rule the credentials have there, and each permission is matched against
 * them as the RBAC authorizer matches a request (plugin/pkg/auth/authorizer/rbac/rbac.go,
 * pkg/apis/rbac/v1/evaluation_helpers.go: verbs, apiGroups, resources — `*`, `pods/exec`,
 * or a star before the subresource — and resourceNames). What the rules cannot settle is asked with a
 * SelfSubjectAccessReview: a cluster-scope permission (a namespace's rules do not say whether a
 * rule came from a ClusterRoleBinding), a namespace whose rules are incomplete (a webhook
 * authorizer, as on GKE, cannot list its rules), and every permission the rules do not grant (the
 * authorizers get the last word before a check fails).
 */
import { KubeError, type Cluster, type Permission, type ResourceRule, type RulesReview } from './cluster.js';

function has(list: readonly string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

/** Does `rule` grant `p`? */
export function ruleGrants(rule: ResourceRule, p: Permission): boolean {
  if (!has(rule.verbs, p.verb) || !has(rule.apiGroups, p.group ?? '')) return false;
  const combined = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  const resourceOk = (rule.resources ?? []).some((r) => r === '*' || r === combined || (!!p.subresource && r === `*/${p.subresource}`));
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (!!p.name && names.includes(p.name));
}

/** Reviews every permission; returns, in the same order, whether each is allowed. */
export async function reviewAll(cluster: Cluster, permissions: readonly Permission[], signal?: AbortSignal): Promise<boolean[]> {
  const namespaces = [...new Set(permissions.flatMap((p) => (p.namespace ? [p.namespace] : [])))];
  const rules = new Map<string, RulesReview>();
  if (cluster.rulesIn) {
    const reviews = await Promise.all(namespaces.map((ns) => (cluster.rulesIn as NonNullable<Cluster['rulesIn']>)(ns, signal).catch(notReviewable)));
    namespaces.forEach((ns, i) => {
      const review = reviews[i];
      if (review && !review.incomplete) rules.set(ns, review);
    });
  }
  return Promise.all(
    permissions.map(async (p) => {
      const known = p.namespace ? rules.get(p.namespace) : undefined;
      if (known?.resourceRules.some((r) => ruleGrants(r, p))) return true;
      return (await cluster.canI(p, signal)).allowed;
    }),
  );
}

/** A rules review that could not be made (refused, not served): each permission is reviewed on its own instead. */
function notReviewable(err: unknown): undefined {
  if (err instanceof KubeError && (err.status === 403 || err.status === 404 || err.status === 405)) return undefined;
  throw err;
}
