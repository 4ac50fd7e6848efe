/**
 * A simulated Grafana 11 HTTP server running "in the Grafana pod": it listens on the pod IP
 * (a loopback address) and port 3000, provisions its datasources from the files the container
 * really sees, logs to the container's log, and reaches datasource URLs through the cluster's
 * DNS and Services like the real pod would.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterView } from '../kube/view.js';
import type { Identity } from './auth.js';
import { Authenticator, BAD_PASSWORD, NO_CREDENTIALS } from './auth.js';
import { DashboardApi } from './dashboard-api.js';
import { DatasourceApi } from './datasource-api.js';
import type { LogFields, LogLevel } from './logfmt.js';
import { formatLogLine } from './logfmt.js';
import { containerEnv } from './pod-env.js';
import { PodHttpClient } from './pod-http.js';
import { PrometheusDatasource } from './prometheus.js';
import type { ProvisionedDatasource } from './provisioning.js';
import { provisionDatasources } from './provisioning.js';
import { QueryApi } from './query-api.js';
import type { Reply } from './reply.js';
import { json, NOT_FOUND } from './reply.js';

export type { ProvisionedDatasource } from './provisioning.js';
export { adminCredentialsFromPod } from './pod-env.js';

export interface GrafanaSimOptions {
  view: ClusterView;
  /** Where "Grafana" runs: its log goes there, its files and environment come from there. */
  namespace: string;
  pod: string;
  container: string;
  /** Listen address: the pod IP (127.0.0.0/8 only) and port 3000; port 0 picks a free port. */
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
  /** Valid `glsa_…` service-account tokens with the Admin role. */
  serviceAccountTokens?: readonly string[];
  /** Valid tokens with the Viewer role: no datasource reads, health checks or queries. */
  viewerTokens?: readonly string[];
  /** Default /etc/grafana/provisioning/datasources. */
  provisioningPath?: string;
  /** Default 11.5.0. */
  version?: string;
  /** Dashboard JSON models served by /api/search and /api/dashboards/uid/:uid. */
  dashboards?: readonly object[];
  /** The `prometheusDataplane` feature (on by default in Grafana 11): value fields named after `__name__`. */
  dataplane?: boolean;
}

/** Switchable failures for fault tests; change them at any time. */
export interface GrafanaFaults {
  /** Datasource health checks fail with this HTTP status (`Plugin health check failed`). */
  datasourceHealthStatus?: number;
  /** /api/health answers 503 with `"database": "failing"`. */
  databaseFailing?: boolean;
}

const COMMIT = '4550cfb5b7';
const BUILD_DATE = '2025-01-28T16:05:32Z';
const DEFAULT_PROVISIONING_PATH = '/etc/grafana/provisioning/datasources';
const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'deny',
  'x-xss-protection': '1; mode=block',
};

