/**
 * The HTTP front of a Prometheus pod whose Kubernetes discovery is bridged: it listens where the
 * pod's Prometheus listens and forwards every request to the Prometheus process (listening on
 * another port of the same address) as it comes (any method, headers and body streamed both
 * ways, keep-alive), except the few answers that would show the bridge, which it reads whole and
 * passes through a rewrite (see bridge-view.ts). Once the process is gone it stops listening, as
 * the port of a dead process refuses connections; it never keeps the caller's process alive.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { deflateSync, gzipSync, gunzipSync, inflateSync } from 'node:zlib';

/** Rewrites a JSON answer body (status 200) of a `GET`. */
export type AnswerRewrite = (body: string) => string;

export interface ApiFrontOptions {
  /** Where clients connect (the pod IP). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The Prometheus process (read at each request: it may be set once the front listens). */
  upstream: { host: string; port: number };
  /** Rewrites by request path (with the route prefix), e.g. `/api/v1/status/config`. */
  rewrites: Record<string, AnswerRewrite>;
}

export interface ApiFront {
  /** `http://host:port` */
  url: string;
  port: number;
  /** Stops listening and drops every connection (the process has exited). */
  shutdown(): void;
  /** Same, resolving once the listener is closed. Idempotent. */
  stop(): Promise<void>;
}

/** Headers that belong to one connection, not to the message (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * net/http (server.go `bufferBeforeChunkingSize`): a handler's answer that fits its 2048-byte
 * buffer is sent with a Content-Length, a longer one chunked.
 */
const GO_CHUNKING_THRESHOLD = 2048;

/** Raw header pairs without the hop-by-hop ones (and those the request also handles itself). */
function endToEnd(raw: string[], drop: ReadonlySet<string> = HOP_BY_HOP): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!drop.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

const REQUEST_DROP = new Set([...HOP_BY_HOP, 'expect']);

function header(raw: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function decode(body: Buffer, encoding: string | undefined): Buffer | undefined {
  if (!encoding || encoding === 'identity') return body;
  if (encoding === 'gzip') return gunzipSync(body);
  // Prometheus's deflate is compress/zlib (util/httputil/compression.go).
  if (encoding === 'deflate') return inflateSync(body);
  return undefined;
}

function encode(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'gzip') return gzipSync(body);
  if (encoding === 'deflate') return deflateSync(body);
  return body;
}

/** The answer's headers with the new length (in place), or none when Go would have chunked it. */
function withLength(raw: string[], length: number): string[] {
  const out: string[] = [];
  let found = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'content-length') {
      found = true;
      if (length <= GO_CHUNKING_THRESHOLD) out.push(raw[i]!, String(length));
    } else out.push(raw[i]!, raw[i + 1]!);
  }
  if (!found && length <= GO_CHUNKING_THRESHOLD) out.push('Content-Length', String(length));
  return out;
}

export async function startApiFront(opts: ApiFrontOptions): Promise<ApiFront> {
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const rewrite = req.method === 'GET' ? opts.rewrites[path] : undefined;
    const upstream = http.request(
      {
        host: opts.upstream.host,
        port: opts.upstream.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.rawHeaders, REQUEST_DROP),
        agent,
      },
      (answer) => {
        let raw = endToEnd(answer.rawHeaders);
        // The process closing the connection closes the client's too.
        if (/\bclose\b/i.test(header(answer.rawHeaders, 'connection') ?? '')) raw = [...raw, 'Connection', 'close'];
        const status = answer.statusCode ?? 502;
        answer.on('aborted', () => res.destroy());
        answer.on('error', () => res.destroy());
        if (!rewrite || status !== 200) {
          res.writeHead(status, answer.statusMessage, raw);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const original = Buffer.concat(chunks);
          const encoding = header(answer.rawHeaders, 'content-encoding')?.trim().toLowerCase();
          let body: Buffer = original;
          let headers = raw;
          try {
            const plain = decode(original, encoding);
            if (plain) {
              const text = plain.toString('utf8');
              const rewritten = rewrite(text);
              if (rewritten !== text) {
                body = encode(Buffer.from(rewritten, 'utf8'), encoding);
                headers = withLength(raw, body.length);
              }
            }
          } catch {
            // An answer that cannot be read is passed on as it came.
          }
          res.writeHead(status, answer.statusMessage, headers);
          res.end(body);
        });
      },
    );
    upstream.on('socket', (socket) => socket.unref());
    upstream.on('error', () => {
      // Nothing answers: the client sees its connection dropped, as with a dead process.
      if (res.headersSent) res.destroy();
      else req.socket.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('aborted', () => upstream.destroy());
    req.pipe(upstream);
  });
  // net/http sends no Keep-Alive header; Prometheus's server closes idle connections after its
  // --web.read-timeout (5m: Go's IdleTimeout defaults to the ReadTimeout).
  server.keepAliveTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setTimeout(300_000, () => socket.destroy());
    socket.unref();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      agent.destroy();
    });
    return closed;
  };
  return {
    url: `http://${opts.host}:${port}`,
    port,
    shutdown: () => void stop(),
    stop,
  };
}
