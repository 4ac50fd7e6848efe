/**
 * The Kubernetes channel protocol over WebSocket: subprotocol negotiation (the first protocol the
 * client offers that the endpoint supports) and binary frames whose first byte is the channel.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';

export const CHANNEL_V5 = 'v5.channel.k8s.io';
export const CHANNEL_V4 = 'v4.channel.k8s.io';

/** pods/exec speaks every binary version; v4 and later report the exit status as a Status. */
export const EXEC_PROTOCOLS = [CHANNEL_V5, CHANNEL_V4, 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/**
 * The exec subprotocols a server offers: v5 only where the API server translates it (1.30+,
 * TranslateStreamCloseWebsocketRequests); before, the WebSocket goes to the kubelet, which
 * speaks up to v4 (kubelet pkg/cri/streaming/remotecommand `protocols`).
 */
export function execProtocols(apiServerTranslates: boolean): string[] {
  return apiServerTranslates ? EXEC_PROTOCOLS : EXEC_PROTOCOLS.filter((p) => p !== CHANNEL_V5);
}

/** pods/portforward over WebSocket, as the kubelet serves it. */
export const PORTFORWARD_PROTOCOLS = [CHANNEL_V4, 'channel.k8s.io'];

/** The subprotocols the client offered, in its order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * The protocol to answer with: the first offered one the endpoint supports; `''` when the client
 * offered none (legacy binary channels); undefined when none of the offered ones is supported.
 */
export function negotiate(offered: string[], supported: string[]): string | undefined {
  if (offered.length === 0) return '';
  return offered.find((p) => supported.includes(p));
}

export function sendChannel(ws: WebSocket, channel: number, data: Buffer | string = Buffer.alloc(0)): void {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true });
}
