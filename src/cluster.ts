/**
 * Cluster access: the few read-only Kubernetes operations the checks need, behind an interface
 * the checks depend on (tests give them a fake). Every call is bounded by `request-timeout`,
 * and every refusal becomes a KubeError that says what was refused and what RBAC rule is missing.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  HttpMethod,
  Observable,
  PortForward,
  RequestContext,
  ResponseContext,
  VersionApi,
  type KubeConfig,
  type ResponseBody,
  type V1ConfigMap,
  type V1Deployment,
  type V1Endpoints,
  type V1Namespace,
  type V1Pod,
  type V1Secret,
  type V1Service,
  type V1Status,
} from '@kubernetes/client-node';
import { MfcError } from './errors.js';
import { DEFAULT_MAX_BYTES, describeBody, describeNetworkError, formatMs, httpRequest, networkCode, readCapped, type HttpResponse } from './http.js';

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
  /** Forwards a local port on 127.0.0.1 to a pod's port; returns its base URL. */
  portForward(namespace: string, pod: string, port: number): Promise<{ url: string; close(): Promise<void> }>;
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

/** The Role rule a user must add to get a permission, as YAML. */
export function roleRule(p: Permission): string {
  const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  const names = p.name ? `\n  resourceNames: ["${p.name}"]` : '';
  return `- apiGroups: ["${p.group ?? ''}"]\n  resources: ["${resource}"]${names}\n  verbs: ["${p.verb}"]`;
}

