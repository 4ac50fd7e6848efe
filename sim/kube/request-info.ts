/**
 * Turns a request path into what the API server authorizes and routes on (a port of the
 * apiserver's RequestInfoFactory): resource or non-resource request, verb, group, version,
 * namespace, resource, name, subresource, and the rest of the path (a proxied path).
 */

export interface RequestInfo {
  isResourceRequest: boolean;
  /** The URL path, still percent-encoded. */
  path: string;
  /** The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  apiGroup: string;
  apiVersion: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** Path after `…/<subresource>/`, percent-encoding kept (the path a proxy forwards). */
  rest: string;
}

const METHOD_VERBS: Record<string, string> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** Subresources of a namespace, which are not resources in their own right. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The name a list/watch pins with `fieldSelector=metadata.name=x`, which RBAC resourceNames see. */
function exactName(fieldSelector: string | null): string | undefined {
  const m = /^metadata\.name==?([^,]+)$/.exec(fieldSelector ?? '');
  return m?.[1];
}

export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const raw = path.replace(/^\/+/, '').split('/');
  const nonResource: RequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase(), apiGroup: '', apiVersion: '', rest: '' };
  if (method === 'HEAD') nonResource.verb = 'get';
  const prefixLength = raw[0] === 'api' ? 2 : raw[0] === 'apis' ? 3 : 0;
  if (prefixLength === 0 || raw.length <= prefixLength) return nonResource;
  const info: RequestInfo = {
    isResourceRequest: true,
    path,
    verb: METHOD_VERBS[method] ?? method.toLowerCase(),
    apiGroup: raw[0] === 'api' ? '' : raw[1],
    apiVersion: raw[prefixLength - 1],
    rest: '',
  };
  let parts = raw.slice(prefixLength);
  if (parts[0] === 'watch') {
    info.verb = 'watch';
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = decode(parts[1]);
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
  }
  [info.resource, info.name, info.subresource] = parts.slice(0, 3).map(decode);
  if (parts[0] === '') info.resource = undefined;
  if (parts[1] === '') info.name = undefined;
  if (info.subresource === '') info.subresource = undefined;
  info.rest = parts.slice(3).join('/');
  if (!info.name && info.verb === 'get') {
    // ListOptions.Watch is decoded by Convert_Slice_string_To_bool: anything but "0" and
    // "false" (any case) is true, so the Python client's `watch=True` watches.
    const watch = url.searchParams.get('watch');
    info.verb = watch !== null && watch !== '0' && watch.toLowerCase() !== 'false' ? 'watch' : 'list';
    info.name = exactName(url.searchParams.get('fieldSelector'));
  } else if (!info.name && info.verb === 'watch') {
    info.name = exactName(url.searchParams.get('fieldSelector'));
  }
  if (!info.name && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}
