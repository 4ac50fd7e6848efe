/**
 * Exec and port-forward streams: the WebSocket channel protocols spoken by the action itself
 * (client-node's Exec and PortForward drop the answer of a refused upgrade and leave sockets
 * open), so a refusal carries the API server's or kubelet's status and words, and `close()` ends
 * every stream, local server and tunnel. Loaded only when a run opens a stream.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { KubeError, networkHint, parseStatus, roleRule, statusError, streamPermissions, type ExecResult, type Permission, type PortForwardHandle } from './cluster.js';
import { clip, describeNetworkError, formatMs } from './http.js';

/** The streams of one cluster access: every one it opened is ended by `close()`. */
export class Streams {
  /** Open WebSockets (exec, port-forward tunnels). */
  private readonly streams = new Set<WebSocket>();
  /** Open port-forwards, by their close. */
  private readonly forwards = new Set<() => Promise<void>>();
  private closed = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly server: string,
    private readonly timeoutMs: number,
  ) {}

  /**
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


  /** Ends every port-forward (its local server, sockets and tunnels) and exec stream. Later opens fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.forwards].map((close) => close()));
    for (const ws of this.streams) ws.terminate();
    this.streams.clear();
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
