/**
 * Access reviews (authorization.k8s.io/v1): SelfSubjectAccessReview for the caller,
 * SubjectAccessReview and LocalSubjectAccessReview for any user, answered 201 by the same RBAC
 * evaluation the server itself enforces; SelfSubjectRulesReview lists the caller's rules in a
 * namespace (pkg/registry/authorization/selfsubjectrulesreview/rest.go).
 */
import type { RbacAuthorizer, UserInfo } from './rbac.js';
import { badRequest } from './status.js';

interface ReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
}

const REVIEW_KINDS: Record<string, string> = {
  selfsubjectaccessreviews: 'SelfSubjectAccessReview',
  subjectaccessreviews: 'SubjectAccessReview',
  localsubjectaccessreviews: 'LocalSubjectAccessReview',
  selfsubjectrulesreviews: 'SelfSubjectRulesReview',
};

export function isAccessReview(resource: string | undefined): boolean {
  return resource !== undefined && resource in REVIEW_KINDS;
}

/**
 * How the API server's authorizers list rules: `rbac` (Node,RBAC: complete for every user but a
 * node), or `webhook` — a webhook authorizer too (GKE, EKS access entries, …), which cannot
 * enumerate its rules, so the union answers incomplete with the webhook's error
 * (staging/src/k8s.io/apiserver/plugin/pkg/authorizer/webhook/webhook.go RulesFor).
 */
export type RulesMode = 'rbac' | 'webhook';

/** Answers a review posted to `resource` by `caller` (in `namespace` for a local review). */
export function review(
  rbac: RbacAuthorizer,
  resource: string,
  caller: UserInfo,
  namespace: string | undefined,
  body: unknown,
  rulesMode: RulesMode = 'rbac',
) {
  if (resource === 'selfsubjectrulesreviews') return rulesReview(rbac, caller, body, rulesMode);
  const spec = ((body as { spec?: ReviewSpec } | null)?.spec ?? {}) as ReviewSpec;
  const self = resource === 'selfsubjectaccessreviews';
  if (!self && !spec.user && !spec.groups?.length) throw badRequest(`${REVIEW_KINDS[resource]}.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified`);
  const ra = spec.resourceAttributes;
  if (resource === 'localsubjectaccessreviews' && ra?.namespace !== namespace) {
    throw badRequest(`spec.resourceAttributes.namespace must match metadata.namespace`);
  }
  const user: UserInfo = self ? caller : { name: spec.user ?? '', groups: spec.groups ?? [] };
  const decision = ra
    ? rbac.authorize({
        user,
        verb: ra.verb ?? '',
        resource: ra.resource ?? '',
        subresource: ra.subresource || undefined,
        apiGroup: ra.group ?? '',
        namespace: ra.namespace || undefined,
        name: ra.name || undefined,
      })
    : rbac.authorize({ user, verb: spec.nonResourceAttributes?.verb ?? '', path: spec.nonResourceAttributes?.path ?? '' });
  return {
    kind: REVIEW_KINDS[resource],
    apiVersion: 'authorization.k8s.io/v1',
    metadata: namespace && !self ? { namespace } : {},
    spec,
    status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
  };
}

/** A SelfSubjectRulesReview: spec.namespace is required (its validation). */
function rulesReview(rbac: RbacAuthorizer, caller: UserInfo, body: unknown, mode: RulesMode) {
  const spec = ((body as { spec?: { namespace?: string } } | null)?.spec ?? {}) as { namespace?: string };
  if (!spec.namespace) throw badRequest('SelfSubjectRulesReview.authorization.k8s.io "" is invalid: spec.namespace: Required value: the namespace to check rules for');
  const rules = rbac.rulesFor(caller, spec.namespace);
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec,
    status: {
      resourceRules: rules.resourceRules,
      nonResourceRules: rules.nonResourceRules,
      incomplete: mode === 'webhook',
      ...(mode === 'webhook' ? { evaluationError: 'webhook authorizer does not support user rule resolution' } : {}),
    },
  };
}
