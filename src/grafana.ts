/**
 * Grafana's HTTP API: health, datasources, datasource health and queries through `/api/ds/query`,
 * as Grafana 9.5, 10.x, 11.x and 12.x answer them. Authentication is basic auth, a
 * service-account token, or — through the API server's service proxy, which strips
 * `Authorization` — a login session: `POST /login` once, its cookies sent back with every request,
 * logged in again once when Grafana stops accepting them, and `GET /logout` at `close()`.
 */
import { MfcError } from './errors.js';
import { expectOk, HttpStatusError, type Endpoint, type EndpointRequest } from './endpoint.js';
import { consumingBody, DEFAULT_MAX_BYTES, parseJson, type HttpResponse } from './http.js';
import { JsonAnswerReader } from './json-answer.js';
import { JsonStream } from './json-stream.js';

export type GrafanaAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'session'; readonly user: string; readonly password: string };

export interface GrafanaDatasource {
  readonly uid: string;
  readonly name: string;
  readonly type: string;
  readonly url: string;
  readonly access: string;
  readonly isDefault: boolean;
  /** Provisioned from a file (Grafana's DataSourceListItemDTO `readOnly`): the API cannot change it. */
  readonly readOnly?: boolean;
  /** `jsonData.timeInterval`, the "Scrape interval" of a Prometheus datasource, when set. */
  readonly timeInterval?: string;
}

export interface DatasourceHealth {
  readonly ok: boolean;
  readonly status: string;
  readonly message: string;
  readonly httpStatus: number;
  /**
   * Grafana has no health check for this datasource's plugin: HTTP 404 with Grafana's own body,
   * `{"message":"Not found"}` (Grafana 9.x, whose Prometheus backend has no CheckHealth) or
   * `{"messageId":"plugin.notImplemented"}` (later releases, plugins without one).
   */
  readonly unsupported?: boolean;
}

export interface QueryResult {
  /** Frames (series) with at least one value. */
  readonly series: number;
  readonly error?: string;
  readonly httpStatus: number;
}

/** One dashboard of `/api/search`. */
export interface DashboardHit {
  readonly uid: string;
  readonly title: string;
  readonly url: string;
  readonly tags: readonly string[];
  /** Absent for the General folder (the root). */
  readonly folderTitle?: string;
  readonly folderUid?: string;
}

/**
 * A dashboard `GET /api/dashboards/uid/:uid` does not serve: Grafana 12 answers 406 for one it
 * stores in its schema v2 (saved by the new editor, feature toggle dashboardNewLayouts), naming
 * the dashboard.grafana.app path that does; its message as it is.
 */
export interface DashboardNotServed {
  readonly notServed: string;
}

export interface DashboardRead {
  readonly dashboard: Record<string, unknown>;
  readonly provisioned: boolean;
  /** The provisioning file it came from (meta.provisionedExternalId), '' when not provisioned. */
  readonly provisionedExternalId: string;
  readonly folderTitle: string;
}

/** The body of a panel's `/api/ds/query` request. */
export interface PanelQueryRequest {
  readonly from: string;
  readonly to: string;
  readonly queries: readonly Record<string, unknown>[];
}

export interface PanelQueryAnswer {
  readonly httpStatus: number;
  /** By refId: frames with values, or the query's error. */
  readonly results: Readonly<Record<string, { readonly series: number; readonly error?: string }>>;
  /** The request as a whole was refused ("Data source not found"). */
  readonly error?: string;
}

/** Grafana refused the credentials (401) or the permission (403). */
export class GrafanaAuthError extends MfcError {
  override name = 'GrafanaAuthError';
  constructor(
    message: string,
    hint: string,
    readonly status: number,
    /** Grafana's own `message` ("Invalid username or password"). */
    readonly grafanaMessage = '',
    /** Grafana's `messageId` (10.1+: `password-auth.failed`, `auth.unauthorized`, …), '' when absent. */
    readonly messageId = '',
    /** Basic-auth credentials were sent and Grafana answered as if there were none: see basicAuthIgnored. */
    readonly basicAuthIgnored = false,
  ) {
    super(message, hint);
  }
}

export interface GrafanaClientOptions {
  /**
   * Grafana's `[auth] login_cookie_name` (`GF_AUTH_LOGIN_COOKIE_NAME`) when known; without it
   * the session cookie is found by the rule of sessionFromSetCookie.
   */
  readonly loginCookieName?: string;
}

/** A login session: the Cookie header to send back, and the name of the session cookie in it. */
export interface LoginSession {
  readonly cookie: string;
  readonly name: string;
}

