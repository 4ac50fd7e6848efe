/**
 * One HTTP exchange with a time limit and a size limit, and errors a user can act on.
 * Every request the action makes (to the API server, Prometheus, Grafana) goes through here.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { request, type Dispatcher } from 'undici';
import { MfcError } from './errors.js';

export interface HttpRequest {
  readonly url: string;
  readonly method?: 'GET' | 'POST' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly dispatcher?: Dispatcher;
  readonly timeoutMs: number;
  /** Aborts the request early (the runner's time budget). */
  readonly signal?: AbortSignal;
  /** Larger answers are cut off with an error; default 20 MiB. */
  readonly maxBytes?: number;
  /** Names the exchange in messages, e.g. `Prometheus GET /api/v1/targets`. */
  readonly what: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly ms: number;
}

/** A request that got no HTTP answer: timeout, refused, reset, TLS, DNS. */
export class HttpError extends MfcError {
  override name = 'HttpError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The largest answer the action reads. */
export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const started = Date.now();
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const res = await request(req.url, {
      method: req.method ?? 'GET',
      headers: req.headers,
      body: req.body,
      dispatcher: req.dispatcher,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const body = await decodedBody(res, req.what);
    const consumer = consumers.getStore();
    if (consumer && !consumer.taken && consumer.what === req.what && consumer.accepts(res.statusCode, flattenHeaders(res.headers))) {
      consumer.taken = true;
      try {
        for await (const chunk of body) consumer.write(asBuffer(chunk));
        consumer.end();
      } catch (err) {
        res.body.destroy();
        throw err;
      }
      return { status: res.statusCode, headers: flattenHeaders(res.headers), text: '', ms: Date.now() - started };
    }
    const bytes = await readCapped(
      body,
      req.maxBytes ?? DEFAULT_MAX_BYTES,
      () => res.body.destroy(),
      (limit) => new HttpError(`${req.what}: the answer is larger than ${limit}; refusing to read it`, 'TOO_LARGE'),
    );
    const text = bytes.toString('utf8');
    return { status: res.statusCode, headers: flattenHeaders(res.headers), text, ms: Date.now() - started };
  } catch (err) {
    if (err instanceof MfcError) throw err;
    if (timeout.aborted) {
      throw new HttpError(`${req.what}: no answer within ${formatMs(req.timeoutMs)} (request-timeout)`, 'TIMEOUT');
    }
    if (req.signal?.aborted) {
      throw new HttpError(`${req.what}: stopped, the run's time budget ran out`, 'ABORTED');
    }
    throw new HttpError(`${req.what}: ${describeNetworkError(err)}`, networkCode(err));
  }
}

/**
 * What a request sends as `Accept-Encoding` to have a large answer compressed: Prometheus
 * compresses every answer of its HTTP API for a client that asks (util/httputil/compression.go,
 * CompressionHandler: the first of `gzip` and `deflate` listed), which makes a 35 MiB targets
 * answer about 1.5 MiB on the wire; the API server's service proxy passes the header and the
 * encoded answer through unchanged.
 */
export const ACCEPT_COMPRESSED = 'gzip';

/** Bytes per piece of a decompressed answer: fewer, larger pieces than zlib's 16 KiB default. */
const INFLATE_CHUNK = 256 * 1024;

/**
 * The body of an answer, decompressed as it arrives when its `Content-Encoding` is gzip or
 * deflate (zlib's format, as HTTP's `deflate` is). The size limits of the readers then apply to
 * the decompressed bytes. An encoding the action cannot read is refused with its name.
 */
async function decodedBody(res: Dispatcher.ResponseData, what: string): Promise<AsyncIterable<Buffer | Uint8Array | string>> {
  const header = res.headers['content-encoding'];
  const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  if (!encoding || encoding === 'identity') return res.body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    res.body.destroy();
    throw new HttpError(`${what}: the answer came with Content-Encoding "${clip(encoding, 40)}", which the action did not ask for and cannot read`, 'CONTENT_ENCODING');
  }
  const zlib = await import('node:zlib');
  const { pipeline } = await import('node:stream');
  const inflate = encoding === 'deflate' ? zlib.createInflate({ chunkSize: INFLATE_CHUNK }) : zlib.createGunzip({ chunkSize: INFLATE_CHUNK });
  // An error on either side (the connection, the compressed data) ends the decompressed stream with it.
  return pipeline(res.body, inflate, () => undefined);
}

/**
 * Takes the body of one answer as it arrives, instead of `httpRequest` reading it whole (and at
 * most `maxBytes`) into `text`: for answers whose size is not bounded, of which only a part is
 * kept. Its own bounds are its own; it throws an MfcError to stop the read.
 */
export interface BodyConsumer {
  /** The exchange it is for: the `what` of the request. */
  readonly what: string;
  /** Whether to take this answer's body (e.g. a success only); otherwise it is read into `text`. */
  accepts(status: number, headers: Readonly<Record<string, string>>): boolean;
  write(chunk: Buffer): void;
  end(): void;
  /** Set once a request handed it a body (its answer's `text` is then empty). */
  taken: boolean;
}

const consumers = new AsyncLocalStorage<BodyConsumer>();

