/**
 * Cluster access: the few read-only Kubernetes operations the checks need, behind an interface
 * the checks depend on (tests give them a fake). Every call is bounded by `request-timeout`,
 * and every refusal becomes a KubeError that says what was refused and what RBAC rule is missing.
 *
 * API calls are plain HTTP requests on one undici connection pool with the kubeconfig's
 * credentials (client-node's KubeConfig: tokens, token files, exec plugins, client certificates,
 * proxies); the answers are read as JSON as the API server sends them. Exec and port-forward
 * (src/streams.ts) are loaded with the first stream a run opens. `close()` ends every stream,
 * local server and connection the run opened: nothing keeps the process alive after its verdict.
 */
import type {
  V1ConfigMap,
  V1Deployment,
  V1Endpoints,
  V1EndpointSlice,
  V1Namespace,
  V1Pod,
  V1Secret,
  V1Service,
  KubeConfig,
} from '@kubernetes/client-node';
// Only the request context of client-node's generated client, for KubeConfig.applySecurityAuthentication.
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { request } from 'undici';
import type { Streams } from './streams.js';
import { MfcError } from './errors.js';
import { CUT_SHORT, DEFAULT_MAX_BYTES, describeBody, describeNetworkError, flattenHeaders, formatMs, httpRequest, networkCode, readCapped, type HttpResponse } from './http.js';

