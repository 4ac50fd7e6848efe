/**
 * Grafana's HTTP API: health, datasources, datasource health and queries through `/api/ds/query`.
 * Authentication is basic auth, a service-account token, or — through the API server's service
 * proxy, which strips `Authorization` — a session cookie obtained by `POST /login`.
 */
import { MfcError } from './errors.js';
import { expectOk, HttpStatusError, type Endpoint, type EndpointRequest } from './endpoint.js';
import { parseJson, type HttpResponse } from './http.js';

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
}

export interface DatasourceHealth {
  readonly ok: boolean;
  readonly status: string;
  readonly message: string;
  readonly httpStatus: number;
}

export interface QueryResult {
  /** Frames (series) with at least one value. */
  readonly series: number;
  readonly error?: string;
  readonly httpStatus: number;
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
  ) {
    super(message, hint);
  }
}

export class GrafanaClient {
  private session: Promise<string> | undefined;

  constructor(
    readonly endpoint: Endpoint,
    readonly auth: GrafanaAuth,
  ) {}

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
      if (typeof body.database === 'string') return { database: body.database, version: text(body.version) };
    }
    const body = objectOf(parseJson<unknown>(expectOk(res, what), what));
    return { database: text(body.database), version: text(body.version) };
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
    }));
  }

  /** Grafana's own health check of a datasource (the UI's "Save & Test"). */
  async datasourceHealth(uid: string, signal?: AbortSignal): Promise<DatasourceHealth> {
    const what = `Grafana GET /api/datasources/uid/${uid}/health`;
    const res = await this.authed({ method: 'GET', path: `/api/datasources/uid/${encodeURIComponent(uid)}/health`, what, signal }, [400]);
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
    const res = await this.authed(
      { method: 'POST', path: '/api/ds/query', what, signal, body, headers: { 'content-type': 'application/json' } },
      [400, 207, 502],
    );
    const parsed = objectOf(parseJson<unknown>(res, what));
    const results = isRecord(parsed.results) ? parsed.results : undefined;
    const a = results && isRecord(results.A) ? results.A : undefined;
    if (!a) return { series: 0, httpStatus: res.status, error: str(parsed.message) || `no result for the query (HTTP ${res.status})` };
    const frames = Array.isArray(a.frames) ? a.frames.filter(isRecord) : [];
    const series = frames.filter(hasValues).length;
    return { series, httpStatus: res.status, error: str(a.error) || undefined };
  }

  /** A request with the credentials; 401/403 become GrafanaAuthError, other errors HttpStatusError. */
  private async authed(req: EndpointRequest, acceptedStatuses: number[] = []): Promise<HttpResponse> {
    const headers = { accept: 'application/json', ...req.headers, ...(await this.authHeaders(req.signal)) };
    const res = await this.endpoint.request({ ...req, headers });
    if (res.status === 401 || res.status === 403) throw this.authError(res, req.what);
    if (acceptedStatuses.includes(res.status)) return res;
    return expectOk(res, req.what);
  }

  private async authHeaders(signal?: AbortSignal): Promise<Record<string, string>> {
    switch (this.auth.kind) {
      case 'none':
        return {};
      case 'token':
        return { authorization: `Bearer ${this.auth.token}` };
      case 'basic':
        return { authorization: `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64')}` };
      case 'session':
        this.session ??= this.login(this.auth, signal).catch((err: unknown) => {
          this.session = undefined;
          throw err;
        });
        return { cookie: await this.session };
    }
  }

  /** `POST /login` through the endpoint; returns the `grafana_session` cookie pair. */
  private async login(auth: { user: string; password: string }, signal?: AbortSignal): Promise<string> {
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
    const cookies = (res.headers['set-cookie'] ?? '').split(/,(?=\s*[\w-]+=)/);
    const session = cookies.map((c) => c.trim().split(';')[0] ?? '').find((c) => c.startsWith('grafana_session='));
    if (!session) throw new MfcError(`${what}: Grafana accepted the login but set no grafana_session cookie`);
    return session;
  }

  private authError(res: HttpResponse, what: string): MfcError {
    let message = '';
    try {
      const body = JSON.parse(res.text) as { message?: unknown };
      message = typeof body.message === 'string' ? body.message : '';
    } catch {
      return new HttpStatusError(`${what}: HTTP ${res.status}`, res.status, false, res.text);
    }
    if (res.status === 403) {
      return new GrafanaAuthError(
        `${what}: HTTP 403 — Grafana accepted ${this.credential} but refused the request${message ? ` (${message})` : ''}`,
        'Give that user or service account the Admin role, or at least datasources:read and datasources:query on this datasource.',
        403,
        message,
      );
    }
    const fix =
      this.auth.kind === 'none'
        ? 'Set the grafana-password (or grafana-token) input: this Grafana does not allow anonymous access to its API.'
        : this.auth.kind === 'token'
          ? 'The grafana-token is invalid, expired or revoked: create a new service-account token in Grafana and update the secret.'
          : `Check grafana-username and the grafana-password secret; they must match GF_SECURITY_ADMIN_USER/GF_SECURITY_ADMIN_PASSWORD (or that user's password in Grafana).`;
    return new GrafanaAuthError(`${what}: HTTP 401 — Grafana rejected ${this.credential}${message ? ` (${message})` : ''}`, fix, 401, message);
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
