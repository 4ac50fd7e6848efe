/**
 * A simulated Grafana HTTP server (11.5.0 unless `version` says another release: 9.5, 10.4, 11.x
 * and 12.x answer as each really does, see release.ts) running "in the Grafana pod": it listens on
 * the pod IP (a loopback address) and port 3000, provisions its datasources once at start from the files
 * the container really sees (ConfigMap/Secret mounts, and emptyDir files a sidecar wrote), logs
 * to the container's log, and reaches datasource URLs through the cluster's DNS and Services
 * like the real pod would. Files written later reach `/api/datasources` only through
 * `POST /api/admin/provisioning/datasources/reload` (server admin only), as in Grafana.
 * Datasources can also live only in its database (`POST /api/datasources`, createDatasource).
 * `GET /metrics` serves Grafana's own metrics without authentication. Like Grafana's Go
 * `http.Server` (no idle timeout unless `[server] read_timeout` is set), it keeps idle keep-alive
 * connections open; `stop()` closes them.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterView } from '../kube/view.js';
import { EXPOSITION_CONTENT_TYPE } from '../exporters/exposition.js';
import type { Identity } from './auth.js';
import { Authenticator, badPassword, DEFAULT_LOGIN_COOKIE, noCredentials } from './auth.js';
import { DashboardApi } from './dashboard-api.js';
import { provisionDashboards } from './dashboard-provisioning.js';
import type { LibraryElement } from './dashboard-store.js';
import { DashboardDatabase } from './dashboard-store.js';
import { DatasourceApi } from './datasource-api.js';
import type { DatasourceFields } from './datasource-store.js';
import { DatasourceTable } from './datasource-store.js';
import type { LogFields, LogLevel } from './logfmt.js';
import { formatLogLine } from './logfmt.js';
import { GrafanaMetrics } from './metrics.js';
import { containerEnv } from './pod-env.js';
import { PodHttpClient } from './pod-http.js';
import { PrometheusDatasource } from './prometheus.js';
import type { ProvisionedDatasource } from './provisioning.js';
import { reprovisionDatasources } from './provisioning.js';
import { QueryApi } from './query-api.js';
import type { GrafanaRelease } from './release.js';
import { errutilBody, grafanaRelease } from './release.js';
import type { Reply } from './reply.js';
import { accessDenied, json, NOT_FOUND } from './reply.js';

export type { ProvisionedDatasource } from './provisioning.js';
export type { GrafanaRelease } from './release.js';
export { grafanaRelease } from './release.js';
export type { DatasourceFields } from './datasource-store.js';
export { adminCredentialsFromPod } from './pod-env.js';

/** What createDatasource needs; the rest defaults as Grafana's AddDataSource does. */
export type NewDatasource = Pick<DatasourceFields, 'name' | 'type' | 'url'> & Partial<DatasourceFields>;

/** The outcome of a datasource provisioning reload: Grafana's `error=` text when it failed. */
export interface ReloadResult {
  readonly error?: string;
}

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
  /** The Grafana release to answer as (`9.5.21`, `10.4.14`, `11.5.0`, `12.0.2`, …); default 11.5.0. */
  version?: string;
  /**
   * Dashboard JSON models already in Grafana's database at start (saved through the UI or the
   * API: General folder, not provisioned), besides those provisioned from files.
   */
  dashboards?: readonly object[];
  /**
   * The `prometheusDataplane` feature (value fields named after `__name__`); default: the
   * release's (on from 10.0, off in 9.5).
   */
  dataplane?: boolean;
  /**
   * `[auth] login_cookie_name`; default the container's `GF_AUTH_LOGIN_COOKIE_NAME`, else
   * `grafana_session`.
   */
  loginCookieName?: string;
  /**
   * `[auth.basic] enabled`; default the container's `GF_AUTH_BASIC_ENABLED`, else true. When
   * false, `Authorization: Basic` is ignored (401 "Unauthorized" even with the right password)
   * while `POST /login` keeps working.
   */
  basicAuthEnabled?: boolean;
}

/** Switchable failures for fault tests; change them at any time. */
export interface GrafanaFaults {
  /** Datasource health checks fail with this HTTP status (`Plugin health check failed`). */
  datasourceHealthStatus?: number;
  /** /api/health answers 503 with `"database": "failing"`. */
  databaseFailing?: boolean;
}

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