export class KubeCluster implements Cluster {
  readonly server: string;
  readonly defaultNamespace: string;
  private readonly core: CoreV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly versionApi: VersionApi;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs: number,
  ) {
    this.server = kc.getCurrentCluster()?.server ?? '';
    this.defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
    this.core = kc.makeApiClient(CoreV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
    this.versionApi = kc.makeApiClient(VersionApi);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async version(signal?: AbortSignal): Promise<string> {
    const info = await this.call({ verb: 'get', resource: 'version' }, signal, (o) => this.versionApi.getCode(undefined, o));
    return info.gitVersion;
  }

  async listPods(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1Pod[]> {
    const list = await this.call({ verb: 'list', resource: 'pods', namespace }, signal, (o) =>
      namespace === undefined ? this.core.listPodForAllNamespaces({ labelSelector }, o) : this.core.listNamespacedPod({ namespace, labelSelector }, o),
    );
    return list.items;
  }

  async listServices(namespace: string, signal?: AbortSignal): Promise<V1Service[]> {
    const list = await this.call({ verb: 'list', resource: 'services', namespace }, signal, (o) => this.core.listNamespacedService({ namespace }, o));
    return list.items;
  }

  async listConfigMaps(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1ConfigMap[]> {
    const list = await this.call({ verb: 'list', resource: 'configmaps', namespace }, signal, (o) =>
      namespace === undefined ? this.core.listConfigMapForAllNamespaces({ labelSelector }, o) : this.core.listNamespacedConfigMap({ namespace, labelSelector }, o),
    );
    return list.items;
  }

  readSecret(namespace: string, name: string, signal?: AbortSignal): Promise<V1Secret | undefined> {
    return this.optional(this.call({ verb: 'get', resource: 'secrets', namespace, name }, signal, (o) => this.core.readNamespacedSecret({ namespace, name }, o)));
  }

  async listSecrets(namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<V1Secret[]> {
    const list = await this.call({ verb: 'list', resource: 'secrets', namespace }, signal, (o) =>
      namespace === undefined ? this.core.listSecretForAllNamespaces({ labelSelector }, o) : this.core.listNamespacedSecret({ namespace, labelSelector }, o),
    );
    return list.items;
  }

  readCustom(type: CustomResource, namespace: string, name: string, signal?: AbortSignal): Promise<CustomObject | undefined> {
    return this.optional(
      this.call({ verb: 'get', resource: type.plural, group: type.group, namespace, name }, signal, (o) =>
        this.custom.getNamespacedCustomObject({ group: type.group, version: type.version, namespace, plural: type.plural, name }, o) as Promise<CustomObject>,
      ),
    );
  }

  async listCustom(type: CustomResource, namespace: string | undefined, labelSelector?: string, signal?: AbortSignal): Promise<CustomObject[]> {
    const { group, version, plural } = type;
    const list = (await this.call({ verb: 'list', resource: plural, group, namespace }, signal, (o) =>
      namespace === undefined
        ? this.custom.listClusterCustomObject({ group, version, plural, labelSelector }, o)
        : this.custom.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector }, o),
    )) as { items?: unknown };
    return Array.isArray(list.items) ? (list.items as CustomObject[]) : [];
  }

  readService(namespace: string, name: string, signal?: AbortSignal): Promise<V1Service | undefined> {
    return this.optional(this.call({ verb: 'get', resource: 'services', namespace }, signal, (o) => this.core.readNamespacedService({ namespace, name }, o)));
  }

  readEndpoints(namespace: string, name: string, signal?: AbortSignal): Promise<V1Endpoints | undefined> {
    return this.optional(this.call({ verb: 'get', resource: 'endpoints', namespace }, signal, (o) => this.core.readNamespacedEndpoints({ namespace, name }, o)));
  }

  readConfigMap(namespace: string, name: string, signal?: AbortSignal): Promise<V1ConfigMap | undefined> {
    return this.optional(this.call({ verb: 'get', resource: 'configmaps', namespace }, signal, (o) => this.core.readNamespacedConfigMap({ namespace, name }, o)));
  }

  async canI(p: Permission, signal?: AbortSignal): Promise<{ allowed: boolean; reason: string }> {
    const review = await this.call({ verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' }, signal, (o) =>
      this.authz.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes(p) } } }, o),
    );
    return { allowed: Boolean(review.status?.allowed), reason: review.status?.reason ?? '' };
  }

  async canUser(user: string, groups: readonly string[], p: Permission, signal?: AbortSignal): Promise<{ allowed: boolean; reason: string }> {
    const review = await this.call({ verb: 'create', resource: 'subjectaccessreviews', group: 'authorization.k8s.io' }, signal, (o) =>
      this.authz.createSubjectAccessReview(
        { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, groups: [...groups], resourceAttributes: attributes(p) } } },
        o,
      ),
    );
    return { allowed: Boolean(review.status?.allowed), reason: review.status?.reason ?? '' };
  }

  async listDeployments(namespace: string, signal?: AbortSignal): Promise<V1Deployment[]> {
    const list = await this.call({ verb: 'list', resource: 'deployments', group: 'apps', namespace }, signal, (o) => this.apps.listNamespacedDeployment({ namespace }, o));
    return list.items;
  }

  readNamespace(name: string, signal?: AbortSignal): Promise<V1Namespace | undefined> {
    return this.optional(this.call({ verb: 'get', resource: 'namespaces', name }, signal, (o) => this.core.readNamespace({ name }, o)));
  }

  podLogs(namespace: string, pod: string, container: string, tailLines: number, previous = false, signal?: AbortSignal): Promise<string> {
    return this.call(
      { verb: 'get', resource: 'pods', subresource: 'log', namespace },
      signal,
      (o) => this.core.readNamespacedPodLog({ namespace, name: pod, container, tailLines, previous }, o),
      'text',
    );
  }

  async exec(namespace: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult> {
    const stdout = collector();
    const stderr = collector();
    const permission: Permission = { verb: 'get', resource: 'pods', subresource: 'exec', namespace };
    return new Promise<ExecResult>((resolve, reject) => {
      let socket: { close(): void } | undefined;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket?.close();
        fn();
      };
      const timer = setTimeout(
        () => finish(() => reject(new KubeError(`exec in pod ${pod}: no answer within ${formatMs(this.timeoutMs)} (request-timeout)`, 0, 'Timeout'))),
        this.timeoutMs,
      );
      const onStatus = (status: V1Status): void =>
        finish(() => resolve({ exitCode: exitCodeOf(status), stdout: stdout.text(), stderr: stderr.text() || (status.status === 'Success' ? '' : status.message ?? '') }));
      new Exec(this.kc)
        .exec(namespace, pod, container, [...command], stdout.stream, stderr.stream, null, false, onStatus)
        .then((ws) => {
          socket = ws;
          if (settled) ws.close();
          ws.on('close', () =>
            finish(() =>
              reject(new KubeError(`exec in pod ${pod}: the connection closed before the command reported its exit status`, 0, 'ExecIncomplete')),
            ),
          );
        })
        .catch((err: unknown) => finish(() => reject(execError(err, permission, pod))));
    });
  }

  async proxy(namespace: string, service: string, port: string, req: ProxyRequest): Promise<HttpResponse> {
    const url = `${this.server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${encodeURIComponent(port)}/proxy${req.path}`;
    const ctx = new RequestContext(url, req.method === 'POST' ? HttpMethod.POST : HttpMethod.GET);
    await this.kc.applySecurityAuthentication(ctx);
    return httpRequest({
      url,
      method: req.method,
      headers: { ...ctx.getHeaders(), ...req.headers },
      body: req.body,
      dispatcher: ctx.getDispatcher() as never,
      timeoutMs: this.timeoutMs,
      signal: req.signal,
      what: req.what,
    });
  }

  async portForward(namespace: string, pod: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
    const forward = new PortForward(this.kc, true);
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      forward.portForward(namespace, pod, [port], socket, null, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port: local } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${local}`,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  private async optional<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Runs one API call with the time limit, turning every failure into a KubeError. The answer's
   * body is read up to the size limit, and a success that is not the JSON object asked for (an
   * HTML page, plain text, a document cut short) is refused with what came instead.
   */
  private async call<T>(p: Permission, signal: AbortSignal | undefined, fn: (options: never) => Promise<T>, answer: 'json' | 'text' = 'json'): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    // client-node's per-call middleware: give the request our abort signal, and read its answer with our limits.
    const options = {
      middleware: [
        {
          pre: (ctx: RequestContext) => {
            ctx.setSignal(combined);
            return new Observable(Promise.resolve(ctx));
          },
          post: (res: ResponseContext) => {
            res.body = checkedBody(res, p, this.server, answer);
            return new Observable(Promise.resolve(res));
          },
        },
      ],
      middlewareMergeStrategy: 'append',
    } as never;
    try {
      return await fn(options);
    } catch (err) {
      if (timeout.aborted) throw new KubeError(`${describePermission(p)}: the API server gave no answer within ${formatMs(this.timeoutMs)} (request-timeout)`, 0, 'Timeout');
      if (signal?.aborted) throw new KubeError(`${describePermission(p)}: stopped, the run's time budget ran out`, 0, 'Aborted');
      if (err instanceof KubeError) throw err;
      throw toKubeError(err, p, this.server);
    }
  }
}