interface OpenSession extends LoginSession {
  /** Which login of this client made it (1, 2, …). */
  readonly serial: number;
}

/** The name Grafana gives its session cookie by default; its companion `grafana_session_expiry` keeps that name whatever `login_cookie_name` is. */
export const DEFAULT_SESSION_COOKIE = 'grafana_session';

/**
 * Grafana answered a request that carried `Authorization: Basic` as if it carried nothing: 401
 * "Unauthorized" (`auth.unauthorized` from 10.1), not "Invalid username or password"
 * (`password-auth.failed`). Grafana only reads the Basic header when `[auth.basic] enabled` is
 * true — with basic auth disabled no authentication client takes the request — so the password
 * was never checked (or a proxy in front of Grafana removed the header).
 */
export function basicAuthIgnored(auth: GrafanaAuth, status: number, message: string, messageId = ''): boolean {
  if (auth.kind !== 'basic' || status !== 401) return false;
  return messageId ? messageId === 'auth.unauthorized' : message === 'Unauthorized';
}

interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly httpOnly: boolean;
  /** A deletion: empty value, `Max-Age` ≤ 0, or an `Expires` in the past. */
  readonly deleted: boolean;
}

/** One `Set-Cookie` value: `name=value; Attr; Attr=v`. */
function parseSetCookie(text: string): SetCookie | undefined {
  const [pair = '', ...attributes] = text.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  let httpOnly = false;
  let deleted = value === '';
  for (const attribute of attributes) {
    const [key = '', arg = ''] = attribute.split(/=(.*)/s, 2).map((x) => x.trim());
    const lower = key.toLowerCase();
    if (lower === 'httponly') httpOnly = true;
    if (lower === 'max-age' && /^-?\d+$/.test(arg) && Number(arg) <= 0) deleted = true;
    if (lower === 'expires' && Date.parse(arg) <= Date.now()) deleted = true;
  }
  return { name, value, httpOnly, deleted };
}

/**
 * The login session in a login answer's `Set-Cookie` header (several cookies joined by `, `, as
 * the HTTP layer flattens them). Every cookie the answer sets, except deletions, is sent back —
 * what a browser does, so whatever Grafana named its session cookie it gets it back (and so does
 * a load balancer's affinity cookie). The session cookie among them — it must be there — is the
 * one named `loginCookieName` when known, else `grafana_session`, else the one HttpOnly cookie
 * that is not `*_expiry` (Grafana writes the session cookie HttpOnly, `grafana_session_expiry`
 * readable by scripts). Undefined when there is none.
 */
export function sessionFromSetCookie(header: string, loginCookieName?: string): LoginSession | undefined {
  const jar = new Map<string, SetCookie>();
  for (const text of header.split(/,(?=\s*[^;,=\s]+=)/)) {
    const cookie = parseSetCookie(text);
    if (!cookie) continue;
    if (cookie.deleted) jar.delete(cookie.name);
    else jar.set(cookie.name, cookie);
  }
  const cookies = [...jar.values()];
  const candidates = cookies.filter((c) => c.httpOnly && !c.name.endsWith('_expiry'));
  const session =
    (loginCookieName ? jar.get(loginCookieName) : undefined) ??
    jar.get(DEFAULT_SESSION_COOKIE) ??
    (candidates.length === 1 ? candidates[0] : undefined);
  if (!session) return undefined;
  return { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '), name: session.name };
}

/**
 * A health answer saying Grafana has no health check for the datasource's plugin: 404 with
 * Grafana's JSON (`response.Error(404, "Not found", …)` for ErrMethodNotImplemented up to 10.x,
 * `plugin.notImplemented` / "Method not implemented" later). Any other 404 — a Kubernetes
 * Status from the service proxy, an ingress's page, an unknown path — is not this.
 */
function healthNotImplemented(res: HttpResponse): string | undefined {
  if (res.status !== 404) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return undefined;
  }
  if (!isRecord(body) || body.kind === 'Status') return undefined;
  const message = str(body.message);
  if (body.messageId === 'plugin.notImplemented' || message === 'Not found' || message === 'Method not implemented') return message || 'Not found';
  return undefined;
}

export class GrafanaClient {
  private session: Promise<OpenSession> | undefined;
  /** Datasources whose plugin has no health check in this Grafana (asked once per run). */
  private readonly noHealthCheck = new Map<string, DatasourceHealth>();
  private lastVersion: string | undefined;
  /** Logins completed so far. */
  private logins = 0;

