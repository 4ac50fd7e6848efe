/**
 * The pods/portforward subresource over WebSocket (`v4.channel.k8s.io`), as the API server and the
 * kubelet serve it together. The API server checks the pod (404 Status) and that it has a node,
 * then proxies the upgrade to the kubelet, whose own answers pass through unchanged (plain text,
 * not a Status). Once upgraded, for the i-th requested port channel 2i carries data and 2i+1
 * errors; the first frame on each channel is the port as two little-endian bytes
 * (kubelet pkg/cri/streaming/portforward/websocket.go `handleWebSocketStreams`). Each port is a
 * real TCP connection to podIP:port; when the container runtime cannot connect, the reason goes
 * on the error channel. The WebSocket closes when every port's connection has ended, or when the
 * client closes it: nothing else ends it (the kubelet's stream idle timeout is 4 hours), so a
 * client that forgets to close a forward to a server that keeps its connections keeps it open.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { WebSocket } from 'ws';
import type { KubeObject } from './view.js';
import type { ObjectStore } from './store.js';
import { badRequest, KubeletError, notFound } from './status.js';
import { podIP } from './pod-status.js';
import { sendChannel } from './channel.js';

export interface PortForwardRequest {
  pod: KubeObject;
  address: string;
  ports: number[];
  /** The pod sandbox's id, as the container runtime names it in its errors. */
  sandbox: string;
}

/** The id the container runtime gives a pod's sandbox (64 hex digits, stable per pod). */
export function sandboxId(pod: KubeObject): string {
  return createHash('sha256').update(`sandbox/${pod.metadata.uid ?? pod.metadata.name}`).digest('hex');
}

/**
 * The API server's checks of a port-forward request (throws an ApiError): the `ports` option
 * (PodPortForwardOptions, each an integer), the pod (NotFound), its node
 * (pkg/registry/core/pod/strategy.go `PortForwardLocation`).
 */
export function validatePortForward(store: ObjectStore, namespace: string, name: string, query: URLSearchParams): KubeObject {
  const raw = query.getAll('ports').flatMap((p) => p.split(','));
  const bad = raw.find((p) => !/^\d+$/.test(p.trim()) || Number(p) > 2147483647);
  if (bad !== undefined) throw badRequest(`strconv.ParseInt: parsing "${bad}": invalid syntax`);
  const pod = store.get('Pod', namespace, name);
  if (!pod) throw notFound('pods', '', name);
  if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  return pod;
}

/**
 * The kubelet's checks before it upgrades (throws a KubeletError: its own text answer): a port
 * is required and must be 1–65535 (pkg/cri/streaming/portforward `NewV4Options`, which reads the
 * `port` parameters the API server passes on), and the pod must run in the container runtime
 * (kubelet_pods.go `GetPortForward`: `pod not found ("<name>_<namespace>")`, HTTP 500).
 */
export function kubeletPortForward(pod: KubeObject, query: URLSearchParams): PortForwardRequest {
  const raw = query.getAll('ports').flatMap((p) => p.split(','));
  if (raw.length === 0) throw new KubeletError(400, 'query parameter "port" is required');
  const ports = raw.map(Number);
  const low = raw.find((p, i) => ports[i] < 1);
  if (low !== undefined) throw new KubeletError(400, `port "${low}" must be > 0`);
  const high = raw.find((p, i) => ports[i] > 65535);
  if (high !== undefined) throw new KubeletError(400, `unable to parse "${high}" as a port: strconv.ParseUint: parsing "${high}": value out of range`);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const address = podIP(pod);
  if (!address || (phase !== 'Running' && phase !== 'Pending')) {
    throw new KubeletError(500, `pod not found ("${pod.metadata.name}_${pod.metadata.namespace}")`);
  }
  return { pod, address, ports, sandbox: sandboxId(pod) };
}

function portBytes(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/**
 * containerd's words when nothing listens on the port inside the pod's network namespace
 * (internal/cri/server/sandbox_portforward_linux.go), wrapped by the kubelet's stream handler
 * (`error forwarding port %d to pod %s, uid %v: %v`, the pod named by its sandbox id, no uid).
 */
function forwardError(request: PortForwardRequest, port: number, err: NodeJS.ErrnoException): string {
  const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
  return (
    `error forwarding port ${port} to pod ${request.sandbox}, uid : ` +
    `failed to connect to localhost:${port} inside namespace "${request.sandbox}", ` +
    `IPv4: dial tcp4 127.0.0.1:${port}: ${why} IPv6 dial tcp6 [::1]:${port}: ${why} `
  );
}

/** Pipes each requested port between the WebSocket and a TCP connection to the pod. */
export function runPortForwardSession(ws: WebSocket, request: PortForwardRequest): void {
  const { address, ports } = request;
  const sockets = ports.map((port, i) => {
    sendChannel(ws, 2 * i, portBytes(port));
    sendChannel(ws, 2 * i + 1, portBytes(port));
    const socket = net.connect({ host: address, port });
    socket.on('data', (chunk: Buffer) => {
      if (ws.readyState === ws.OPEN) sendChannel(ws, 2 * i, chunk);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (ws.readyState === ws.OPEN) sendChannel(ws, 2 * i + 1, forwardError(request, port, err));
    });
    socket.on('close', () => {
      if (sockets.every((s) => s.destroyed) && ws.readyState === ws.OPEN) ws.close(1000);
    });
    return socket;
  });
  ws.on('message', (data: Buffer) => {
    const channel = data[0];
    const target = channel % 2 === 0 ? sockets[channel / 2] : undefined;
    if (target && !target.destroyed) target.write(data.subarray(1));
  });
  ws.on('close', () => sockets.forEach((s) => s.destroy()));
}
