/**
 * The k8s-sidecar's call to REQ_URL after files changed (src/helpers.py `request`): a
 * `requests` GET or POST from inside the pod (`localhost` is the pod itself; other hosts go
 * through cluster DNS and Services), basic auth when REQ_USERNAME and REQ_PASSWORD are both set,
 * urllib3 retries on refused connections and on 500/502/503/504 answers (unless ENABLE_5XX),
 * each logged as the sidecar does: `None sent to <url>. Response: 200 OK {…}`, urllib3's
 * `Retrying (Retry(…)) after connection broken by '…'` warnings, and at the end
 * `Max retries exceeded for URL …` or `Unexpected error during request to …`.
 */
import http from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { ClusterView } from '../kube/view.js';
import { sleep } from './kube-client.js';
import { pyObjectAddress, pyRepr, type PyLogger } from './pylog.js';
import { RetryState, retryBackoffMs, type RetrySettings } from './retry.js';

const USER_AGENT = 'python-requests/2.33.1';
/** The statuses urllib3 retries unless ENABLE_5XX (status_forcelist). */
const RETRIED_STATUSES = [500, 502, 503, 504];

export interface SidecarRequest {
  readonly url: string;
  /** REQ_METHOD: `GET` (also when unset) or `POST`. */
  readonly method: string | undefined;
  /** REQ_PAYLOAD parsed as JSON, or the raw text; undefined for none (Python's None). */
  readonly payload?: unknown;
  readonly username?: string;
  readonly password?: string;
  /** ENABLE_5XX: 5xx answers are returned instead of retried. */
  readonly enable5xx: boolean;
  /** REQ_TIMEOUT in seconds, default 10. */
  readonly timeoutSeconds: number;
  readonly retry: RetrySettings;
}

export interface PodNetwork {
  readonly view: ClusterView;
  readonly namespace: string;
  /** The pod's own IP: what `localhost` reaches. */
  readonly podIP: string;
}

/** The outcome the caller may inspect: the answer, if one came. */
export interface SidecarResponse {
  readonly status: number;
  readonly text: string;
}

type Attempt = { response: SidecarResponse & { reason: string } } | { connectError: string } | { readError: string };

/** `HTTPConnectionPool(host='localhost', port=3000)`. */
function poolRepr(url: URL): string {
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const kind = url.protocol === 'https:' ? 'HTTPSConnectionPool' : 'HTTPConnectionPool';
  return `${kind}(host='${url.hostname}', port=${port})`;
}

function connectionRepr(url: URL): string {
  return `<urllib3.connection.${url.protocol === 'https:' ? 'HTTPSConnection' : 'HTTPConnection'} object at ${pyObjectAddress()}>`;
}

/** One HTTP exchange from the pod; the urllib3 error repr when it fails. */
async function attempt(req: SidecarRequest, url: URL, net: PodNetwork, signal: AbortSignal): Promise<Attempt> {
  const host = url.hostname;
  const port = url.port === '' ? 80 : Number(url.port);
  let address: string;
  let dialPort = port;
  if (host === 'localhost' || host === '127.0.0.1') {
    address = net.podIP;
  } else {
    const route = net.view.dial(host, port, net.namespace);
    if ('error' in route) {
      if (/no such host/.test(route.error)) {
        return { connectError: `NameResolutionError("${connectionRepr(url)}: Failed to resolve '${host}' ([Errno -2] Name does not resolve)")` };
      }
      return { connectError: `NewConnectionError('${connectionRepr(url)}: Failed to establish a new connection: [Errno 111] Connection refused')` };
    }
    address = route.address;
    dialPort = route.port;
  }
  const headers: Record<string, string> = {
    'User-Agent': USER_AGENT,
    'Accept-Encoding': 'gzip, deflate',
    Accept: '*/*',
    Connection: 'keep-alive',
  };
  if (url.host) headers.Host = url.host;
  // HTTPBasicAuth only when both are set (and non-empty).
  if (req.username && req.password) {
    headers.Authorization = `Basic ${Buffer.from(`${req.username}:${req.password}`, 'latin1').toString('base64')}`;
  }
  const post = req.method === 'POST';
  const body = post && req.payload !== undefined ? JSON.stringify(req.payload) : undefined;
  if (post) headers['Content-Length'] = String(body === undefined ? 0 : Buffer.byteLength(body));
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return new Promise<Attempt>((resolve) => {
    const request = http.request(
      { host: address, port: dialPort, path: `${url.pathname}${url.search}`, method: post ? 'POST' : 'GET', headers, signal, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            response: {
              status: res.statusCode ?? 0,
              reason: res.statusMessage || STATUS_CODES[res.statusCode ?? 0] || '',
              text: Buffer.concat(chunks).toString('utf8'),
            },
          }),
        );
        res.on('error', () => resolve({ readError: `ProtocolError('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))` }));
      },
    );
    request.setTimeout(req.timeoutSeconds * 1000, () => {
      request.destroy();
      resolve({ readError: `ReadTimeoutError("${poolRepr(url)}: Read timed out. (read timeout=${req.timeoutSeconds})")` });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (signal.aborted) return resolve({ connectError: 'aborted' });
      if (error.code === 'ECONNRESET') {
        return resolve({ readError: `ProtocolError('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))` });
      }
      resolve({ connectError: `NewConnectionError('${connectionRepr(url)}: Failed to establish a new connection: [Errno 111] Connection refused')` });
    });
    request.end(body);
  });
}

/**
 * Sends the request with the sidecar's retries and logs its outcome; resolves with the answer
 * (any status) or undefined when none came. Rejects only when `signal` aborts.
 */
export async function sidecarRequest(req: SidecarRequest, net: PodNetwork, log: PyLogger, signal: AbortSignal): Promise<SidecarResponse | undefined> {
  const method = req.method;
  if (method !== undefined && method !== 'GET' && method !== 'POST' && method !== '') {
    log.warning(`Invalid REQ_METHOD: '${method}', please use 'GET' or 'POST'. Doing nothing.`);
    return undefined;
  }
  const url = new URL(req.url);
  const retry = new RetryState(req.retry);
  const path = `${url.pathname}${url.search}`;
  const failed = (prefix: string, cause: string) => {
    log.error(`${prefix} ${req.url}: ${poolRepr(url)}: Max retries exceeded with url: ${path} (Caused by ${cause})`);
    log.debug(`Returning dummy response for URL ${req.url}`);
    return undefined;
  };
  for (;;) {
    const outcome = await attempt(req, url, net, signal);
    if (signal.aborted) throw signal.reason;
    if ('response' in outcome) {
      const { status, reason, text } = outcome.response;
      if (!req.enable5xx && RETRIED_STATUSES.includes(status)) {
        if (!retry.statusError()) return failed('Max retries exceeded for URL', `ResponseError('too many ${status} error responses')`);
        await sleep(retryBackoffMs(req.retry, retry.errors), signal);
        log.debug(`Retry: ${path}`);
        continue;
      }
      const answer = `Response: ${status} ${reason} ${text}`;
      if (method === 'POST') log.info(`${pyRepr(req.payload)} sent to ${req.url}. ${answer}`);
      else log.info(`Request sent to ${req.url}. ${answer}`);
      return { status, text };
    }
    const connect = 'connectError' in outcome;
    const cause = connect ? outcome.connectError : outcome.readError;
    if (!(connect ? retry.connectError() : retry.readError())) return failed('Unexpected error during request to', cause);
    await sleep(retryBackoffMs(req.retry, retry.errors), signal);
    log.warning(`Retrying (${retry.repr()}) after connection broken by '${cause}': ${path}`);
  }
}
