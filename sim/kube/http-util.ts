/** Writing API answers: JSON bodies, Status errors, and raw answers on an upgraded socket. */
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Status } from './status.js';

/** Per-request switches set by an injected fault. */
export interface ResponseOptions {
  /** Send half the body, then drop the connection. */
  truncate?: boolean;
}

export function sendJson(res: ServerResponse, code: number, body: unknown, options: ResponseOptions = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  if (options.truncate) {
    res.write(text.slice(0, Math.floor(text.length / 2)));
    res.socket?.destroy();
    return;
  }
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status, options: ResponseOptions = {}): void {
  sendJson(res, status.code, status, options);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers a request that asked to upgrade without upgrading it: a plain HTTP Status response. */
export function rejectUpgrade(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  socket.end(
    `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
