/**
 * A protocol-faithful simulated Kubernetes API server over HTTPS on 127.0.0.1: bearer-token and
 * client-certificate authentication (and impersonation), RBAC from the store's Role/Binding objects, discovery,
 * get/list/watch, access reviews, pods/log, services/proxy and pods/proxy, and pods/exec and
 * pods/portforward over WebSocket. Every request is recorded in `requestLog`; mutations other than
 * access reviews are refused (405) after authorization, so tests can prove a client is read-only.
 *
 * It plays one Kubernetes release (`version`, 1.29–1.35, default 1.32; see version.ts): `/version`,
 * the exec subprotocols, and from 1.35 the second authorization of WebSocket upgrades as `create`.
 * Like kube-apiserver it speaks HTTP/2 to clients that offer it in ALPN and HTTP/1.1 to the others
 * (apiserver pkg/server/secure_serving.go configures `http2.Server` unless DisableHTTP2, with
 * `MaxConcurrentStreams` 250 streams per connection): kubectl and undici's client multiplex their
 * requests over one connection, WebSocket upgrades (exec, port-forward) come over HTTP/1.1. It
 * keeps an idle HTTP/1.1 connection open for 90 s (`IdleTimeout: 90 * time.Second`), and a stream
 * stays open until its command ends, its pod connections end, or the client closes it.
 */
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { ObjectStore, type StoreOptions } from './store.js';
import { CertificateAuthority, type KeyPair } from './pki.js';
import { kubeconfigYaml, type KubeconfigOptions } from './kubeconfig.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { RbacAuthorizer, type UserInfo } from './rbac.js';
import { FaultInjector } from './faults.js';
import {
  ApiError,
  badRequest,
  failureStatus,
  forbidden,
  forbiddenUpgrade,
  internalError,
  KubeletError,
  methodNotSupported,
  notFound,
  notFoundPath,
  unauthorized,
} from './status.js';
import { abortExchange, rejectUpgrade, rejectUpgradeWithText, sendJson, sendRaw, sendRawOnSocket, sendStatus, sendText, type ResponseOptions } from './http-util.js';
import { discoveryDocument } from './discovery.js';
import { API_GROUPS, resourceByName, type ResourceType } from './resources.js';
import { customResourceTypes } from './crd.js';
import { getObject, listObjects, sendObject, watchObjects } from './rest.js';
import { isAccessReview, review, type RulesMode } from './reviews.js';
import { decodeAccessReview, isProtobuf } from './protobuf.js';
import { podLogText } from './logs.js';
import { forward, resolvePodTarget, resolveServiceTarget } from './proxy.js';
import { CHANNEL_V5, PORTFORWARD_PROTOCOLS, execProtocols, negotiate, offeredProtocols } from './channel.js';
import { kubeletExecRefusal, runExecSession, validateExec } from './exec.js';
import { kubeletPortForward, runPortForwardSession, validatePortForward } from './portforward.js';
import { kubeVersion, type KubeVersion, type StreamFeatureGates } from './version.js';

export interface KubeApiServerOptions extends StoreOptions {
  /** An existing store to serve (default: a new one with `ipBase`). */
  store?: ObjectStore;
  /** Manifest YAML loaded into the store before serving. */
  manifests?: string;
  /** Port on 127.0.0.1 (default 0: a free port). */
  port?: number;
  /** The Kubernetes release played: `1.29` … `1.35` (or `v1.35.2`); default `1.32`. */
  version?: string;
  /** Streaming feature gates switched away from the release's default. */
  featureGates?: StreamFeatureGates;
  /** How long an idle connection stays open (default IDLE_TIMEOUT_MS, kube-apiserver's). */
  idleTimeoutMs?: number;
}

/** Streams one HTTP/2 connection may have open at once (kube-apiserver's default, secure_serving.go). */
export const MAX_CONCURRENT_STREAMS = 250;

