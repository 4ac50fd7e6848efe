/**
 * Cluster access: the few read-only Kubernetes operations the checks need, behind an interface
 * the checks depend on (tests give them a fake). Every call is bounded by `request-timeout`,
 * and every refusal becomes a KubeError that says what was refused and what RBAC rule is missing.
 *
 * Exec and port-forward speak the WebSocket channel protocols themselves (client-node's Exec and
 * PortForward drop the answer of a refused upgrade and leave sockets open), so a refusal carries
 * the API server's or kubelet's status and words, and `close()` ends every stream, local server
 * and connection the run opened: nothing keeps the process alive after its verdict.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  HttpMethod,
  Observable,
  RequestContext,
  ResponseContext,
  VersionApi,
  type KubeConfig,
  type ResponseBody,
  type V1ConfigMap,
  type V1Deployment,
  type V1Endpoints,
  type V1EndpointSlice,
  type V1Namespace,
  type V1Pod,
  type V1Secret,
  type V1Service,
  type V1Status,
} from '@kubernetes/client-node';
import { MfcError } from './errors.js';
import { clip, DEFAULT_MAX_BYTES, describeBody, describeNetworkError, formatMs, httpRequest, networkCode, readCapped, type HttpResponse } from './http.js';

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
  private readonly core: CoreV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly versionApi: VersionApi;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly discovery: DiscoveryV1Api;
  /** The undici dispatcher every API call of this access shares (one connection pool, closed by `close()`). */
  private dispatcher?: { close(): Promise<void>; destroy(): Promise<void> };
  /** Open WebSockets (exec, port-forward tunnels). */
  private readonly streams = new Set<WebSocket>();
  /** Open port-forwards, by their close. */
  private readonly forwards = new Set<() => Promise<void>>();
  private closed = false;

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
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
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
  async listEndpointSlices(namespace: string, service: string, signal?: AbortSignal): Promise<V1EndpointSlice[]> {
    const labelSelector = `kubernetes.io/service-name=${service}`;
    const list = await this.call({ verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace }, signal, (o) =>
      this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector }, o),
    );
    return list.items;
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

  /**
   * Runs a command over a `v5.channel.k8s.io` (or `v4`) WebSocket: stdout on channel 1, stderr on
   * 2, the exit Status on 3 (kubelet pkg/cri/streaming/remotecommand; apiserver
   * pkg/util/proxy/streamtranslator.go for v5). A refused upgrade rejects with its status and the
   * server's words.
   */
  async exec(namespace: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult> {
    const query = new URLSearchParams({ stdout: 'true', stderr: 'true', stdin: 'false', tty: 'false' });
    for (const arg of command) query.append('command', arg);
    query.set('container', container);
    const target: StreamTarget = { subresource: 'exec', namespace, pod, label: `exec in pod ${pod}` };
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    return new Promise<ExecResult>((resolve, reject) => {
      let ws: WebSocket | undefined;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ws) shut(ws);
        fn();
      };
      const timer = setTimeout(
        () => finish(() => reject(new KubeError(`exec in pod ${pod}: no answer within ${formatMs(this.timeoutMs)} (request-timeout)`, 0, 'Timeout'))),
        this.timeoutMs,
      );
      const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('utf8');
      this.openStream(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${query}`, EXEC_PROTOCOLS, target)
        .then((socket) => {
          ws = socket;
          if (settled) return shut(socket);
          socket.on('message', (data: RawData) => {
            const frame = asBuffer(data);
            const channel = frame[0];
            const payload = frame.subarray(1);
            if (channel === STDOUT) stdout.push(payload);
            else if (channel === STDERR) stderr.push(payload);
            else if (channel === ERROR && payload.length > 0) {
              const status = parseExecStatus(payload.toString('utf8'));
              finish(() => resolve({ exitCode: exitCodeOf(status), stdout: text(stdout), stderr: text(stderr) || (status.status === 'Success' ? '' : status.message ?? '') }));
            }
          });
          socket.on('close', () =>
            finish(() => reject(new KubeError(`exec in pod ${pod}: the connection closed before the command reported its exit status`, 0, 'ExecIncomplete'))),
          );
        })
        .catch((err: unknown) => finish(() => reject(err)));
    });
  }

  async proxy(namespace: string, service: string, port: string, req: ProxyRequest): Promise<HttpResponse> {
    const url = `${this.server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${encodeURIComponent(port)}/proxy${req.path}`;
    const ctx = new RequestContext(url, req.method === 'POST' ? HttpMethod.POST : HttpMethod.GET);
    await this.kc.applySecurityAuthentication(ctx);
    this.share(ctx);
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

  /**
   * A local port on 127.0.0.1 whose every connection is tunnelled to the pod's port through its
   * own `v4.channel.k8s.io` WebSocket (kubelet pkg/cri/streaming/portforward/websocket.go: data
   * on channel 0, errors on 1, each first frame the port). The first tunnel opens before the port
   * does, so a refusal rejects here with its status (403 names the rule, with both verbs); the
   * error channel's words, when nothing listens on the pod's port, are kept for `failure()`.
   */
  async portForward(namespace: string, pod: string, port: number): Promise<PortForwardHandle> {
    if (this.closed) throw new KubeError(`port-forward to pod ${namespace}/${pod}: the run is over`, 0, 'Closed');
    const target: StreamTarget = { subresource: 'portforward', namespace, pod, label: `port-forward to pod ${namespace}/${pod} port ${port}` };
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward?ports=${port}`;
    let failure: KubeError | undefined;
    const fail = (err: KubeError): void => {
      failure = err;
    };
    const tunnel = (): Promise<Tunnel> => this.openStream(path, PORTFORWARD_PROTOCOLS, target).then((ws) => new Tunnel(ws, target, fail));
    // Opened now: a refusal is this call's error, not a reset later.
    let spare: Tunnel | undefined = await this.withTimeout(tunnel(), target);
    spare.onClose(() => {
      if (spare?.closed) spare = undefined;
    });
    const tunnels = new Set<Tunnel>([spare]);
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.pause();
      const ready = spare && !spare.closed ? Promise.resolve(spare) : tunnel();
      spare = undefined;
      ready.then(
        (t) => {
          tunnels.add(t);
          t.onClose(() => tunnels.delete(t));
          t.attach(socket);
        },
        (err: unknown) => {
          if (err instanceof KubeError) fail(err);
          socket.destroy();
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    }).catch((err: unknown) => {
      spare?.destroy();
      throw err;
    });
    const { port: local } = server.address() as AddressInfo;
    const close = async (): Promise<void> => {
      this.forwards.delete(close);
      spare?.destroy();
      for (const t of tunnels) t.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    this.forwards.add(close);
    return { url: `http://127.0.0.1:${local}`, failure: () => failure, close };
  }

  /**
   * Ends everything this access opened: port-forwards (their local servers, sockets and
   * tunnels), exec streams, and the API calls' connection pool. Later calls fail.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.forwards].map((close) => close()));
    for (const ws of this.streams) ws.terminate();
    this.streams.clear();
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    await dispatcher?.destroy().catch(() => undefined);
  }

  /**
   * Opens a WebSocket to a pod subresource with the kubeconfig's credentials and TLS settings,
   * offering `protocols`. A non-101 answer is read (a Status, or a kubelet's plain text) and
   * rejects as a KubeError with its status and words.
   */
  private async openStream(path: string, protocols: readonly string[], target: StreamTarget): Promise<WebSocket> {
    if (this.closed) throw new KubeError(`${target.label}: the run is over`, 0, 'Closed');
    const options: ClientOptions & { headers?: Record<string, string> } = {};
    await this.kc.applyToHTTPSOptions(options as never);
    const url = `${this.server.replace(/\/$/, '').replace(/^http/, 'ws')}${path}`;
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, [...protocols], { ...options, handshakeTimeout: this.timeoutMs, perMessageDeflate: false });
      this.streams.add(ws);
      ws.once('close', () => this.streams.delete(ws));
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        void refusalOf(res).then((r) => {
          reject(streamRefusal(res.statusCode ?? 0, r.reason, r.message, target));
          ws.terminate();
        });
      });
      ws.on('error', (err: Error) => reject(new KubeError(`${target.label}: ${describeNetworkError(err)}`, 0, 'NetworkError', networkHint(err))));
    });
  }

  /** Bounds the opening of a stream by request-timeout. */
  private withTimeout<T extends { destroy(): void }>(p: Promise<T>, target: StreamTarget): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new KubeError(`${target.label}: no answer within ${formatMs(this.timeoutMs)} (request-timeout)`, 0, 'Timeout'));
      }, this.timeoutMs);
    });
    void p.then((v) => late && v.destroy(), () => undefined);
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  /** Makes an API call use this access's shared connection pool instead of the one client-node made for it. */
  private share(ctx: RequestContext): void {
    const own = ctx.getDispatcher() as { close(): Promise<void>; destroy(): Promise<void> } | undefined;
    if (!own) return;
    if (this.closed) return;
    this.dispatcher ??= own;
    if (own !== this.dispatcher) void own.close().catch(() => undefined);
    ctx.setDispatcher(this.dispatcher as never);
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
            this.share(ctx);
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

function attributes(p: Permission): { verb: string; resource: string; subresource?: string; namespace?: string; group: string } {
  return { verb: p.verb, resource: p.resource, subresource: p.subresource, namespace: p.namespace, group: p.group ?? '' };
}

function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

/** What a stream is opened for, for messages. */
interface StreamTarget {
  readonly subresource: 'exec' | 'portforward';
  readonly namespace: string;
  readonly pod: string;
  /** `exec in pod x`, `port-forward to pod ns/x port 3000`. */
  readonly label: string;
}

/** exec: v5 (the API server translates it, 1.30+) first, then the kubelet's v4; both report the exit as a Status. */
const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
/** port-forward over WebSocket, as the kubelet serves it. */
const PORTFORWARD_PROTOCOLS = ['v4.channel.k8s.io'];
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
/** The most of a refused upgrade's answer that is read. */
const MAX_REFUSAL_BYTES = 64 * 1024;

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Closes a WebSocket normally, and drops it if the server does not answer the close within a second. */
function shut(ws: WebSocket): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  if (ws.readyState === WebSocket.CONNECTING) return ws.terminate();
  ws.close(1000);
  setTimeout(() => ws.terminate(), 1000).unref();
}