/**
 * The body of an API answer, read at most once and at most DEFAULT_MAX_BYTES; for a success that
 * must be JSON, anything else is refused with a description of what came.
 */
function checkedBody(res: ResponseContext, p: Permission, server: string, answer: 'json' | 'text'): ResponseBody {
  const original = res.body;
  let read: Promise<Buffer> | undefined;
  const bytes = (): Promise<Buffer> => (read ??= readApiBody(original, p, server));
  const ok = res.httpStatusCode >= 200 && res.httpStatusCode < 300;
  return {
    text: async () => {
      const text = (await bytes()).toString('utf8');
      if (answer === 'json' && ok) {
        const problem = notJsonObject(text, { status: res.httpStatusCode, headers: res.headers, text, ms: 0 });
        if (problem) {
          throw new KubeError(
            `${describePermission(p)}: the API server ${server} answered HTTP ${res.httpStatusCode} with ${problem}`,
            0,
            'BadAnswer',
            'Something between the runner and the API server (a proxy, an ingress, a load balancer) answered instead of it, or the answer was cut short: check the server URL in the kubeconfig.',
          );
        }
      }
      return text;
    },
    binary: bytes,
    stream: () => null,
  };
}

/** What a success body is when it is not a JSON object, or undefined when it is one. */
function notJsonObject(text: string, seen: HttpResponse): string | undefined {
  if (!/^\s*\{/.test(text)) return `${/^\s*\[/.test(text) ? 'a JSON list' : describeBody(seen)} instead of a JSON object`;
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    return `JSON that does not parse, cut short or malformed (${(err as Error).message.split('\n')[0]})`;
  }
}

