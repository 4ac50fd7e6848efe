/**
 * `Status` error bodies exactly as the Kubernetes API server writes them (apimachinery's
 * `errors.New*` helpers and the apiserver's forbidden message).
 */
import { STATUS_CODES } from 'node:http';
import { qualifiedName } from './resources.js';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message: string; field?: string }[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** An API error: the HTTP code and the Status body that goes with it. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }

  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

function resourceDetails(resource: string, group: string, name?: string): StatusDetails {
  return { ...(name ? { name } : {}), ...(group ? { group } : {}), kind: resource };
}

export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');

export const badRequest = (message: string) => failure(400, 'BadRequest', message);

export const serviceUnavailable = (message: string) => failure(503, 'ServiceUnavailable', message);

export const internalError = (message: string) =>
  failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export const notFoundPath = () => failure(404, 'NotFound', 'the server could not find the requested resource', {});

export function notFound(resource: string, group: string, name: string): ApiError {
  return failure(404, 'NotFound', `${qualifiedName(resource, group)} "${name}" not found`, resourceDetails(resource, group, name));
}

export function methodNotSupported(resource: string, group: string, verb: string): ApiError {
  const message = `${verb} is not supported on resources of kind "${qualifiedName(resource, group)}"`;
  return failure(405, 'MethodNotAllowed', message, resourceDetails(resource, group));
}

/** `410 Expired`, sent as a watch ERROR event when a resourceVersion is too old. */
export function expired(requested: number, oldest: number): ApiError {
  return failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

/** The request an authorizer judged, as named in a forbidden message. */
export interface ForbiddenAttributes {
  user: string;
  verb: string;
  path: string;
  resource?: string;
  subresource?: string;
  apiGroup?: string;
  namespace?: string;
  name?: string;
}

/** `pods "x" is forbidden: User "u" cannot get resource "pods/exec" in API group "" in the namespace "ns"`. */
export function forbidden(a: ForbiddenAttributes): ApiError {
  if (!a.resource) {
    return failure(403, 'Forbidden', `forbidden: User "${a.user}" cannot ${a.verb} path "${a.path}"`, {});
  }
  const group = a.apiGroup ?? '';
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const why = `User "${a.user}" cannot ${a.verb} resource "${resource}" in API group "${group}" ${scope}`;
  const subject = a.name ? `${qualifiedName(a.resource, group)} "${a.name}"` : qualifiedName(a.resource, group);
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, resourceDetails(a.resource, group, a.name));
}

/**
 * The refusal of the second authorization of a WebSocket upgrade of pods/exec, pods/attach or
 * pods/portforward (1.35, AuthorizePodWebsocketUpgradeCreatePermission): pkg/registry/core/pod/rest
 * authorize.go `ensureAuthorizedForVerb` answers `apierrors.NewForbidden(pods, name,
 * errors.New(reason))` with the authorizer's reason, which RBAC leaves empty when no rule
 * matched. So the message names neither the user nor the verb: `pods "x" is forbidden: `.
 */
export function forbiddenUpgrade(resource: string, group: string, name: string, reason = ''): ApiError {
  const subject = name ? `${qualifiedName(resource, group)} "${name}"` : qualifiedName(resource, group);
  return failure(403, 'Forbidden', `${subject} is forbidden: ${reason}`, resourceDetails(resource, group, name));
}

/**
 * A kubelet's own answer to a streaming request it refuses (plain text, not a Status: go-restful's
 * `WriteError` or the CRI streaming `WriteError`), which the API server's upgrade-aware proxy
 * writes back to the client unchanged.
 */
export class KubeletError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A Status for an arbitrary HTTP code (injected faults), with the usual reason for that code. */
export function failureStatus(code: number, message?: string): Status {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    410: 'Expired',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return failure(code, reasons[code] ?? 'Unknown', message ?? STATUS_CODES[code] ?? 'error').status;
}