/**
 * Runs `fn` (which makes the request, through whichever endpoint) with `consumer` taking the body
 * of the first answer to the request named `consumer.what` that it accepts. The consumer travels
 * with the call's asynchronous context, so the API server's service proxy, a port-forward and a
 * direct URL all hand it the body, and no other request sees it.
 */
export function consumingBody<T>(consumer: BodyConsumer, fn: () => Promise<T>): Promise<T> {
  return consumers.run(consumer, fn);
}

/**
 * Reads a body to the end, at most `maxBytes`: past that, stops reading (calls `stop`) and throws
 * the error `tooLarge` makes. Shared by every answer the action reads (services and API server).
 */
export async function readCapped(
  body: AsyncIterable<Buffer | Uint8Array | string>,
  maxBytes: number,
  stop: () => unknown,
  tooLarge: (limit: string) => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = asBuffer(chunk);
    size += buf.length;
    if (size > maxBytes) {
      await stop();
      throw tooLarge(`${Math.round(maxBytes / 1048576)} MiB`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** A chunk as a Buffer, without copying one that already is (Buffer.from copies). */
function asBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The innermost error code of a network failure (undici wraps the socket error in `cause`). */
export function networkCode(err: unknown): string {
  let e: unknown = err;
  let socketClosed = false;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'UND_ERR_SOCKET') socketClosed = true;
    else if (typeof code === 'string' && !code.startsWith('UND_ERR_ABORT')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  // undici's "other side closed": the peer ended the connection before the answer was complete.
  return socketClosed ? 'UND_ERR_SOCKET' : 'NETWORK';
}

/**
 * Network failures after the connection was made: the server was reached, then the exchange broke
 * (the connection closed or reset, the answer cut short, the request's HTTP/2 stream reset).
 */
export const CUT_SHORT = new Set(['Z_BUF_ERROR', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR']);

const NETWORK_MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens at that address and port)',
  ECONNRESET: 'the connection was reset before the answer was complete',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS failure)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer headers in time (request-timeout)',
  UND_ERR_BODY_TIMEOUT: 'the answer body stalled (request-timeout)',
  UND_ERR_SOCKET: 'the connection was reset: the other side closed it before the answer was complete',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the answer was cut short (content-length mismatch)',
  // zlib, on a compressed answer: the data does not decompress, or stops before its end.
  Z_DATA_ERROR: 'the compressed answer is corrupt (it does not decompress)',
  Z_BUF_ERROR: 'the compressed answer was cut short',
  // HTTP/2 (kube-apiserver speaks it): the server reset this request's stream (RST_STREAM), as Go's
  // server does when a handler aborts; the connection and its other requests go on.
  ERR_HTTP2_STREAM_ERROR: 'the server reset the HTTP/2 stream of the request before the answer was complete',
  ERR_HTTP2_SESSION_ERROR: 'the HTTP/2 connection failed before the answer was complete',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS: the server's certificate is not signed by the kubeconfig's certificate authority",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS: the server's certificate is not signed by the kubeconfig's certificate authority",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS: the server's certificate is self-signed and not trusted by the kubeconfig",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "TLS: the server's certificate is not signed by the kubeconfig's certificate authority",
  CERT_HAS_EXPIRED: "TLS: the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS: the server's certificate does not name this host",
};

/** A one-line reason for a network failure, never a stack trace. */
export function describeNetworkError(err: unknown): string {
  const code = networkCode(err);
  const known = NETWORK_MESSAGES[code];
  // Node names the HTTP/2 error code in the message: "Stream closed with error code NGHTTP2_INTERNAL_ERROR".
  const h2Code = code.startsWith('ERR_HTTP2_') ? /\bNGHTTP2_[A-Z_]+/.exec(innermostMessage(err))?.[0] : undefined;
  if (known) return `${known}${h2Code ? ` (${h2Code})` : ''} [${code}]`;
  const msg = innermostMessage(err);
  return code === 'NETWORK' ? msg : `${msg} [${code}]`;
}

function innermostMessage(err: unknown): string {
  let e: unknown = err;
  let msg = 'request failed';
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === 'string' && m && m !== 'fetch failed') msg = m;
    e = (e as { cause?: unknown }).cause;
  }
  return msg.split('\n')[0] ?? msg;
}

/** Parses a JSON answer, or explains what came instead (an HTML error page, plain text). */
export function parseJson<T = unknown>(res: HttpResponse, what: string): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new MfcError(`${what} answered HTTP ${res.status} with ${describeBody(res)} instead of JSON`);
  }
}

/** `an HTML page ("502 Bad Gateway")`, `text "Unauthorized"`, `an empty body`. */
export function describeBody(res: HttpResponse): string {
  const text = res.text.trim();
  if (!text) return 'an empty body';
  const type = res.headers['content-type'] ?? '';
  if (type.includes('html') || /^<(!doctype|html)/i.test(text)) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    return title ? `an HTML page ("${clip(title, 80)}")` : 'an HTML page';
  }
  return `text "${clip(text.replace(/\s+/g, ' '), 120)}"`;
}

export { trimTrailingSlashes } from './text.js';

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}