/** The exit Status of channel 3 (v4/v5 send a Status; older protocols the message alone). */
function parseExecStatus(text: string): V1Status {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object') return value as V1Status;
  } catch {
    // not JSON: the message itself
  }
  return { status: 'Failure', message: text };
}

/** The reason and words of a refused upgrade: a Status body, or the kubelet's plain text. */
function refusalOf(res: IncomingMessage): Promise<{ reason: string; message: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      const { reason, message } = parseStatus(Buffer.concat(chunks).toString('utf8'));
      resolve({ reason: reason ?? '', message: message ?? '' });
    };
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_REFUSAL_BYTES) chunks.push(c);
      else res.destroy();
    });
    res.once('end', done);
    res.once('close', done);
    res.once('error', done);
  });
}

/**
 * A refused stream as the user can act on it. 403: the rule with both verbs (a WebSocket upgrade
 * is a GET, authorized as `get`; from Kubernetes 1.35 also as `create`, whose refusal names no
 * verb: `pods "x" is forbidden: `).
 */
export function streamRefusal(code: number, reason: string, message: string, target: StreamTarget): KubeError {
  const detail = message.trim() ? `: ${clip(message.trim(), 400)}` : '';
  const permissions = streamPermissions(target.subresource, target.namespace);
  if (code === 403) {
    const webhook = /admission webhook "([^"]+)" denied the request/.exec(message)?.[1];
    if (webhook) {
      const instead = target.subresource === 'portforward' ? ', or use access: proxy (with a Grafana password)' : '';
      return new KubeError(
        `${target.label}: HTTP 403 Forbidden${detail}`,
        403,
        reason || 'Forbidden',
        `A policy refuses pods/${target.subresource} streams in namespace ${target.namespace} (the admission webhook "${webhook}"), whatever RBAC allows: ask its owners for an exception for the action's account${instead}.`,
      );
    }
    // Only the second, `create` authorization of a WebSocket upgrade words a refusal without a user or verb.
    const unnamed = /is forbidden:\s*$/.test(message) ? ` (no verb named: from Kubernetes 1.35 a WebSocket stream must be allowed create as well as get)` : '';
    return new KubeError(
      `${target.label}: HTTP 403 Forbidden${detail}${unnamed}`,
      403,
      reason || 'Forbidden',
      `The credentials may not open a pods/${target.subresource} stream in namespace ${target.namespace}: a WebSocket stream is authorized as get and, from Kubernetes 1.35, also as create. Add this rule to the Role bound to them:\n${roleRule(permissions)}`,
    );
  }
  if (code === 401) return statusError(401, reason, message, permissions[0] as Permission, target.label);
  const why = reason || (code === 404 ? 'NotFound' : '');
  return new KubeError(`${target.label}: HTTP ${code}${why ? ` ${why}` : ''}${detail}`, code, why || 'Error');
}