async function readApiBody(body: ResponseBody, p: Permission, server: string): Promise<Buffer> {
  const stream = body.stream();
  if (!stream) return body.binary();
  return readCapped(
    stream,
    DEFAULT_MAX_BYTES,
    () => stream.cancel().catch(() => undefined),
    (limit) =>
      new KubeError(
        `${describePermission(p)}: the answer of the API server ${server} is larger than ${limit}; refusing to read it`,
        0,
        'TooLarge',
        'Something between the runner and the API server may be answering instead of it; check the server URL in the kubeconfig.',
      ),
  );
}

/** Turns a client-node failure (ApiException with a Status body, or a network error) into a KubeError. */
export function toKubeError(err: unknown, p: Permission, server: string): KubeError {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number' && code >= 100) {
    const status = parseStatus((err as { body?: unknown }).body);
    return statusError(code, status.reason ?? '', status.message ?? '', p);
  }
  if (CUT_SHORT.has(networkCode(err))) {
    return new KubeError(
      `${describePermission(p)}: the API server ${server}: ${describeNetworkError(err)}`,
      0,
      'NetworkError',
      'The connection broke during the exchange: the API server, or a proxy or load balancer in front of it, closed it. Retry; if it persists, look at their logs.',
    );
  }
  const reason = describeNetworkError(err).startsWith('TLS') ? 'TLSError' : 'NetworkError';
  return new KubeError(`${describePermission(p)}: cannot reach the API server ${server}: ${describeNetworkError(err)}`, 0, reason, networkHint(err));
}

/** Network failures after the connection was made: the server was reached, then the exchange broke. */
const CUT_SHORT = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ERR_STREAM_PREMATURE_CLOSE']);

function networkHint(err: unknown): string | undefined {
  const text = describeNetworkError(err);
  if (text.startsWith('TLS')) return "Check the cluster's certificate-authority-data in the kubeconfig; it must be the CA that signed the API server's certificate.";
  if (/refused|resolve|unreachable/.test(text)) return 'Check the server URL in the kubeconfig and that the runner can reach the API server (private clusters need a self-hosted runner or a tunnel).';
  return undefined;
}

export function statusError(code: number, reason: string, message: string, p: Permission): KubeError {
  const what = describePermission(p);
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

function parseStatus(body: unknown): { reason?: string; message?: string } {
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

function execError(err: unknown, p: Permission, pod: string): KubeError {
  const message = err instanceof Error ? err.message : String(err);
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
  if (status) {
    const code = Number(status);
    if (code === 403) return statusError(403, 'Forbidden', `exec into pod ${pod} was refused`, p);
    return statusError(code, '', `exec into pod ${pod} failed`, p);
  }
  return new KubeError(`exec in pod ${pod}: ${describeNetworkError(err)}`, 0, 'NetworkError');
}

function attributes(p: Permission): { verb: string; resource: string; subresource?: string; namespace?: string; group: string } {
  return { verb: p.verb, resource: p.resource, subresource: p.subresource, namespace: p.namespace, group: p.group ?? '' };
}

function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

function collector(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
