/** Writing API answers: JSON bodies, Status errors, and raw answers on an upgraded socket. */
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { constants as h2 } from 'node:http2';
import type { Duplex, Writable } from 'node:stream';
import type { RawAnswer } from './faults.js';
import type { Status } from './status.js';

/** Per-request switches set by an injected fault. */
export interface ResponseOptions {
  /** Send half the body, then drop the connection. */
  truncate?: boolean;
  /** End exec sessions without their status frame. */
  execWithoutStatus?: boolean;
}

/**
 * Breaks off one exchange the way kube-apiserver does when a handler aborts (Go's net/http on
 * http.ErrAbortHandler): over HTTP/1.1 the connection is closed; over HTTP/2 only that request's
 * stream is reset (RST_STREAM INTERNAL_ERROR) and the connection's other requests go on.
 */
export function abortExchange(res: ServerResponse): void {
  const stream = (res as ServerResponse & { stream?: { close(code: number): void } }).stream;
  if (stream) stream.close(h2.NGHTTP2_INTERNAL_ERROR);
  else res.socket?.destroy();
}

export function sendJson(res: ServerResponse, code: number, body: unknown, options: ResponseOptions = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  if (options.truncate) {
    res.write(text.slice(0, Math.floor(text.length / 2)));
    abortExchange(res);
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

/**
 * Answers an upgrade request with a kubelet's plain-text refusal, as the API server's
 * upgrade-aware proxy replays the kubelet's response (Go's net/http sniffs the text as
 * `text/plain; charset=utf-8`).
 */
export function rejectUpgradeWithText(socket: Duplex, code: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}

const CHUNK = 64 * 1024;

/** The body of a raw answer: its text, or a JSON document of `size` bytes made in chunks. */
function* rawBody(answer: RawAnswer): Generator<Buffer> {
  if (answer.size === undefined) {
    yield Buffer.from(answer.body ?? '');
    return;
  }
  const prefix = '{"filler":"';
  const suffix = '"}';
  let left = Math.max(0, answer.size - prefix.length - suffix.length);
  yield Buffer.from(prefix);
  const filler = Buffer.alloc(CHUNK, 'x');
  while (left > 0) {
    const n = Math.min(left, CHUNK);
    left -= n;
    yield n === CHUNK ? filler : filler.subarray(0, n);
  }
  yield Buffer.from(suffix);
}

function rawLength(answer: RawAnswer): number {
  return answer.size ?? Buffer.byteLength(answer.body ?? '');
}

/**
 * Streams a raw answer's body to `out`, waiting for the client to read each chunk; with `truncate`
 * it stops halfway and destroys the connection. Reports the bytes written to `answer.onSent`.
 */
async function streamBody(out: Writable, answer: RawAnswer, truncate: boolean, destroy: () => void): Promise<void> {
  const total = rawLength(answer);
  const limit = truncate ? Math.floor(total / 2) : total;
  let sent = 0;
  let closed = false;
  out.once('close', () => (closed = true));
  for (const chunk of rawBody(answer)) {
    if (closed || out.destroyed) break;
    const part = chunk.subarray(0, Math.max(0, limit - sent));
    if (part.length === 0) break;
    sent += part.length;
    if (!out.write(part)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.off('drain', done);
          out.off('close', done);
          resolve();
        };
        out.on('drain', done);
        out.on('close', done);
      });
    }
  }
  const complete = !closed && !out.destroyed && sent === total;
  if (truncate || !complete) destroy();
  else out.end();
  answer.onSent?.(sent, complete);
}

/** Sends a raw answer (any status, type and size) on a response. */
export function sendRaw(res: ServerResponse, answer: RawAnswer, truncate = false): Promise<void> {
  res.writeHead(answer.status ?? 200, { 'Content-Type': answer.contentType ?? 'text/plain; charset=utf-8', 'Content-Length': rawLength(answer) });
  return streamBody(res, answer, truncate, () => abortExchange(res));
}

/** Sends a raw answer on a connection that asked to upgrade, then closes it. */
export function sendRawOnSocket(socket: Duplex, answer: RawAnswer, truncate = false): Promise<void> {
  const status = answer.status ?? 200;
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      `Content-Type: ${answer.contentType ?? 'text/plain; charset=utf-8'}\r\n` +
      `Content-Length: ${rawLength(answer)}\r\n` +
      'Connection: close\r\n\r\n',
  );
  return streamBody(socket, answer, truncate, () => socket.destroy());
}