/**
 * One port-forward tunnel: a local connection piped through a WebSocket to the pod's port. The
 * first frame of each channel is the port (two bytes), skipped; words on the error channel are
 * kept as the forward's failure. Either side closing closes the other.
 */
class Tunnel {
  private socket?: Socket;
  private readonly skip = [true, true];
  private readonly closeListeners: (() => void)[] = [];
  closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly target: StreamTarget,
    private readonly fail: (err: KubeError) => void,
  ) {
    ws.on('message', (data: RawData) => this.receive(asBuffer(data)));
    ws.once('close', () => {
      this.closed = true;
      this.socket?.end();
      for (const listener of this.closeListeners.splice(0)) listener();
    });
    ws.on('error', () => this.socket?.destroy());
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Pipes a (paused) local connection through this tunnel. */
  attach(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(Buffer.concat([Buffer.from([0]), chunk]), { binary: true });
    });
    socket.once('end', () => shut(this.ws));
    socket.once('close', () => shut(this.ws));
    socket.resume();
  }

  destroy(): void {
    this.ws.terminate();
    this.socket?.destroy();
  }

  private receive(frame: Buffer): void {
    const channel = frame[0];
    if (channel !== 0 && channel !== 1) return;
    let payload = frame.subarray(1);
    if (this.skip[channel]) {
      this.skip[channel] = false;
      payload = payload.subarray(2);
    }
    if (payload.length === 0) return;
    if (channel === 0) this.socket?.write(payload);
    else {
      const words = payload.toString('utf8').trim();
      this.fail(new KubeError(`${this.target.label}: ${clip(words, 400)}`, 0, 'PortForwardError', 'Nothing listens on that port inside the pod: check the Service\'s targetPort against the container\'s port, and that the container is up.'));
    }
  }
}