/** A Go-style boolean setting (`strconv.ParseBool`, as the ini library reads it); undefined when unset or not one. */
function boolSetting(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  return undefined;
}

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
  private table = new DatasourceTable();
  private provisioningFailure: string | undefined;
  private metrics: GrafanaMetrics;
  private server: Server | undefined;
  private auth: Authenticator;
  private readonly http: PodHttpClient;
  private readonly datasourceApi: DatasourceApi;
  private readonly queryApi: QueryApi;
  private readonly dashboardApi: DashboardApi;
  private dashboardDb = new DashboardDatabase();
  private readonly version: string;
  /** What this release answers differently. */
  readonly release: GrafanaRelease;

  constructor(private readonly options: GrafanaSimOptions) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(options.host)) {
      throw new Error(`GrafanaSim listens on loopback pod IPs only (127.0.0.0/8), not ${options.host}`);
    }
    this.version = options.version ?? '11.5.0';
    this.release = grafanaRelease(this.version);
    this.auth = this.authenticator();
    this.http = new PodHttpClient(options.view, options.namespace, `Grafana/${this.version}`);
    this.metrics = new GrafanaMetrics({ version: this.version, commit: this.release.commit });
    const dataplane = options.dataplane ?? this.release.dataplane;
    const deps = {
      datasources: () => this.table.all().filter((ds) => ds.orgId === 1),
      table: () => this.table,
      prometheus: (ds: ProvisionedDatasource) => new PrometheusDatasource(ds, this.http, dataplane),
      forcedHealthStatus: () => this.faults.datasourceHealthStatus,
      release: this.release,
    };
    this.datasourceApi = new DatasourceApi(deps);
    this.queryApi = new QueryApi(deps);
    this.dashboardApi = new DashboardApi(() => this.dashboardDb, options.adminUser);
    this.seedDashboards();
  }

  /**
   * The authentication settings as Grafana reads them at start: the options, else the container's
   * `GF_AUTH_LOGIN_COOKIE_NAME` / `GF_AUTH_BASIC_ENABLED` (Grafana's `GF_<SECTION>_<KEY>`
   * overrides of `[auth] login_cookie_name` and `[auth.basic] enabled`), else the defaults.
   */
  private authenticator(): Authenticator {
    const { view, namespace, pod, container } = this.options;
    const env = containerEnv(view, namespace, pod, container);
    return new Authenticator({
      release: this.release,
      adminUser: this.options.adminUser,
      adminPassword: this.options.adminPassword,
      serviceAccountTokens: this.options.serviceAccountTokens ?? [],
      viewerTokens: this.options.viewerTokens ?? [],
      loginCookieName: this.options.loginCookieName ?? (env.get('GF_AUTH_LOGIN_COOKIE_NAME') || DEFAULT_LOGIN_COOKIE),
      basicAuthEnabled: this.options.basicAuthEnabled ?? boolSetting(env.get('GF_AUTH_BASIC_ENABLED')) ?? true,
    });
  }

  /** The session cookie's name (`[auth] login_cookie_name`). */
  get loginCookieName(): string {
    return this.auth.loginCookieName;
  }

  /** Login sessions not logged out (nor lost with a restart). */
  get openSessions(): number {
    return this.auth.openSessions;
  }

  /** `http://<pod IP>:<port>`, the port being the real one once started. */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return `http://${this.options.host}:${address?.port ?? this.options.port}`;
  }

  /** Every datasource in Grafana's database (provisioned or created through the API), in id order. */
  get datasources(): readonly ProvisionedDatasource[] {
    return this.table.all();
  }

  /**
   * The `error=` text of a failed provisioning at start. Real Grafana exits on it (the pod
   * crash-loops); the simulator keeps serving with no datasource.
   */
  get provisioningError(): string | undefined {
    return this.provisioningFailure;
  }

  private get datasourcesPath(): string {
    return this.options.provisioningPath ?? DEFAULT_PROVISIONING_PATH;
  }

  /** The dashboards, folders and library panels in Grafana's database. */
  get dashboardDatabase(): DashboardDatabase {
    return this.dashboardDb;
  }

  /** The dashboards given as already saved (options.dashboards), in the General folder. */
  private seedDashboards(): void {
    (this.options.dashboards ?? []).forEach((raw, index) => {
      const model = raw as Record<string, unknown>;
      const uid = typeof model.uid === 'string' && model.uid !== '' ? model.uid : `dash${index + 1}`;
      const title = typeof model.title === 'string' ? model.title : `Dashboard ${index + 1}`;
      this.dashboardDb.saveDashboard({ ...model, title }, { uid, folderUid: '' });
    });
  }

  /**
   * Provisions dashboards from the files the container sees now (at start, and what
   * `POST /api/admin/provisioning/dashboards/reload` does): the providers under
   * `<provisioning>/dashboards` — `GF_PATHS_PROVISIONING`, else the parent of the datasources
   * directory.
   */
  reloadDashboards(): void {
    const { view, namespace, pod, container } = this.options;
    const env = containerEnv(view, namespace, pod, container);
    const root = env.get('GF_PATHS_PROVISIONING') || this.datasourcesPath.replace(/\/datasources\/?$/, '');
    provisionDashboards(this.dashboardDb, view.containerFiles(namespace, pod, container), `${root.replace(/\/+$/, '')}/dashboards`, env, (logger, level, msg, fields) =>
      this.log(logger, level, msg, fields),
    );
  }

  /**
   * A library panel in Grafana's database, as `POST /api/library-elements` creates it (someone
   * made it in the UI: file provisioning cannot create library panels, grafana/grafana#46247).
   */
  createLibraryPanel(input: { uid?: string; name: string; model: Record<string, unknown>; folderUid?: string }): LibraryElement {
    return this.dashboardDb.createLibraryElement(input);
  }

  /**
   * Provisions again from the files the container sees now, into the current database (what
   * `POST /api/admin/provisioning/datasources/reload` does): new files insert, changed ones
   * update, datasources whose file went away stay unless deleted by a file or prunable.
   */
  reloadDatasources(): ReloadResult {
    const { view, namespace, pod, container } = this.options;
    return reprovisionDatasources(
      this.table,
      view.containerFiles(namespace, pod, container),
      this.datasourcesPath,
      containerEnv(view, namespace, pod, container),
      (logger, level, msg, fields) => this.log(logger, level, msg, fields),
    );
  }

  /**
   * A datasource that lives only in Grafana's database, as `POST /api/datasources` creates it
   * (not provisioned: editable, never touched by a reload unless a file names it). Throws on a
   * taken name or uid.
   */
  createDatasource(input: NewDatasource): ProvisionedDatasource {
    return this.table.insert({
      uid: '',
      orgId: 1,
      access: 'proxy',
      user: '',
      database: '',
      basicAuth: false,
      basicAuthUser: '',
      withCredentials: false,
      isDefault: false,
      jsonData: {},
      secureJsonData: {},
      isPrunable: false,
      ...input,
      readOnly: false,
    });
  }

  private log(logger: string, level: LogLevel, msg: string, fields?: LogFields): void {
    const { view, namespace, pod, container } = this.options;
    view.appendLog(namespace, pod, container, formatLogLine(logger, level, msg, fields));
  }

  async start(): Promise<void> {
    const datasourcesPath = this.datasourcesPath;
    this.log('settings', 'info', 'Starting Grafana', {
      version: this.version,
      commit: this.release.commit,
      branch: 'HEAD',
      compiled: this.release.buildDate,
    });
    this.log('settings', 'info', 'Config loaded from', { file: '/usr/share/grafana/conf/defaults.ini' });
    this.log('settings', 'info', 'Path Provisioning', { path: datasourcesPath.replace(/\/datasources\/?$/, '') });
    this.log('sqlstore', 'info', 'Connecting to DB', { dbtype: 'sqlite3' });
    this.log('migrator', 'info', 'Starting DB migrations');

    // A fresh database (the sqlite file of an emptyDir-backed pod), provisioned once.
    this.table = new DatasourceTable();
    this.auth = this.authenticator();
    this.metrics = new GrafanaMetrics({ version: this.version, commit: this.release.commit });
    const result = this.reloadDatasources();
    if (result.error) this.table = new DatasourceTable();
    this.provisioningFailure = result.error;
    this.dashboardDb = new DashboardDatabase();
    this.seedDashboards();
    this.reloadDashboards();

    // Grafana's http.Server sets only ReadTimeout ([server] read_timeout, default 0: none), so Go
    // keeps idle keep-alive connections open indefinitely (IdleTimeout falls back to ReadTimeout)
    // and puts no deadline on reading a request. Node's defaults (5 s keep-alive, 60 s headers,
    // 300 s request) would close connections a client expects to reuse.
    const server = createServer({ keepAliveTimeout: 0, headersTimeout: 0, requestTimeout: 0 }, (req, res) => void this.serve(req, res));
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
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://grafana');
    const route: Routed = { handler: url.pathname };
    let reply: Reply;
    try {
      const body = await readBody(req);
      reply = await this.dispatch(req, url, body, route);
    } catch (error) {
      this.log('context', 'error', 'Request error', { error: String(error) });
      reply = json(500, { message: 'Internal Server Error' });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (route.handler !== '/metrics') this.metrics.observe(route.handler, req.method ?? 'GET', reply.status, seconds);
    if (reply.status >= 500) this.logFailedRequest(req, url, route, reply, seconds);
    const payload = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
    res.writeHead(reply.status, {
      ...BASE_HEADERS,
      ...(reply.json !== undefined && reply.text === undefined ? { 'content-type': 'application/json' } : {}),
      ...reply.headers,
      'content-length': Buffer.byteLength(payload),
    });
    res.end(req.method === 'HEAD' ? undefined : payload);
  }

  private async dispatch(req: IncomingMessage, url: URL, body: string, route: Routed): Promise<Reply> {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/api/health' && method === 'GET') return this.health();
    if (path === '/metrics' && method === 'GET') return this.metricsPage();
    if (path === '/login') return method === 'POST' ? this.login(body) : APP_PAGE;
    if (path === '/logout' && method === 'GET') return this.logout(req);
    if (path === '/api/login/ping' && method === 'GET') return this.loginPing(req);
    if (!path.startsWith('/api/')) return this.frontend(req, method);

    const segments = path.slice('/api/'.length).split('/').map(decodeURIComponent);
    const found = this.apiRoute(method, segments, url, body);
    if (!found) return NOT_FOUND;
    route.handler = found.handler;
    if (found.anonymous) return found.run(undefined);
    const outcome = this.auth.authenticate(req.headers);
    if (!outcome) return json(401, noCredentials(this.release).body);
    if ('failure' in outcome) return json(outcome.failure.status, outcome.failure.body);
    route.identity = outcome.identity;
    return found.run(outcome.identity);
  }

  private apiRoute(method: string, segments: readonly string[], url: URL, body: string): ApiRoute | undefined {
    const [resource, a, b, c] = segments;
    const n = segments.length;
    const signedIn = (handler: string, run: (identity: Identity) => Reply | Promise<Reply>): ApiRoute => ({
      handler,
      run: (identity) => run(identity!),
    });
    if (method === 'GET' && resource === 'datasources') {
      if (n === 1) return signedIn('/api/datasources/', (id) => this.datasourceApi.list(id));
      if (n === 2) return signedIn('/api/datasources/:id', (id) => this.datasourceApi.get(id, 'id', a!));
      if (n === 3 && (a === 'uid' || a === 'name')) return signedIn(`/api/datasources/${a}/:${a}`, (id) => this.datasourceApi.get(id, a, b!));
      if (n === 4 && a === 'uid' && c === 'health') return signedIn('/api/datasources/uid/:uid/health', (id) => this.datasourceApi.health(id, b!));
    }
    if (method === 'POST' && n === 1 && resource === 'datasources') {
      return signedIn('/api/datasources/', (id) => this.datasourceApi.create(id, body));
    }
    if (method === 'PUT' && n === 3 && resource === 'datasources' && a === 'uid') {
      return signedIn('/api/datasources/uid/:uid', (id) => this.datasourceApi.update(id, b!, body));
    }
    if (method === 'DELETE' && n === 3 && resource === 'datasources' && a === 'uid') {
      return signedIn('/api/datasources/uid/:uid', (id) => this.datasourceApi.delete(id, b!));
    }
    if (method === 'POST' && n === 4 && resource === 'admin' && a === 'provisioning' && c === 'reload') {
      const handler = `/api/admin/provisioning/${b}/reload`;
      if (b === 'datasources') return signedIn(handler, (id) => this.reloadRoute(id, 'datasources'));
      if (b === 'dashboards' || b === 'plugins') return signedIn(handler, (id) => this.reloadRoute(id, b));
    }
    if (method === 'POST' && n === 2 && resource === 'ds' && a === 'query') {
      return signedIn('/api/ds/query', (id) => this.queryApi.handle(id, body));
    }
    if (method === 'GET' && n === 1 && resource === 'search') {
      return signedIn('/api/search/', () => this.dashboardApi.search(url.searchParams));
    }
    if (method === 'GET' && n === 3 && resource === 'dashboards' && a === 'uid') {
      return signedIn('/api/dashboards/uid/:uid', () => this.dashboardApi.byUid(b!));
    }
    if (method === 'POST' && n === 2 && resource === 'dashboards' && a === 'db') {
      return signedIn('/api/dashboards/db/', (id) => (id.role === 'Viewer' ? accessDenied('dashboards:create') : this.dashboardApi.saveDashboard(body)));
    }
    if (method === 'DELETE' && n === 3 && resource === 'dashboards' && a === 'uid') {
      return signedIn('/api/dashboards/uid/:uid', (id) => (id.role === 'Viewer' ? accessDenied('dashboards:delete') : this.dashboardApi.deleteDashboard(b!)));
    }
    if (method === 'POST' && n === 1 && resource === 'folders') {
      return signedIn('/api/folders/', (id) => (id.role === 'Viewer' ? accessDenied('folders:create') : this.dashboardApi.createFolder(body)));
    }
    if (method === 'GET' && resource === 'folders' && n <= 2) {
      if (n === 1) return signedIn('/api/folders/', () => this.dashboardApi.folders(url.searchParams));
      return signedIn('/api/folders/:uid', () => this.dashboardApi.folder(a!));
    }
    if (resource === 'library-elements') {
      if (method === 'GET' && n === 2) return signedIn('/api/library-elements/:uid', () => this.dashboardApi.libraryElement(a!));
      if (method === 'POST' && n === 1) {
        return signedIn('/api/library-elements/', (id) => (id.role === 'Viewer' ? accessDenied('library.panels:create') : this.dashboardApi.createLibraryElement(body)));
      }
    }
    if (method === 'GET' && n === 2 && resource === 'frontend' && a === 'settings') {
      return { handler: '/api/frontend/settings/', anonymous: true, run: () => this.frontendSettings() };
    }
    return undefined;
  }

  /**
   * POST /api/admin/provisioning/{datasources,dashboards,plugins}/reload (pkg/api/admin_provisioning.go):
   * only a Grafana server admin holds `provisioning:reload`; a failed datasource provisioning
   * answers `response.Error(500, "", err)`, i.e. `{"message":"Internal Server Error"}`.
   */
  private reloadRoute(identity: Identity, what: 'datasources' | 'dashboards' | 'plugins'): Reply {
    if (!identity.grafanaAdmin) return accessDenied('provisioning:reload');
    if (what === 'dashboards') {
      this.reloadDashboards();
      return json(200, { message: 'Dashboards config reloaded' });
    }
    if (what === 'plugins') return json(200, { message: 'Plugins config reloaded' });
    const { error } = this.reloadDatasources();
    if (error) return { ...json(500, { message: 'Internal Server Error' }), logError: error };
    return json(200, { message: 'Datasources config reloaded' });
  }

  /** GET /metrics: the exposition text, no credentials needed. */
  private metricsPage(): Reply {
    return { status: 200, text: this.metrics.render(this.table.all()), headers: { 'content-type': EXPOSITION_CONTENT_TYPE } };
  }

  /** GET /api/login/ping (LoginAPIPing): `{"message":"Logged in"}` for a signed-in caller. */
  private loginPing(req: IncomingMessage): Reply {
    const outcome = this.auth.authenticate(req.headers);
    if (!outcome) return json(401, noCredentials(this.release).body);
    if ('failure' in outcome) return json(outcome.failure.status, outcome.failure.body);
    return json(200, { message: 'Logged in' });
  }

  /** GET /api/frontend/settings: the build info clients read the version from (a subset of the real answer). */
  private frontendSettings(): Reply {
    const defaultDatasource = this.table.all().find((ds) => ds.orgId === 1 && ds.isDefault)?.name ?? '';
    return json(200, {
      appSubUrl: '',
      appUrl: 'http://localhost:3000/',
      buildInfo: {
        buildstamp: Math.floor(Date.parse(this.release.buildDate) / 1000),
        commit: this.release.commit,
        edition: 'Open Source',
        env: 'production',
        hasUpdate: false,
        hideVersion: false,
        latestVersion: '',
        version: this.version,
        versionString: `Grafana v${this.version} (${this.release.commit})`,
      },
      defaultDatasource,
    });
  }

  /**
   * The request logger's line for a failed request (pkg/middleware/loggermw): level error,
   * `Request Completed`, with the caller in the context fields.
   */
  private logFailedRequest(req: IncomingMessage, url: URL, route: Routed, reply: Reply, seconds: number): void {
    const { view, namespace, pod, container } = this.options;
    const context: LogFields = route.identity?.grafanaAdmin ? { userId: 1, orgId: 1, uname: this.options.adminUser } : {};
    const logError = reply.logError;
    const payload = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
    const fields: LogFields = {
      method: req.method ?? 'GET',
      path: url.pathname,
      status: reply.status,
      remote_addr: req.socket.remoteAddress ?? '',
      time_ms: Math.round(seconds * 1000),
      duration: goDuration(seconds),
      size: Buffer.byteLength(payload),
      referer: '',
      handler: route.handler,
      status_source: 'server',
      ...(logError ? { error: logError } : {}),
    };
    view.appendLog(namespace, pod, container, formatLogLine('context', 'error', 'Request Completed', fields, new Date(), context));
  }

  /**
   * GET|HEAD /api/health (pkg/api/http_server.go apiHealthHandler): pretty-printed with two
   * spaces, keys sorted (9.5, 10.x: a simplejson map) or in the healthResponse struct's order
   * (11.x and later).
   */
  private health(): Reply {
    const failing = this.faults.databaseFailing === true;
    const database = failing ? 'failing' : 'ok';
    const { commit } = this.release;
    const body =
      this.release.healthKeys === 'sorted' ? { commit, database, version: this.version } : { database, version: this.version, commit };
    return {
      status: failing ? 503 : 200,
      text: JSON.stringify(body, null, 2),
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    };
  }

  /**
   * POST /login (pkg/api/login.go LoginPost): the session cookies and `{"message":"Logged in"}`
   * (with `"redirectUrl":"/"` from the authn broker on), or the release's wrong-password refusal.
   * An unreadable body is `bad login data` (the form client's `form-auth.invalid` under authn).
   */
  private login(body: string): Reply {
    let credentials: { user?: unknown; password?: unknown };
    try {
      credentials = JSON.parse(body) as typeof credentials;
    } catch {
      const message = 'bad login data';
      return json(400, this.release.authnBroker ? errutilBody(400, 'form-auth.invalid', message) : { message, traceID: '' });
    }
    const cookies = this.auth.login(String(credentials?.user ?? ''), String(credentials?.password ?? ''));
    if (!cookies) {
      const refusal = badPassword(this.release);
      return json(refusal.status, refusal.body);
    }
    const answer = this.release.authnBroker ? { message: 'Logged in', redirectUrl: '/' } : { message: 'Logged in' };
    return { status: 200, json: answer, headers: { 'set-cookie': cookies } };
  }

  /**
   * GET /logout (pkg/api/login.go Logout, no authentication needed): revokes the session of the
   * cookie, deletes the cookies and redirects to the login page — Go's http.Redirect, 302 with a
   * small HTML body.
   */
  private logout(req: IncomingMessage): Reply {
    const deletions = this.auth.logout(req.headers);
    return {
      status: 302,
      text: '<a href="/login">Found</a>.\n\n',
      headers: { 'content-type': 'text/html; charset=utf-8', location: '/login', 'set-cookie': deletions },
    };
  }

  /** The single-page app: served to signed-in browsers, others are sent to /login. */
  private frontend(req: IncomingMessage, method: string): Reply {
    if (method !== 'GET') return NOT_FOUND;
    const outcome = this.auth.authenticate(req.headers);
    if (outcome && 'identity' in outcome) return APP_PAGE;
    return { status: 302, text: '<a href="/login">Found</a>.\n\n', headers: { ...APP_PAGE.headers, location: '/login' } };
  }
}

/** What dispatching a request found out: its route pattern (the metrics' `handler`) and caller. */
interface Routed {
  handler: string;
  identity?: Identity;
}

interface ApiRoute {
  readonly handler: string;
  /** Served without authentication. */
  readonly anonymous?: boolean;
  run(identity: Identity | undefined): Reply | Promise<Reply>;
}

/** Go's time.Duration.String of a number of seconds: `939.12µs`, `1.234567ms`, `2.5s`. */
function goDuration(seconds: number): string {
  const ns = Math.round(seconds * 1e9);
  const trim = (value: number) => value.toFixed(9).replace(/\.?0+$/, '');
  if (ns < 1000) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  return `${trim(ns / 1e9)}s`;
}