/** The single-page app's shell, what Grafana serves for /login and every UI route. */
const APP_PAGE: Reply = {
  status: 200,
  text: `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Grafana</title>
    <base href="/" />
  </head>
  <body class="theme-dark app-grafana">
    <div id="reactRoot"></div>
    <script nonce="">window.grafanaBootData = { settings: { appSubUrl: "" } };</script>
  </body>
</html>
`,
  headers: { 'content-type': 'text/html; charset=UTF-8' },
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class GrafanaSim {
  readonly faults: GrafanaFaults = {};
  private provisioned: ProvisionedDatasource[] = [];
  private provisioningFailure: string | undefined;
  private server: Server | undefined;
  private readonly auth: Authenticator;
  private readonly http: PodHttpClient;
  private readonly datasourceApi: DatasourceApi;
  private readonly queryApi: QueryApi;
  private readonly dashboardApi: DashboardApi;
  private readonly version: string;

  constructor(private readonly options: GrafanaSimOptions) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(options.host)) {
      throw new Error(`GrafanaSim listens on loopback pod IPs only (127.0.0.0/8), not ${options.host}`);
    }
    this.version = options.version ?? '11.5.0';
    this.auth = new Authenticator({
      adminUser: options.adminUser,
      adminPassword: options.adminPassword,
      serviceAccountTokens: options.serviceAccountTokens ?? [],
      viewerTokens: options.viewerTokens ?? [],
    });
    this.http = new PodHttpClient(options.view, options.namespace, `Grafana/${this.version}`);
    const deps = {
      datasources: () => this.provisioned.filter((ds) => ds.orgId === 1),
      prometheus: (ds: ProvisionedDatasource) => new PrometheusDatasource(ds, this.http, options.dataplane ?? true),
      forcedHealthStatus: () => this.faults.datasourceHealthStatus,
    };
    this.datasourceApi = new DatasourceApi(deps);
    this.queryApi = new QueryApi(deps);
    this.dashboardApi = new DashboardApi(options.dashboards ?? []);
  }

  /** `http://<pod IP>:<port>`, the port being the real one once started. */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return `http://${this.options.host}:${address?.port ?? this.options.port}`;
  }

  /** Every provisioned datasource, in id order. */
  get datasources(): readonly ProvisionedDatasource[] {
    return this.provisioned;
  }

  /**
   * The `error=` text of a failed provisioning. Real Grafana exits on it (the pod crash-loops);
   * the simulator keeps serving with no datasource.
   */
  get provisioningError(): string | undefined {
    return this.provisioningFailure;
  }

  private log(logger: string, level: LogLevel, msg: string, fields?: LogFields): void {
    const { view, namespace, pod, container } = this.options;
    view.appendLog(namespace, pod, container, formatLogLine(logger, level, msg, fields));
  }

  async start(): Promise<void> {
    const { view, namespace, pod, container } = this.options;
    const datasourcesPath = this.options.provisioningPath ?? DEFAULT_PROVISIONING_PATH;
    this.log('settings', 'info', 'Starting Grafana', {
      version: this.version,
      commit: COMMIT,
      branch: 'HEAD',
      compiled: BUILD_DATE,
    });
    this.log('settings', 'info', 'Config loaded from', { file: '/usr/share/grafana/conf/defaults.ini' });
    this.log('settings', 'info', 'Path Provisioning', { path: datasourcesPath.replace(/\/datasources\/?$/, '') });
    this.log('sqlstore', 'info', 'Connecting to DB', { dbtype: 'sqlite3' });
    this.log('migrator', 'info', 'Starting DB migrations');

    const result = provisionDatasources(
      view.containerFiles(namespace, pod, container),
      datasourcesPath,
      containerEnv(view, namespace, pod, container),
      (logger, level, msg, fields) => this.log(logger, level, msg, fields),
    );
    this.provisioned = result.datasources;
    this.provisioningFailure = result.error;

    const server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.log('http.server', 'info', 'HTTP Server Listen', {
      address: `[::]:${port}`,
      protocol: 'http',
      subUrl: '',
      socket: '',
    });
  }

  /** Stops listening and drops open connections; calling it again does nothing. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.http.close();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const body = await readBody(req);
      reply = await this.dispatch(req, new URL(req.url ?? '/', 'http://grafana'), body);
    } catch (error) {
      this.log('context', 'error', 'Request error', { error: String(error) });
      reply = json(500, { message: 'Internal Server Error' });
    }
    const payload = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
    res.writeHead(reply.status, {
      ...BASE_HEADERS,
      ...(reply.json !== undefined && reply.text === undefined ? { 'content-type': 'application/json' } : {}),
      ...reply.headers,
      'content-length': Buffer.byteLength(payload),
    });
    res.end(req.method === 'HEAD' ? undefined : payload);
  }

  private async dispatch(req: IncomingMessage, url: URL, body: string): Promise<Reply> {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/api/health' && method === 'GET') return this.health();
    if (path === '/login') return method === 'POST' ? this.login(body) : APP_PAGE;
    if (!path.startsWith('/api/')) return this.frontend(req, method);

    const segments = path.slice('/api/'.length).split('/').map(decodeURIComponent);
    const handler = this.apiRoute(method, segments, url, body);
    if (!handler) return NOT_FOUND;
    const outcome = this.auth.authenticate(req.headers);
    if (!outcome) return json(NO_CREDENTIALS.status, NO_CREDENTIALS.body);
    if ('failure' in outcome) return json(outcome.failure.status, outcome.failure.body);
    return handler(outcome.identity);
  }

  private apiRoute(
    method: string,
    segments: readonly string[],
    url: URL,
    body: string,
  ): ((identity: Identity) => Reply | Promise<Reply>) | undefined {
    const [resource, a, b, c] = segments;
    const n = segments.length;
    if (method === 'GET' && resource === 'datasources') {
      if (n === 1) return (id) => this.datasourceApi.list(id);
      if (n === 2) return (id) => this.datasourceApi.get(id, 'id', a!);
      if (n === 3 && (a === 'uid' || a === 'name')) return (id) => this.datasourceApi.get(id, a, b!);
      if (n === 4 && a === 'uid' && c === 'health') return (id) => this.datasourceApi.health(id, b!);
    }
    if (method === 'POST' && n === 2 && resource === 'ds' && a === 'query') {
      return (id) => this.queryApi.handle(id, body);
    }
    if (method === 'GET' && n === 1 && resource === 'search') {
      return () => this.dashboardApi.search(url.searchParams);
    }
    if (method === 'GET' && n === 3 && resource === 'dashboards' && a === 'uid') {
      return () => this.dashboardApi.byUid(b!);
    }
    return undefined;
  }

  /** GET|HEAD /api/health: Grafana's pretty-printed, key-sorted answer. */
  private health(): Reply {
    const failing = this.faults.databaseFailing === true;
    const body = { commit: COMMIT, database: failing ? 'failing' : 'ok', version: this.version };
    return {
      status: failing ? 503 : 200,
      text: JSON.stringify(body, null, 2),
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    };
  }

  private login(body: string): Reply {
    let credentials: { user?: unknown; password?: unknown };
    try {
      credentials = JSON.parse(body) as typeof credentials;
    } catch {
      return json(400, { message: 'bad login data' });
    }
    const cookies = this.auth.login(String(credentials?.user ?? ''), String(credentials?.password ?? ''));
    if (!cookies) return json(BAD_PASSWORD.status, BAD_PASSWORD.body);
    return { status: 200, json: { message: 'Logged in', redirectUrl: '/' }, headers: { 'set-cookie': cookies } };
  }

  /** The single-page app: served to signed-in browsers, others are sent to /login. */
  private frontend(req: IncomingMessage, method: string): Reply {
    if (method !== 'GET') return NOT_FOUND;
    const outcome = this.auth.authenticate(req.headers);
    if (outcome && 'identity' in outcome) return APP_PAGE;
    return { status: 302, text: '<a href="/login">Found</a>.\n\n', headers: { ...APP_PAGE.headers, location: '/login' } };
  }
}
