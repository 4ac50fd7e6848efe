/**
 * The pods/portforward subresource over WebSocket, as the kubelet serves it: for the i-th
 * requested port, channel 2i carries data and 2i+1 errors; the first frame on each channel is the
 * port as two little-endian bytes. Each port is a real TCP connection to podIP:port.
 */
import net from 'node:net';
import type { WebSocket } from 'ws';
import type { KubeObject } from './view.js';
import type { ObjectStore } from './store.js';
import { badRequest, notFound } from './status.js';
import { podIP } from './pod-status.js';
import { sendChannel } from './channel.js';

export interface PortForwardRequest {
  pod: KubeObject;
  address: string;
  ports: number[];
}

/** Checks a port-forward request before upgrading; throws an ApiError. */
export function validatePortForward(store: ObjectStore, namespace: string, name: string, query: URLSearchParams): PortForwardRequest {
  const pod = store.get('Pod', namespace, name);
  if (!pod) throw notFound('pods', '', name);
  const raw = query.getAll('ports').flatMap((p) => p.split(',')).filter((p) => p !== '');
  if (raw.length === 0) throw badRequest('at least 1 port must be specified');
  const ports = raw.map(Number);
  const bad = raw.find((p, i) => !Number.isInteger(ports[i]) || ports[i] < 1 || ports[i] > 65535);
  if (bad !== undefined) throw badRequest(`invalid port "${bad}"`);
  const address = podIP(pod);
  if ((pod.status as { phase?: string }).phase !== 'Running' || !address) {
    throw badRequest(`unable to upgrade connection: pod does not exist`);
  }
  return { pod, address, ports };
}

function portBytes(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/** Pipes each requested port between the WebSocket and a TCP connection to the pod. */
export function runPortForwardSession(ws: WebSocket, request: PortForwardRequest): void {
  const { pod, address, ports } = request;
  const sockets = ports.map((port, i) => {
    sendChannel(ws, 2 * i, portBytes(port));
    sendChannel(ws, 2 * i + 1, portBytes(port));
    const socket = net.connect({ host: address, port });
    socket.on('data', (chunk: Buffer) => sendChannel(ws, 2 * i, chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
      sendChannel(
        ws,
        2 * i + 1,
        `error forwarding port ${port} to pod ${pod.metadata.name}, uid ${pod.metadata.uid}: ` +
          `failed to connect to localhost:${port} inside namespace "${pod.metadata.name}", ` +
          `IPv4: dial tcp4 127.0.0.1:${port}: ${reason}`,
      );
    });
    socket.on('close', () => {
      if (sockets.every((s) => s.destroyed) && ws.readyState === ws.OPEN) ws.close(1000);
    });
    return socket;
  });
  ws.on('message', (data: Buffer) => {
    const channel = data[0];
    if (channel % 2 === 0 && sockets[channel / 2] && !sockets[channel / 2].destroyed) sockets[channel / 2].write(data.subarray(1));
  });
  ws.on('close', () => sockets.forEach((s) => s.destroy()));
}
