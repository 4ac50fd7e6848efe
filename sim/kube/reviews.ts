/**
 * Access reviews (authorization.k8s.io/v1): SelfSubjectAccessReview for the caller,
 * SubjectAccessReview and LocalSubjectAccessReview for any user, answered 201 by the same RBAC
 * evaluation the server itself enforces.
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
};

export function isAccessReview(resource: string | undefined): boolean {
  return resource !== undefined && resource in REVIEW_KINDS;
}

/** Answers a review posted to `resource` by `caller` (in `namespace` for a local review). */
export function review(
  rbac: RbacAuthorizer,
  resource: string,
  caller: UserInfo,
  namespace: string | undefined,
  body: unknown,
) {
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