/** What an access review asks: may I `verb` `resource[/subresource]` (named `name`) in `namespace`? */
export interface Permission {
  readonly verb: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Absent: the cluster scope. */
  readonly namespace?: string;
  readonly group?: string;
  /** One object (RBAC `resourceNames`). */
  readonly name?: string;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ProxyRequest {
  readonly method: 'GET' | 'POST';
  /** Path on the backend, starting with `/`, query string included. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly what: string;
  readonly signal?: AbortSignal;
}

/** A SelfSubjectRulesReview's answer (authorization.k8s.io/v1 SubjectRulesReviewStatus). */
export interface RulesReview {
  readonly resourceRules: readonly ResourceRule[];
  /** True when an authorizer could not list its rules (a webhook): a permission missing from the rules may still be allowed. */
  readonly incomplete: boolean;
  readonly evaluationError?: string;
}

export interface ResourceRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** A custom resource type: `monitoring.coreos.com/v1` `prometheuses`. */
export interface CustomResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** A custom object as the API returns it (the fields every object has; the rest is the kind's). */
export interface CustomObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly [k: string]: unknown };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
}

export interface Cluster {
  /** The API server URL (for messages). */
  readonly server: string;
  /** The kubeconfig context's namespace (`default` when it names none), where discovery looks first. */
  readonly defaultNamespace: string;
  version(signal?: AbortSignal): Promise<string>;
  /** `namespace` undefined: every namespace (a cluster-scope list). */
  listPods(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1Pod[]>;
  listServices(namespace: string, signal?: AbortSignal): Promise<V1Service[]>;
  /** undefined when the object does not exist (404). */
  readService(namespace: string, name: string, signal?: AbortSignal): Promise<V1Service | undefined>;
  readEndpoints(namespace: string, name: string, signal?: AbortSignal): Promise<V1Endpoints | undefined>;
  /**
   * The Service's EndpointSlices (discovery.k8s.io/v1, labelled kubernetes.io/service-name=<service>).
   * A cluster that does not serve them answers 404, a Role without them 403 (KubeErrors).
   */
  listEndpointSlices(namespace: string, service: string, signal?: AbortSignal): Promise<V1EndpointSlice[]>;
  readConfigMap(namespace: string, name: string, signal?: AbortSignal): Promise<V1ConfigMap | undefined>;
  /** `namespace` undefined: every namespace. */
  listConfigMaps(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1ConfigMap[]>;
  readSecret(namespace: string, name: string, signal?: AbortSignal): Promise<V1Secret | undefined>;
  /** `namespace` undefined: every namespace. */
  listSecrets(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1Secret[]>;
  /** undefined when the object, or its resource type, does not exist (404). */
  readCustom(type: CustomResource, namespace: string, name: string, signal?: AbortSignal): Promise<CustomObject | undefined>;
  /** `namespace` undefined: every namespace. A resource type the cluster does not serve answers 404 (a KubeError). */
  listCustom(type: CustomResource, namespace: string | undefined, labelSelector?: string, signal?: AbortSignal): Promise<CustomObject[]>;
  /** SelfSubjectAccessReview. */
  canI(permission: Permission, signal?: AbortSignal): Promise<{ allowed: boolean; reason: string }>;
  /**
   * SelfSubjectRulesReview: the rules the credentials have in `namespace` (one request for every
   * permission there). Optional: without it, each permission is reviewed on its own.
   */
  rulesIn?(namespace: string, signal?: AbortSignal): Promise<RulesReview>;
  /** SubjectAccessReview: may `user` (with `groups`) do it? */
  canUser(user: string, groups: readonly string[], permission: Permission, signal?: AbortSignal): Promise<{ allowed: boolean; reason: string }>;
  listDeployments(namespace: string, signal?: AbortSignal): Promise<V1Deployment[]>;
  /** A namespace (for its labels, which namespace selectors match); undefined when it does not exist. Optional: diagnosis notes its absence. */
  readNamespace?(name: string, signal?: AbortSignal): Promise<V1Namespace | undefined>;
  /** The last `tailLines` lines of a container's log (`previous`: of its last terminated run). */
  podLogs(namespace: string, pod: string, container: string, tailLines: number, previous?: boolean, signal?: AbortSignal): Promise<string>;
  /** Runs a read-only command in a container; resolves when it has ended. */
  exec(namespace: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult>;
  /** An HTTP request to a Service through the API server's service proxy. */
  proxy(namespace: string, service: string, port: string, req: ProxyRequest): Promise<HttpResponse>;
  /**
   * Forwards a local port on 127.0.0.1 to a pod's port. Rejects with the API server's or
   * kubelet's refusal (403, 404, a pod that does not run) before the port is opened.
   */
  portForward(namespace: string, pod: string, port: number): Promise<PortForwardHandle>;
  /** Ends every stream, local server and connection the access opened (the run is over). */
  close?(): Promise<void>;
}

/** A local port forwarded to a pod's port. */
export interface PortForwardHandle {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /**
   * Why the latest tunnel failed, when one did: the refused upgrade, or the kubelet's words on the
   * error channel (nothing listens on the pod's port). A request through `url` then fails with a
   * bare reset; this says why.
   */
  failure?(): KubeError | undefined;
  close(): Promise<void>;
}

/** A refusal or failure of the Kubernetes API, with the reason a user can act on. */
export class KubeError extends MfcError {
  override name = 'KubeError';
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** The description of an operation, for messages: `list pods in namespace taskflow`. */
export function describePermission(p: Permission): string {
  const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  const qualified = p.group ? `${resource}.${p.group}` : resource;
  const scope = p.namespace ? ` in namespace ${p.namespace}` : p.verb === 'list' || p.verb === 'watch' ? ' at the cluster scope' : '';
  return `${p.verb} ${qualified}${p.name ? ` ${p.name}` : ''}${scope}`;
}

/**
 * The Role rule a user must add to get a permission, as YAML. Given several permissions on the
 * same resource (a WebSocket stream needs `get` and `create`), one rule lists every verb.
 */
export function roleRule(permissions: Permission | readonly Permission[]): string {
  const all: readonly Permission[] = Array.isArray(permissions) ? permissions : [permissions as Permission];
  const p = all[0] as Permission;
  const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  const names = p.name ? `\n  resourceNames: ["${p.name}"]` : '';
  const verbs = [...new Set(all.map((q) => q.verb))].map((v) => `"${v}"`).join(', ');
  return `- apiGroups: ["${p.group ?? ''}"]\n  resources: ["${resource}"]${names}\n  verbs: [${verbs}]`;
}

/** The verbs a WebSocket stream (pods/exec, pods/portforward) is authorized as: `get`, and from Kubernetes 1.35 also `create`. */
export const STREAM_VERBS = ['get', 'create'] as const;

/** The permissions to open a stream of `subresource` in `namespace`. */
export function streamPermissions(subresource: 'exec' | 'portforward', namespace: string): Permission[] {
  return STREAM_VERBS.map((verb) => ({ verb, resource: 'pods', subresource, namespace }));
}

export class KubeCluster implements Cluster {
  readonly server: string;
  readonly defaultNamespace: string;
  /** The server URL without its trailing slash, every API path appended to it. */
  private readonly base: string;
  /** The undici dispatcher every API call of this access shares (one connection pool, closed by `close()`). */
  private dispatcher?: { close(): Promise<void>; destroy(): Promise<void> };
  /** The exec and port-forward streams, loaded with the first stream the run opens. */
  private streams?: Promise<Streams>;
  private closed = false;
  /** Rules reviews started ahead (primeRules), by namespace, until asked for. */
  private readonly primedRules = new Map<string, Promise<RulesReview>>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs: number,
  ) {
    this.server = kc.getCurrentCluster()?.server ?? '';
    this.base = this.server.replace(/\/+$/, '');
    this.defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  }

  async version(signal?: AbortSignal): Promise<string> {
    const info = await this.get<{ gitVersion?: string }>({ verb: 'get', resource: 'version' }, '/version', {}, signal);
    return info.gitVersion ?? '';
  }

  listPods(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1Pod[]> {
    return this.list({ verb: 'list', resource: 'pods', namespace }, core(namespace, 'pods'), labelSelector, signal);
  }

  listServices(namespace: string, signal?: AbortSignal): Promise<V1Service[]> {
    return this.list({ verb: 'list', resource: 'services', namespace }, core(namespace, 'services'), '', signal);
  }

  listConfigMaps(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1ConfigMap[]> {
    return this.list({ verb: 'list', resource: 'configmaps', namespace }, core(namespace, 'configmaps'), labelSelector, signal);
  }

  readSecret(namespace: string, name: string, signal?: AbortSignal): Promise<V1Secret | undefined> {
    return this.optional(this.get({ verb: 'get', resource: 'secrets', namespace, name }, core(namespace, 'secrets', name), {}, signal));
  }

  listSecrets(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1Secret[]> {
    return this.list({ verb: 'list', resource: 'secrets', namespace }, core(namespace, 'secrets'), labelSelector, signal);
  }

  readCustom(type: CustomResource, namespace: string, name: string, signal?: AbortSignal): Promise<CustomObject | undefined> {
    return this.optional(this.get({ verb: 'get', resource: type.plural, group: type.group, namespace, name }, grouped(type.group, type.version, namespace, type.plural, name), {}, signal));
  }

  listCustom(type: CustomResource, namespace: string | undefined, labelSelector?: string, signal?: AbortSignal): Promise<CustomObject[]> {
    const { group, version, plural } = type;
    return this.list({ verb: 'list', resource: plural, group, namespace }, grouped(group, version, namespace, plural), labelSelector ?? '', signal);
  }

  readService(namespace: string, name: string, signal?: AbortSignal): Promise<V1Service | undefined> {
    return this.optional(this.get({ verb: 'get', resource: 'services', namespace }, core(namespace, 'services', name), {}, signal));
  }

  readEndpoints(namespace: string, name: string, signal?: AbortSignal): Promise<V1Endpoints | undefined> {
    return this.optional(this.get({ verb: 'get', resource: 'endpoints', namespace }, core(namespace, 'endpoints', name), {}, signal));
  }

  listEndpointSlices(namespace: string, service: string, signal?: AbortSignal): Promise<V1EndpointSlice[]> {
    const p: Permission = { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace };
    return this.list(p, grouped('discovery.k8s.io', 'v1', namespace, 'endpointslices'), `kubernetes.io/service-name=${service}`, signal);
  }

  readConfigMap(namespace: string, name: string, signal?: AbortSignal): Promise<V1ConfigMap | undefined> {
    return this.optional(this.get({ verb: 'get', resource: 'configmaps', namespace }, core(namespace, 'configmaps', name), {}, signal));
  }

  async canI(p: Permission, signal?: AbortSignal): Promise<{ allowed: boolean; reason: string }> {
    const review = await this.post<AccessReview>(
      { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes(p) } },
      signal,
    );
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  }

  /**
   * Starts the rules review of `namespace` now, before anything asks for it (the run knows the
   * namespace it will most likely ask about before it has found the stack); the next
   * rulesIn(namespace) takes this answer, later ones ask again.
   */
  primeRules(namespace: string, signal?: AbortSignal): void {
    if (this.primedRules.has(namespace)) return;
    const review = this.reviewRules(namespace, signal);
    review.catch(() => undefined);
    this.primedRules.set(namespace, review);
  }

  rulesIn(namespace: string, signal?: AbortSignal): Promise<RulesReview> {
    const primed = this.primedRules.get(namespace);
    if (!primed) return this.reviewRules(namespace, signal);
    this.primedRules.delete(namespace);
    return primed;
  }

  private async reviewRules(namespace: string, signal?: AbortSignal): Promise<RulesReview> {
    const review = await this.post<{ status?: RulesReview }>(
      { verb: 'create', resource: 'selfsubjectrulesreviews', group: 'authorization.k8s.io' },
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } },
      signal,
    );
    const status = review.status;
    return {
      resourceRules: Array.isArray(status?.resourceRules) ? status.resourceRules : [],
      incomplete: status?.incomplete === true,
      ...(status?.evaluationError ? { evaluationError: status.evaluationError } : {}),
    };
  }

  async canUser(user: string, groups: readonly string[], p: Permission, signal?: AbortSignal): Promise<{ allowed: boolean; reason: string }> {
    const review = await this.post<AccessReview>(
      { verb: 'create', resource: 'subjectaccessreviews', group: 'authorization.k8s.io' },
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, groups: [...groups], resourceAttributes: attributes(p) } },
      signal,
    );
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  }

  listDeployments(namespace: string, signal?: AbortSignal): Promise<V1Deployment[]> {
    return this.list({ verb: 'list', resource: 'deployments', group: 'apps', namespace }, grouped('apps', 'v1', namespace, 'deployments'), '', signal);
  }

  readNamespace(name: string, signal?: AbortSignal): Promise<V1Namespace | undefined> {
    return this.optional(this.get({ verb: 'get', resource: 'namespaces', name }, `/api/v1/namespaces/${encodeURIComponent(name)}`, {}, signal));
  }

  podLogs(namespace: string, pod: string, container: string, tailLines: number, previous = false, signal?: AbortSignal): Promise<string> {
    const query = { container, tailLines: String(tailLines), ...(previous ? { previous: 'true' } : {}) };
    return this.send({ verb: 'get', resource: 'pods', subresource: 'log', namespace }, 'GET', `${core(namespace, 'pods', pod)}/log`, query, undefined, signal, 'text') as Promise<string>;
  }

  async exec(namespace: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult> {
    return (await this.openStreams()).exec(namespace, pod, container, command);
  }

  async proxy(namespace: string, service: string, port: string, req: ProxyRequest): Promise<HttpResponse> {
    const url = `${this.base}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${encodeURIComponent(port)}/proxy${req.path}`;
    const { headers, dispatcher } = await this.credentials(url, req.method);
    return httpRequest({ url, method: req.method, headers: { ...headers, ...req.headers }, body: req.body, dispatcher: dispatcher as never, timeoutMs: this.timeoutMs, signal: req.signal, what: req.what });
  }

  async portForward(namespace: string, pod: string, port: number): Promise<PortForwardHandle> {
    if (this.closed) throw new KubeError(`port-forward to pod ${namespace}/${pod}: the run is over`, 0, 'Closed');
    return (await this.openStreams()).portForward(namespace, pod, port);
  }

  /**
   * Ends everything this access opened: port-forwards (their local servers, sockets and
   * tunnels), exec streams, and the API calls' connection pool. Later calls fail.
   */
  async close(): Promise<void> {
    this.closed = true;
    const streams = this.streams;
    this.streams = undefined;
    await streams?.then((s) => s.close()).catch(() => undefined);
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    await dispatcher?.destroy().catch(() => undefined);
  }

  private openStreams(): Promise<Streams> {
    if (this.closed) return Promise.reject(new KubeError('stream: the run is over', 0, 'Closed'));
    return (this.streams ??= import('./streams.js').then((m) => new m.Streams(this.kc, this.server, this.timeoutMs)));
  }

  /**
   * The kubeconfig's credentials for one request (headers: a token, refreshed by exec plugins
   * and token files as client-node does; basic auth), and the connection pool every request of
   * this access shares (the TLS settings of the kubeconfig: its CA, client certificate, proxy).
   */
  private async credentials(url: string, method: 'GET' | 'POST'): Promise<{ headers: Record<string, string>; dispatcher: unknown }> {
    const ctx = new RequestContext(url, method === 'POST' ? HttpMethod.POST : HttpMethod.GET);
    await this.kc.applySecurityAuthentication(ctx);
    const own = ctx.getDispatcher() as { close(): Promise<void>; destroy(): Promise<void> } | undefined;
    if (own && !this.closed) {
      this.dispatcher ??= own;
      if (own !== this.dispatcher) void own.close().catch(() => undefined);
    }
    return { headers: ctx.getHeaders(), dispatcher: this.closed ? own : (this.dispatcher ?? own) };
  }

  private async optional<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return undefined;
      throw err;
    }
  }

  private get<T>(p: Permission, path: string, query: Record<string, string>, signal?: AbortSignal): Promise<T> {
    return this.send(p, 'GET', path, query, undefined, signal, 'json') as Promise<T>;
  }

  private post<T>(p: Permission, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.send(p, 'POST', path, {}, body, signal, 'json') as Promise<T>;
  }

  private async list<T>(p: Permission, path: string, labelSelector: string, signal?: AbortSignal): Promise<T[]> {
    const list = await this.get<{ items?: unknown }>(p, path, labelSelector ? { labelSelector } : {}, signal);
    return Array.isArray(list.items) ? (list.items as T[]) : [];
  }

  /**
   * One API call with the time limit, every failure turned into a KubeError. The answer's body is
   * read up to the size limit, and a success that is not the JSON object asked for (an HTML page,
   * plain text, a document cut short) is refused with what came instead.
   */
  private async send(
    p: Permission,
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string>,
    body: unknown,
    signal: AbortSignal | undefined,
    answer: 'json' | 'text',
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const search = new URLSearchParams(query).toString();
    const url = `${this.base}${path}${search ? `?${search}` : ''}`;
    try {
      if (this.closed) throw new KubeError(`${describePermission(p)}: the run is over`, 0, 'Closed');
      const { headers, dispatcher } = await this.credentials(url, method);
      const res = await request(url, {
        method,
        headers: { ...headers, accept: answer === 'json' ? 'application/json' : '*/*', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: dispatcher as never,
        signal: combined,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const bytes = await readCapped(
        res.body,
        DEFAULT_MAX_BYTES,
        () => res.body.destroy(),
        (limit) =>
          new KubeError(
            `${describePermission(p)}: the answer of the API server ${this.server} is larger than ${limit}; refusing to read it`,
            0,
            'TooLarge',
            'Something between the runner and the API server may be answering instead of it; check the server URL in the kubeconfig.',
          ),
      );
      const text = bytes.toString('utf8');
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const status = parseStatus(text);
        throw statusError(res.statusCode, status.reason ?? '', status.message ?? '', p);
      }
      if (answer === 'text') return text;
      return jsonObject(text, { status: res.statusCode, headers: flattenHeaders(res.headers), text, ms: 0 }, p, this.server);
    } catch (err) {
      if (timeout.aborted) throw new KubeError(`${describePermission(p)}: the API server gave no answer within ${formatMs(this.timeoutMs)} (request-timeout)`, 0, 'Timeout');
      if (signal?.aborted) throw new KubeError(`${describePermission(p)}: stopped, the run's time budget ran out`, 0, 'Aborted');
      if (err instanceof KubeError) throw err;
      throw toKubeError(err, p, this.server);
    }
  }
}

/** What a review of the access answers. */
interface AccessReview {
  readonly status?: { readonly allowed?: boolean; readonly reason?: string };
}

/** A core (v1) path: `/api/v1/namespaces/NS/pods[/NAME]`, or the cluster scope's `/api/v1/pods`. */
function core(namespace: string | undefined, resource: string, name?: string): string {
  return grouped('', 'v1', namespace, resource, name);
}

/** A path of an API group (`''`: the core group): `/apis/GROUP/VERSION/namespaces/NS/RESOURCE[/NAME]`. */
function grouped(group: string, version: string, namespace: string | undefined, resource: string, name?: string): string {
  const root = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${root}${scope}/${resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** The parsed JSON object of a success, or a KubeError saying what came instead. */
function jsonObject(text: string, seen: HttpResponse, p: Permission, server: string): unknown {
  const refuse = (problem: string): KubeError =>
    new KubeError(
      `${describePermission(p)}: the API server ${server} answered HTTP ${seen.status} with ${problem}`,
      0,
      'BadAnswer',
      'Something between the runner and the API server (a proxy, an ingress, a load balancer) answered instead of it, or the answer was cut short: check the server URL in the kubeconfig.',
    );
  if (!/^\s*\{/.test(text)) throw refuse(`${/^\s*\[/.test(text) ? 'a JSON list' : describeBody(seen)} instead of a JSON object`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw refuse(`JSON that does not parse, cut short or malformed (${(err as Error).message.split('\n')[0]})`);
  }
}


/** Turns a network failure (no HTTP answer, or one cut short) into a KubeError. */
export function toKubeError(err: unknown, p: Permission, server: string): KubeError {
  if (CUT_SHORT.has(networkCode(err))) {
    return new KubeError(
      `${describePermission(p)}: the API server ${server}: ${describeNetworkError(err)}`,
      0,
      'NetworkError',
      'The exchange broke off: the API server, or a proxy or load balancer in front of it, closed the connection or reset the request. Retry; if it persists, look at their logs.',
    );
  }
  const reason = describeNetworkError(err).startsWith('TLS') ? 'TLSError' : 'NetworkError';
  return new KubeError(`${describePermission(p)}: cannot reach the API server ${server}: ${describeNetworkError(err)}`, 0, reason, networkHint(err));
}


export function networkHint(err: unknown): string | undefined {
  const text = describeNetworkError(err);
  if (text.startsWith('TLS')) return "Check the cluster's certificate-authority-data in the kubeconfig; it must be the CA that signed the API server's certificate.";
  if (/refused|resolve|unreachable/.test(text)) return 'Check the server URL in the kubeconfig and that the runner can reach the API server (private clusters need a self-hosted runner or a tunnel).';
  return undefined;
}

export function statusError(code: number, reason: string, message: string, p: Permission, what = describePermission(p)): KubeError {
  const detail = message ? `: ${message}` : '';
  switch (code) {
    case 401:
      return new KubeError(
        `${what}: HTTP 401 Unauthorized — the API server rejected the kubeconfig's credentials${detail}`,
        401,
        reason || 'Unauthorized',
        'The token or client certificate is invalid or expired: issue a fresh one (e.g. `kubectl create token <service-account>`) and update the secret that holds the kubeconfig.',
      );
    case 403:
      return new KubeError(
        `${what}: HTTP 403 Forbidden${detail}`,
        403,
        reason || 'Forbidden',
        `The credentials lack the right to ${what}. Add this rule to the Role bound to them:\n${roleRule(p)}`,
      );
    case 404:
      return new KubeError(`${what}: HTTP 404 NotFound${detail}`, 404, reason || 'NotFound');
    default:
      return new KubeError(`${what}: HTTP ${code}${reason ? ` ${reason}` : ''}${detail}`, code, reason || 'Error');
  }
}

export function parseStatus(body: unknown): { reason?: string; message?: string } {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      const seen: HttpResponse = { status: 0, headers: {}, text: body, ms: 0 };
      const description = describeBody(seen);
      if (description.startsWith('an HTML page')) {
        return { message: `${description} instead of a Kubernetes Status: a proxy, ingress or load balancer in front of the API server answered` };
      }
      return { message: body.trim().slice(0, 200) };
    }
  }
  if (value && typeof value === 'object') {
    const { reason, message } = value as { reason?: unknown; message?: unknown };
    return { reason: typeof reason === 'string' ? reason : undefined, message: typeof message === 'string' ? message : undefined };
  }
  return {};
}

/** A review's resourceAttributes; `name` too, or a Role that grants only named objects (resourceNames) is judged on the whole resource. */
function attributes(p: Permission): { verb: string; resource: string; subresource?: string; namespace?: string; group: string; name?: string } {
  return { verb: p.verb, resource: p.resource, subresource: p.subresource, namespace: p.namespace, group: p.group ?? '', ...(p.name ? { name: p.name } : {}) };
}