  constructor(
    readonly endpoint: Endpoint,
    readonly auth: GrafanaAuth,
    readonly options: GrafanaClientOptions = {},
  ) {}

  /** The version Grafana's last `/api/health` answer gave ('' when it hides it; undefined before one). */
  get version(): string | undefined {
    return this.lastVersion;
  }

  /** Which credential is used, never the secret itself. */
  get credential(): string {
    switch (this.auth.kind) {
      case 'none':
        return 'no credentials';
      case 'token':
        return 'the grafana-token';
      default:
        return `user "${this.auth.user}" with the grafana-password${this.auth.kind === 'session' ? ' (login session)' : ''}`;
    }
  }

  async health(signal?: AbortSignal): Promise<{ database: string; version: string }> {
    const what = 'Grafana GET /api/health';
    const res = await this.endpoint.request({ method: 'GET', path: '/api/health', what, signal });
    if (res.status === 503) {
      const body = objectOf(parseJson<unknown>(res, what));
      if (typeof body.database === 'string') return this.remember({ database: body.database, version: text(body.version) });
    }
    const body = objectOf(parseJson<unknown>(expectOk(res, what), what));
    return this.remember({ database: text(body.database), version: text(body.version) });
  }

  private remember(health: { database: string; version: string }): { database: string; version: string } {
    this.lastVersion = health.version;
    return health;
  }

  async datasources(signal?: AbortSignal): Promise<GrafanaDatasource[]> {
    const what = 'Grafana GET /api/datasources';
    const body = parseJson<unknown>(await this.authed({ method: 'GET', path: '/api/datasources', what, signal }), what);
    if (!Array.isArray(body)) throw new MfcError(`${what}: expected a list of datasources`);
    return body.filter(isRecord).map((d) => ({
      uid: str(d.uid),
      name: str(d.name),
      type: str(d.type),
      url: str(d.url),
      access: str(d.access),
      isDefault: d.isDefault === true,
      readOnly: d.readOnly === true,
      ...(isRecord(d.jsonData) && typeof d.jsonData.timeInterval === 'string' && d.jsonData.timeInterval ? { timeInterval: d.jsonData.timeInterval } : {}),
    }));
  }

  /**
   * Grafana's own health check of a datasource (the UI's "Save & Test"): OK only for HTTP 200
   * with status OK. A plugin without a health check answers `unsupported` (asked once: later calls
   * for that datasource answer the same without asking again).
   */
  async datasourceHealth(uid: string, signal?: AbortSignal): Promise<DatasourceHealth> {
    const known = this.noHealthCheck.get(uid);
    if (known) return known;
    const what = `Grafana GET /api/datasources/uid/${uid}/health`;
    const res = await this.authed({ method: 'GET', path: `/api/datasources/uid/${encodeURIComponent(uid)}/health`, what, signal }, [400, 404]);
    const unsupported = healthNotImplemented(res);
    if (unsupported !== undefined) {
      const answer: DatasourceHealth = { ok: false, status: 'UNSUPPORTED', message: unsupported, httpStatus: 404, unsupported: true };
      this.noHealthCheck.set(uid, answer);
      return answer;
    }
    if (res.status === 404) expectOk(res, what);
    const body = objectOf(parseJson<unknown>(res, what));
    const status = str(body.status) || (res.status === 200 ? 'OK' : 'ERROR');
    return { ok: res.status === 200 && status === 'OK', status, message: str(body.message), httpStatus: res.status };
  }

  /** An instant query through Grafana to the datasource, as a dashboard panel runs it. */
  async query(ds: GrafanaDatasource, expr: string, signal?: AbortSignal): Promise<QueryResult> {
    const what = 'Grafana POST /api/ds/query';
    const body = JSON.stringify({
      from: 'now-5m',
      to: 'now',
      queries: [
        { refId: 'A', datasource: { type: ds.type, uid: ds.uid }, expr, instant: true, range: false, intervalMs: 15000, maxDataPoints: 100, format: 'time_series' },
      ],
    });
    // A success answer is read as it arrives, its frames counted one at a time, not kept: a query
    // of 10,000 series answers 10 MB of frames.
    let streamed = 0;
    const stream = new JsonStream({
      arrays: { 'results.A.frames': { start: () => (streamed = 0), element: (f) => void (isRecord(f) && hasValues(f) && streamed++) } },
      maxValueBytes: DEFAULT_MAX_BYTES,
    });
    const reader = new JsonAnswerReader(what, stream);
    const res = await consumingBody(reader, () =>
      this.authed({ method: 'POST', path: '/api/ds/query', what, signal, body, headers: { 'content-type': 'application/json' } }, [400, 207, 502]),
    );
    const parsed = objectOf(reader.taken ? reader.document : parseJson<unknown>(res, what));
    const results = isRecord(parsed.results) ? parsed.results : undefined;
    const a = results && isRecord(results.A) ? results.A : undefined;
    if (!a) return { series: 0, httpStatus: res.status, error: str(parsed.message) || `no result for the query (HTTP ${res.status})` };
    const frames = Array.isArray(a.frames) ? a.frames.filter(isRecord) : [];
    const series = reader.taken ? streamed : frames.filter(hasValues).length;
    return { series, httpStatus: res.status, error: str(a.error) || undefined };
  }