/** How long an idle client connection stays open (kube-apiserver's `IdleTimeout`). */
export const IDLE_TIMEOUT_MS = 90_000;

/** The pod subresources a WebSocket upgrade reaches (the connect subresources behind `ensureAuthorizedForVerb`). */
const STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/** One request as the server saw it. */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  user?: string;
  verb: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The HTTP status answered (101 for an accepted WebSocket). */
  status?: number;
  websocket?: true;
}

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(badRequest('request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function certificateUser(req: IncomingMessage): UserInfo | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return undefined;
  const subject = socket.getPeerCertificate()?.subject as { CN?: string; O?: string | string[] } | undefined;
  if (!subject?.CN) return undefined;
  const orgs = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
  return { name: subject.CN, groups: [...orgs, 'system:authenticated'] };
}

/**
 * Every value of a request header that may be repeated: HTTP/1.1's IncomingMessage keeps them
 * apart in `headersDistinct` (its `headers` joins unknown ones with ", "); HTTP/2's compatibility
 * request has no `headersDistinct` and gives a repeated header as an array.
 */
function headerValues(req: IncomingMessage, name: string): string[] {
  const distinct = (req as Partial<Pick<IncomingMessage, 'headersDistinct'>>).headersDistinct;
  if (distinct) return distinct[name] ?? [];
  const value = req.headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/**
 * A path nothing serves. Under the roots of kube-apiserver's built-in (go-restful) web services,
 * `/api` and `/apis/<built-in group>`, the answer is a NotFound Status; any other path, a
 * custom resource whose CRD is absent among them, falls through the delegation chain to the
 * final not-found handler (apiserver's notfoundhandler): Go's `http.NotFound`, plain text.
 */
function notFoundAt(res: ServerResponse, path: string): void {
  const segments = path.split('/');
  const builtin = segments[1] === 'api' || (segments[1] === 'apis' && API_GROUPS.includes(segments[2] ?? ''));
  if (builtin) throw notFoundPath();
  const body = '404 page not found\n';
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export class KubeApiServer {
  readonly store: ObjectStore;
  readonly requestLog: RequestLogEntry[] = [];
  /** Faults to inject into the next matching requests. */
  readonly faults = new FaultInjector();
  /** How a SelfSubjectRulesReview is answered: complete (RBAC), or incomplete as with a webhook authorizer. */
  rulesMode: RulesMode = 'rbac';
  private readonly rbac: RbacAuthorizer;
  private readonly tokens = new Map<string, UserInfo>();
  private readonly sockets = new Set<Socket>();
  private readonly negotiated = new WeakMap<IncomingMessage, string>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (_offered, req) => this.negotiated.get(req) || false,
  });
  private ca?: CertificateAuthority;
  private server?: http2.Http2SecureServer;
  private port: number;
  private kube: KubeVersion;
  private readonly idleTimeoutMs: number;

  constructor(options: KubeApiServerOptions = {}) {
    this.kube = kubeVersion(options.version, options.featureGates);
    this.idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.store = options.store ?? new ObjectStore(options);
    if (options.manifests) this.store.loadYaml(options.manifests);
    this.rbac = new RbacAuthorizer((kind, ns) => this.store.list(kind, ns));
    this.port = options.port ?? 0;
    this.store.watch((event) => {
      if (event.object.kind === 'CustomResourceDefinition') this.customTypes = undefined;
    });
  }

  /** The resource types of the Established CRDs, computed again only when a CRD changes. */
  private customTypes?: ResourceType[];

  private servedCustomTypes(): ResourceType[] {
    this.customTypes ??= customResourceTypes(this.store.list('CustomResourceDefinition'));
    return this.customTypes;
  }

  /** The release played (`/version`'s answer and the version-dependent behaviours). */
  get version(): KubeVersion {
    return this.kube;
  }

  /** Plays another release from the next request on (`1.29` … `1.35`). */
  setVersion(version: string, featureGates: StreamFeatureGates = {}): void {
    this.kube = kubeVersion(version, featureGates);
  }

  /** Creates the certificates and listens on 127.0.0.1. */
  async start(): Promise<void> {
    this.ca = await CertificateAuthority.create();
    const serving = await this.ca.issueServerCert();
    const server = http2.createSecureServer({
      allowHTTP1: true,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
      cert: serving.certPem,
      key: serving.keyPem,
      ca: [this.ca.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    });
    // Read by the HTTP/1.1 connections the server falls back to.
    (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = this.idleTimeoutMs;
    // An HTTP/2 connection without open streams for the idle timeout is ended with GOAWAY
    // (NO_ERROR), as Go's HTTP/2 server does with kube-apiserver's IdleTimeout of 90 s
    // (golang.org/x/net/http2 server.go: the idle timer runs while no stream is open, onIdleTimer
    // sends GOAWAY and closes): a client that waits longer between requests opens a new one.
    server.on('session', (session: http2.ServerHttp2Session) => {
      let open = 0;
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        idle = setTimeout(() => {
          if (!session.closed && !session.destroyed) session.close();
        }, this.idleTimeoutMs);
        idle.unref();
      };
      arm();
      session.on('stream', (stream: http2.ServerHttp2Stream) => {
        open++;
        clearTimeout(idle);
        stream.once('close', () => {
          if (--open === 0) arm();
        });
      });
      session.once('close', () => clearTimeout(idle));
    });
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // HTTP/2's compatibility request and response (node:http2 Http2ServerRequest/Response) are
    // served by the same pipeline as HTTP/1.1's: they have what it uses (method, url, headers, the
    // TLS socket's peer certificate through `req.socket`, `res.writeHead`, streaming bodies); an
    // aborted exchange resets its stream only (http-util.ts abortExchange).
    server.on('request', (req, res) => void this.handleRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  /** Closes every connection (watches and WebSockets included) and stops listening. */
  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** `https://127.0.0.1:PORT`. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The cluster CA certificate (PEM) that signed the serving certificate. */
  get caPem(): string {
    if (!this.ca) throw new Error('KubeApiServer not started');
    return this.ca.certPem;
  }

  /** A bearer token authenticating `user` in `groups` (plus `system:authenticated`). */
  issueToken(user: string, groups: string[] = []): string {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { name: user, groups: [...new Set([...groups, 'system:authenticated'])] });
    return token;
  }

  /** A token of the ServiceAccount `namespace/name`, as its pods get mounted. */
  serviceAccountToken(namespace: string, name: string): string {
    return this.issueToken(`system:serviceaccount:${namespace}:${name}`, [
      'system:serviceaccounts',
      `system:serviceaccounts:${namespace}`,
    ]);
  }

  /** A client certificate (CN = user, O = groups) signed by the cluster CA. */
  issueClientCert(user: string, groups: string[] = []): Promise<KeyPair> {
    if (!this.ca) throw new Error('KubeApiServer not started');
    return this.ca.issueClientCert(user, groups);
  }

  /** A kubeconfig for this server with the given credentials. */
  kubeconfig(options: KubeconfigOptions = {}): string {
    return kubeconfigYaml(this.url, this.caPem, options);
  }

  // ---- request pipeline --------------------------------------------------------------------

  private record(req: IncomingMessage, url: URL, info: RequestInfo): RequestLogEntry {
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      verb: info.verb,
      ...(info.resource ? { resource: info.resource } : {}),
      ...(info.subresource ? { subresource: info.subresource } : {}),
      ...(info.namespace ? { namespace: info.namespace } : {}),
      ...(info.name ? { name: info.name } : {}),
    };
    this.requestLog.push(entry);
    return entry;
  }

  private authenticate(req: IncomingMessage): UserInfo {
    const fromCert = certificateUser(req);
    if (fromCert) return fromCert;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const user = bearer ? this.tokens.get(bearer[1]) : undefined;
    if (!user) throw unauthorized();
    return user;
  }

  /** Acts as the `Impersonate-User`/`Impersonate-Group` identity when the caller may impersonate it. */
  private impersonate(req: IncomingMessage, caller: UserInfo): UserInfo {
    const name = headerValues(req, 'impersonate-user')[0];
    const groups = headerValues(req, 'impersonate-group');
    if (!name) return caller;
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
    const targets = [
      sa ? { resource: 'serviceaccounts', namespace: sa[1], name: sa[2] } : { resource: 'users', name },
      ...groups.map((g) => ({ resource: 'groups', name: g })),
    ];
    for (const target of targets) {
      const attrs = { user: caller, verb: 'impersonate', apiGroup: '', ...target };
      if (!this.rbac.authorize(attrs).allowed) throw forbidden({ ...attrs, user: caller.name, path: req.url ?? '' });
    }
    const implied = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [];
    return { name, groups: [...new Set([...groups, ...implied, 'system:authenticated'])] };
  }

  private authorize(user: UserInfo, info: RequestInfo): void {
    const attrs = info.isResourceRequest
      ? {
          user,
          verb: info.verb,
          resource: info.resource ?? '',
          subresource: info.subresource,
          apiGroup: info.apiGroup,
          namespace: info.namespace,
          name: info.name,
        }
      : { user, verb: info.verb, path: info.path };
    if (!this.rbac.authorize(attrs).allowed) throw forbidden({ ...attrs, user: user.name, path: info.path });
  }

  /**
   * From 1.35 (AuthorizePodWebsocketUpgradeCreatePermission), a request to pods/exec, pods/attach
   * or pods/portforward authorized as another verb than `create` — the WebSocket upgrade, a GET —
   * is authorized again as `create`, after the authorization filter and before the pod is read
   * (pkg/registry/core/pod/rest/subresources.go `Connect`, authorize.go `ensureAuthorizedForVerb`).
   */
  private authorizeStreamCreate(user: UserInfo, info: RequestInfo): void {
    if (!this.kube.authorizeWebsocketCreate || info.resource !== 'pods' || info.apiGroup !== '') return;
    if (!STREAM_SUBRESOURCES.has(info.subresource ?? '') || info.verb === 'create') return;
    const attrs = { user, verb: 'create', resource: 'pods', subresource: info.subresource, apiGroup: '', namespace: info.namespace, name: info.name };
    if (!this.rbac.authorize(attrs).allowed) throw forbiddenUpgrade('pods', '', info.name ?? '');
  }

  /**
   * What every request goes through: logging, injected faults, authentication, authorization.
   * Returns the caller and the fault's response switches, or undefined when a fault dropped it.
   */
  private async admit(
    req: IncomingMessage,
    socket: Duplex,
    info: RequestInfo,
    entry: RequestLogEntry,
    res?: ServerResponse,
  ): Promise<{ user: UserInfo; options: ResponseOptions } | undefined> {
    const fault = this.faults.take(req.method ?? 'GET', info);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.reset) {
      if (res) abortExchange(res);
      else socket.destroy();
      return undefined;
    }
    if (fault?.respond) {
      entry.status = fault.respond.status ?? 200;
      if (res) await sendRaw(res, fault.respond, fault.truncate);
      else await sendRawOnSocket(socket, fault.respond, fault.truncate);
      return undefined;
    }
    if (fault?.status) throw new ApiError(failureStatus(fault.status, fault.message));
    const user = this.impersonate(req, this.authenticate(req));
    entry.user = user.name;
    this.authorize(user, info);
    return { user, options: { truncate: fault?.truncate, execWithoutStatus: fault?.execWithoutStatus } };
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const info = parseRequestInfo(req.method ?? 'GET', url);
    const entry = this.record(req, url, info);
    const settle = () => (entry.status = res.statusCode);
    res.on('finish', settle);
    res.on('close', settle);
    try {
      const admitted = await this.admit(req, req.socket, info, entry, res);
      if (!admitted) return;
      await this.serve(req, res, url, info, admitted.user, admitted.options);
    } catch (err) {
      const error = err instanceof ApiError ? err : internalError((err as Error).message);
      if (res.headersSent) abortExchange(res);
      else sendStatus(res, error.status);
    }
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    info: RequestInfo,
    user: UserInfo,
    options: ResponseOptions,
  ): Promise<void> {
    if (!info.isResourceRequest) {
      const custom = this.servedCustomTypes();
      const doc = req.method === 'GET' || req.method === 'HEAD' ? discoveryDocument(info.path, `127.0.0.1:${this.port}`, custom, this.kube.info) : undefined;
      if (doc === undefined) return notFoundAt(res, info.path);
      if (typeof doc === 'string') sendText(res, 200, doc);
      else sendJson(res, 200, doc, options);
      return;
    }
    const type = resourceByName(info.apiGroup, info.apiVersion, info.resource ?? '') ?? this.customType(info);
    if (!type) return notFoundAt(res, info.path);
    const namespace = type.namespaced ? info.namespace : undefined;
    if (info.subresource) return this.serveSubresource(req, res, url, info, type, user);
    const accept = req.headers.accept;
    switch (info.verb) {
      case 'get':
        return sendObject(res, getObject(this.store, type, namespace, info.name!), accept, url.searchParams, options, type);
      case 'list':
        return sendJson(res, 200, listObjects(this.store, type, namespace, url.searchParams, accept), options);
      case 'watch':
        return watchObjects(this.store, type, namespace, req, res, url.searchParams, accept);
      case 'create':
        if (isAccessReview(type.name)) return this.serveReview(req, res, type, user, namespace, options);
    }
    throw methodNotSupported(type.name, type.group, info.verb);
  }

  /**
   * The served custom resource a request addresses, as apiextensions' crdHandler finds it: a
   * served version of an Established CRD, asked in its scope (a namespaced resource is read
   * across namespaces only by list and watch). Anything else falls through to the 404.
   */
  private customType(info: RequestInfo): ResourceType | undefined {
    const type = this.servedCustomTypes().find(
      (t) => t.group === info.apiGroup && t.version === info.apiVersion && t.name === info.resource,
    );
    if (!type) return undefined;
    const namespacedRequest = info.namespace !== undefined;
    if (!type.namespaced && namespacedRequest) return undefined;
    if (type.namespaced && !namespacedRequest && info.verb !== 'list' && info.verb !== 'watch') return undefined;
    return type;
  }

  private async serveReview(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    user: UserInfo,
    namespace: string | undefined,
    options: ResponseOptions,
  ): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = isProtobuf(req.headers['content-type']) ? decodeAccessReview(raw) : JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw err instanceof ApiError ? err : badRequest('the body of the request was in an unknown format');
    }
    sendJson(res, 201, review(this.rbac, type.name, user, namespace, body, this.rulesMode), options);
  }

  private serveSubresource(req: IncomingMessage, res: ServerResponse, url: URL, info: RequestInfo, type: ResourceType, user: UserInfo): void {
    const ns = info.namespace ?? '';
    const id = info.name ?? '';
    const sub = `${type.name}/${info.subresource}`;
    const rest = info.rest;
    switch (sub) {
      case 'pods/log':
        if (info.verb !== 'get') break;
        return sendText(res, 200, podLogText(this.store, ns, id, url.searchParams));
      case 'services/proxy':
        return forward(req, res, resolveServiceTarget(this.store, ns, id), rest, url.search);
      case 'pods/proxy':
        return forward(req, res, resolvePodTarget(this.store, ns, id), rest, url.search);
      case 'pods/exec':
      case 'pods/attach':
      case 'pods/portforward':
        this.authorizeStreamCreate(user, info);
        throw badRequest('Upgrade request required');
      case 'pods/status':
      case 'services/status':
        if (info.verb === 'get') return sendJson(res, 200, getObject(this.store, type, ns, id));
    }
    if (type.custom) {
      const namespace = type.namespaced ? ns : undefined;
      if (!type.subresources?.[info.subresource ?? '']) throw notFound(type.name, type.group, id);
      if (info.subresource === 'status' && info.verb === 'get') return sendJson(res, 200, getObject(this.store, type, namespace, id));
    }
    throw methodNotSupported(sub, type.group, info.verb);
  }

  // ---- upgrades (exec, port-forward) ---------------------------------------------------------

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const info = parseRequestInfo(req.method ?? 'GET', url);
    const entry = this.record(req, url, info);
    if (isWebSocketUpgrade(req)) entry.websocket = true;
    try {
      const admitted = await this.admit(req, socket, info, entry);
      if (!admitted) return;
      const sub = `${info.resource}/${info.subresource}`;
      const ns = info.namespace ?? '';
      const name = info.name ?? '';
      if (sub === 'pods/exec') {
        this.authorizeStreamCreate(admitted.user, info);
        const exec = validateExec(this.store, ns, name, url.searchParams);
        this.requireWebSocket(entry);
        const refusal = kubeletExecRefusal(this.store, exec);
        const protocols = execProtocols(this.kube.translatesExecStreams);
        // v5 is terminated by the API server, which upgrades first and reports the kubelet's
        // refusal as a Status; older protocols go to the kubelet, which refuses before upgrading.
        const translated = negotiate(offeredProtocols(req), protocols) === CHANNEL_V5;
        if (refusal && !translated) throw refusal;
        const ws = await this.accept(req, socket, head, protocols, entry);
        await runExecSession(ws.socket, ws.protocol, this.store, exec, { withoutStatus: admitted.options.execWithoutStatus, refusal });
      } else if (sub === 'pods/portforward') {
        this.authorizeStreamCreate(admitted.user, info);
        const pod = validatePortForward(this.store, ns, name, url.searchParams);
        this.requireWebSocket(entry);
        const pf = kubeletPortForward(pod, url.searchParams);
        const ws = await this.accept(req, socket, head, PORTFORWARD_PROTOCOLS, entry);
        runPortForwardSession(ws.socket, pf);
      } else {
        if (sub === 'pods/attach') this.authorizeStreamCreate(admitted.user, info);
        throw badRequest('Upgrade request required');
      }
    } catch (err) {
      if (entry.status === 101) return void socket.destroy();
      if (err instanceof KubeletError) {
        entry.status = err.code;
        if (socket.writable) rejectUpgradeWithText(socket, err.code, err.message);
        return;
      }
      const error = err instanceof ApiError ? err : internalError((err as Error).message);
      entry.status = error.code;
      if (socket.writable) rejectUpgrade(socket, error.status);
    }
  }

  /** SPDY upgrades (kubectl's fallback) are answered with a Status: only WebSocket streams are simulated. */
  private requireWebSocket(entry: RequestLogEntry): void {
    if (!entry.websocket) {
      throw badRequest('unable to upgrade connection: only WebSocket streams are supported (SPDY/3.1 is not)');
    }
  }

  /** Completes the WebSocket handshake with a negotiated subprotocol. */
  private accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    supported: string[],
    entry: RequestLogEntry,
  ): Promise<{ socket: WebSocket; protocol: string }> {
    this.requireWebSocket(entry);
    const offered = offeredProtocols(req);
    const protocol = negotiate(offered, supported);
    if (protocol === undefined) {
      throw badRequest(`requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`);
    }
    this.negotiated.set(req, protocol);
    return new Promise((resolve) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        entry.status = 101;
        resolve({ socket: ws, protocol });
      });
    });
  }
}