  /**
   * Every dashboard Grafana's search finds (`GET /api/search?type=dash-db`, every folder),
   * page after page (`limit`/`page`; Grafana caps a page at 5000 hits), at most `maxPages`.
   */
  async searchDashboards(signal?: AbortSignal, pageSize = 1000, maxPages = 20): Promise<DashboardHit[]> {
    const hits: DashboardHit[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const path = `/api/search?type=dash-db&limit=${pageSize}&page=${page}`;
      const what = 'Grafana GET /api/search';
      const body = parseJson<unknown>(await this.authed({ method: 'GET', path, what, signal }), what);
      if (!Array.isArray(body)) throw new MfcError(`${what}: expected a list of dashboards`);
      for (const h of body.filter(isRecord)) {
        if (h.type !== undefined && h.type !== 'dash-db') continue;
        const folderTitle = str(h.folderTitle);
        const folderUid = str(h.folderUid);
        hits.push({
          uid: str(h.uid),
          title: str(h.title),
          url: str(h.url),
          tags: Array.isArray(h.tags) ? h.tags.filter((t): t is string => typeof t === 'string') : [],
          ...(folderTitle ? { folderTitle } : {}),
          ...(folderUid ? { folderUid } : {}),
        });
      }
      if (body.length < pageSize) break;
    }
    return hits;
  }

  /** A dashboard's JSON model and meta (`GET /api/dashboards/uid/:uid`); undefined when Grafana has none with that uid. */
  async dashboard(uid: string, signal?: AbortSignal): Promise<DashboardRead | DashboardNotServed | undefined> {
    const what = `Grafana GET /api/dashboards/uid/${uid}`;
    const res = await this.authed({ method: 'GET', path: `/api/dashboards/uid/${encodeURIComponent(uid)}`, what, signal }, [404, 406]);
    if (res.status === 404) return undefined;
    if (res.status === 406) {
      let said = '';
      try {
        said = str(objectOf(parseJson<unknown>(res, what)).message);
      } catch {
        said = '';
      }
      return { notServed: said || 'HTTP 406 Not Acceptable' };
    }
    const body = objectOf(parseJson<unknown>(res, what));
    const meta = objectOf(body.meta);
    if (!isRecord(body.dashboard)) throw new MfcError(`${what}: the answer has no dashboard`);
    return {
      dashboard: body.dashboard,
      provisioned: meta.provisioned === true,
      provisionedExternalId: str(meta.provisionedExternalId),
      folderTitle: str(meta.folderTitle),
    };
  }

  /** A library panel's model (`GET /api/library-elements/:uid` → `result.model`); undefined when Grafana has none. */
  async libraryElement(uid: string, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const what = `Grafana GET /api/library-elements/${uid}`;
    const res = await this.authed({ method: 'GET', path: `/api/library-elements/${encodeURIComponent(uid)}`, what, signal }, [404]);
    if (res.status === 404) return undefined;
    const result = objectOf(objectOf(parseJson<unknown>(res, what)).result);
    return isRecord(result.model) ? result.model : undefined;
  }

  /**
   * A panel's queries through `/api/ds/query`, as the dashboard sends them (its time range, the
   * queries' refIds, datasources, intervalMs and maxDataPoints): per refId the series with data
   * or the query's error; `error` when Grafana refused the request as a whole.
   */
  async panelQuery(request: PanelQueryRequest, signal?: AbortSignal): Promise<PanelQueryAnswer> {
    const what = 'Grafana POST /api/ds/query';
    const res = await this.authed(
      { method: 'POST', path: '/api/ds/query', what, signal, body: JSON.stringify(request), headers: { 'content-type': 'application/json' } },
      [400, 404, 207, 500, 502, 503],
    );
    const parsed = objectOf(parseJson<unknown>(res, what));
    const results = isRecord(parsed.results) ? parsed.results : undefined;
    if (!results) return { httpStatus: res.status, results: {}, error: str(parsed.message) || `HTTP ${res.status}` };
    const out: Record<string, { series: number; error?: string }> = {};
    for (const [refId, r] of Object.entries(results)) {
      if (!isRecord(r)) continue;
      const frames = Array.isArray(r.frames) ? r.frames.filter(isRecord) : [];
      const error = str(r.error);
      out[refId] = { series: frames.filter(hasValues).length, ...(error ? { error } : {}) };
    }
    return { httpStatus: res.status, results: out };
  }

  /**
   * A GET of the datasource's resource API (`/api/datasources/uid/:uid/resources/<path>`, what
   * Grafana's Prometheus frontend asks for label values and series since 10.x): Prometheus's
   * answer's `data`. `served: false` when this Grafana does not serve the route (its own 404
   * "Not found").
   */
  async datasourceResource(uid: string, path: string, signal?: AbortSignal): Promise<{ served: false } | { served: true; data: unknown }> {
    const what = `Grafana GET /api/datasources/uid/${uid}/resources/${path.split('?')[0]}`;
    const res = await this.authed({ method: 'GET', path: `/api/datasources/uid/${encodeURIComponent(uid)}/resources/${path}`, what, signal }, [400, 404, 422, 500, 502, 503]);
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      if (res.status === 404) return { served: false };
      throw new MfcError(`${what}: HTTP ${res.status}, not JSON`);
    }
    const o = objectOf(body);
    if (res.status === 404 && o.status === undefined && (str(o.message) === 'Not found' || o.kind === 'Status')) return { served: false };
    if (o.status !== 'success') throw new MfcError(`${what}: HTTP ${res.status}${o.error || o.message ? `: ${str(o.error) || str(o.message)}` : ''}`);
    return { served: true, data: o.data };
  }

  /**
   * Logs the login session out (`GET /logout` with its cookies: Grafana revokes the session and
   * answers a redirect to /login), once; nothing to do for other credentials. Never throws: the
   * run's verdict does not depend on it.
   */
  async close(signal?: AbortSignal): Promise<void> {
    const pending = this.session;
    this.session = undefined;
    const session = await pending?.catch(() => undefined);
    if (!session) return;
    try {
      await this.endpoint.request({ method: 'GET', path: '/logout', what: 'Grafana GET /logout', signal, headers: { cookie: session.cookie } });
    } catch {
      // Best effort: an unreachable Grafana keeps the session until it expires.
    }
  }

  /**
   * A request with the credentials; 401/403 become GrafanaAuthError, other errors HttpStatusError.
   * A login session Grafana no longer accepts (revoked, rotated, or lost with a restart of a
   * Grafana whose database is not persistent) is replaced by a new login, once per request.
   */
  private async authed(req: EndpointRequest, acceptedStatuses: number[] = []): Promise<HttpResponse> {
    const loginsBefore = this.logins;
    const { headers: credentials, session } = await this.credentials(req.signal);
    let res = await this.endpoint.request({ ...req, headers: { accept: 'application/json', ...req.headers, ...credentials } });
    // Only a session that existed before this request began is replaced: one just made is not retried.
    if (res.status === 401 && session && session.serial <= loginsBefore) {
      const current = this.session;
      if (current && (await current.catch(() => undefined)) === session) this.session = undefined;
      const again = await this.credentials(req.signal);
      res = await this.endpoint.request({ ...req, headers: { accept: 'application/json', ...req.headers, ...again.headers } });
    }
    if (res.status === 401 || res.status === 403) throw this.authError(res, req.what);
    if (acceptedStatuses.includes(res.status)) return res;
    return expectOk(res, req.what);
  }

  private async credentials(signal?: AbortSignal): Promise<{ headers: Record<string, string>; session?: OpenSession }> {
    switch (this.auth.kind) {
      case 'none':
        return { headers: {} };
      case 'token':
        return { headers: { authorization: `Bearer ${this.auth.token}` } };
      case 'basic':
        return { headers: { authorization: `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64')}` } };
      case 'session': {
        const opening = this.opening(signal);
        try {
          const session = await opening;
          return { headers: { cookie: session.cookie }, session };
        } catch (err) {
          // A failed login is answered once to whoever waited for it; the next request logs in again.
          if (this.session === opening) this.session = undefined;
          throw err;
        }
      }
    }
  }

  /** The login under way or done, else a new one. */
  private opening(signal?: AbortSignal): Promise<OpenSession> {
    if (this.auth.kind !== 'session') throw new MfcError('no session for these credentials');
    if (!this.session) {
      const opening = this.login(this.auth, signal);
      opening.catch(() => undefined);
      this.session = opening;
    }
    return this.session;
  }

  /**
   * Logs in now (when the credentials are a password to log in with), so the first request that
   * needs the session finds it open or opening instead of waiting for a login of its own. A
   * failed login is reported to that request, never retried by this.
   */
  warmUp(signal?: AbortSignal): void {
    if (this.auth.kind === 'session') void this.opening(signal);
  }

  /** `POST /login` through the endpoint; the session its cookies make (see sessionFromSetCookie). */
  private async login(auth: { user: string; password: string }, signal?: AbortSignal): Promise<OpenSession> {
    const what = 'Grafana POST /login';
    const res = await this.endpoint.request({
      method: 'POST',
      path: '/login',
      what,
      signal,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ user: auth.user, password: auth.password }),
    });
    if (res.status === 401 || res.status === 403 || res.status === 400) throw this.authError(res, what);
    expectOk(res, what);
    const session = sessionFromSetCookie(res.headers['set-cookie'] ?? '', this.options.loginCookieName);
    if (!session) {
      throw new MfcError(
        `${what}: Grafana accepted the login but set no session cookie (${this.options.loginCookieName ?? DEFAULT_SESSION_COOKIE}, or one HttpOnly cookie)`,
        'A proxy between the runner and Grafana may drop Set-Cookie headers; or reach Grafana with a service-account token (grafana-token).',
      );
    }
    return { ...session, serial: ++this.logins };
  }

  private authError(res: HttpResponse, what: string): MfcError {
    let message = '';
    let messageId = '';
    try {
      const body = objectOf(JSON.parse(res.text));
      message = str(body.message);
      messageId = str(body.messageId);
    } catch {
      return new HttpStatusError(`${what}: HTTP ${res.status}`, res.status, false, res.text);
    }
    if (res.status === 403) {
      return new GrafanaAuthError(
        `${what}: HTTP 403 — Grafana accepted ${this.credential} but refused the request${message ? ` (${message})` : ''}`,
        'Give that user or service account the Admin role, or at least datasources:read and datasources:query on this datasource.',
        403,
        message,
        messageId,
      );
    }
    if (basicAuthIgnored(this.auth, res.status, message, messageId)) {
      return new GrafanaAuthError(
        `${what}: HTTP 401 — Grafana ignored the basic-auth credentials of ${this.credential} (${message || 'Unauthorized'}): basic auth is disabled in this Grafana, so the password was never checked`,
        'Grafana answers "Unauthorized", not "Invalid username or password", when it does not read the Authorization: Basic header: [auth.basic] enabled = false (GF_AUTH_BASIC_ENABLED=false), or a proxy in front of Grafana removes the header. Use a service-account token (grafana-token input), or access: proxy, where the action logs in with the password (POST /login works with basic auth disabled) and uses the login session.',
        401,
        message,
        messageId,
        true,
      );
    }
    const fix =
      this.auth.kind === 'none'
        ? 'Set the grafana-password (or grafana-token) input: this Grafana does not allow anonymous access to its API.'
        : this.auth.kind === 'token'
          ? 'The grafana-token is invalid, expired or revoked: create a new service-account token in Grafana and update the secret.'
          : `Check grafana-username and the grafana-password secret; they must match GF_SECURITY_ADMIN_USER/GF_SECURITY_ADMIN_PASSWORD (or that user's password in Grafana).`;
    return new GrafanaAuthError(`${what}: HTTP 401 — Grafana rejected ${this.credential}${message ? ` (${message})` : ''}`, fix, 401, message, messageId);
  }
}

function hasValues(frame: Record<string, unknown>): boolean {
  const data = isRecord(frame.data) ? frame.data : undefined;
  const values = data && Array.isArray(data.values) ? data.values : [];
  return values.length > 1 && values.every((col) => Array.isArray(col) && col.length > 0);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A JSON answer's fields; an answer that is not an object has none. */
function objectOf(body: unknown): Record<string, unknown> {
  return isRecord(body) ? body : {};
}

/**
 * A scalar as text ('' when absent). `String(value)` is not safe on parsed JSON: `{"toString": 1}`
 * has no usable conversion and makes it throw.
 */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}
