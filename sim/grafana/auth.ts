/**
 * Grafana's request authentication: `Authorization: Basic` (the admin account, unless
 * `[auth.basic] enabled = false`), `Authorization: Bearer <service-account token>`, or the
 * session cookie (`[auth] login_cookie_name`, default `grafana_session`) set by `POST /login`
 * and revoked by `GET /logout`. An Authorization header Grafana reads wins over the cookie.
 * Refusal bodies follow the release (see release.ts `authnBroker`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { GrafanaRelease } from './release.js';
import { errutilBody } from './release.js';

export type Role = 'Admin' | 'Viewer';

export interface Identity {
  /** The organisation role. */
  readonly role: Role;
  /** A Grafana server admin (the admin account; never a service account). */
  readonly grafanaAdmin: boolean;
}

const ADMIN_USER: Identity = { role: 'Admin', grafanaAdmin: true };
const ADMIN_SERVICE_ACCOUNT: Identity = { role: 'Admin', grafanaAdmin: false };
const VIEWER_SERVICE_ACCOUNT: Identity = { role: 'Viewer', grafanaAdmin: false };

export interface AuthFailure {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export type AuthOutcome = { identity: Identity } | { failure: AuthFailure };

/** `[auth] login_maximum_lifetime_duration` default, 30 days: the cookies' Max-Age. */
const SESSION_MAX_AGE_SECONDS = 2592000;
/** `[auth] token_rotation_interval_minutes` default: when the session is next rotated. */
const ROTATION_INTERVAL_SECONDS = 600;
/** The expiry cookie's name is a constant of the authn session code, not derived from login_cookie_name. */
export const SESSION_EXPIRY_COOKIE = 'grafana_session_expiry';
export const DEFAULT_LOGIN_COOKIE = 'grafana_session';

/**
 * The refusals, by release. No credentials (or only a Basic header while basic auth is
 * disabled: no authn client takes the request, so errCantAuthenticateReq) → "Unauthorized";
 * a wrong password → "Invalid username or password"; an unknown token → "Invalid API key".
 * Older releases write them with `c.JsonApiErr`, which adds `traceID` only when an error is attached.
 */
export function noCredentials(release: GrafanaRelease): AuthFailure {
  return { status: 401, body: release.authnBroker ? errutilBody(401, 'auth.unauthorized', 'Unauthorized') : { message: 'Unauthorized' } };
}
export function badPassword(release: GrafanaRelease): AuthFailure {
  const message = 'Invalid username or password';
  return { status: 401, body: release.authnBroker ? errutilBody(401, 'password-auth.failed', message) : { message, traceID: '' } };
}
function badToken(release: GrafanaRelease): AuthFailure {
  const message = 'Invalid API key';
  return { status: 401, body: release.authnBroker ? errutilBody(401, 'api-key.invalid', message) : { message, traceID: '' } };
}

export interface AuthOptions {
  readonly release: GrafanaRelease;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly serviceAccountTokens: readonly string[];
  readonly viewerTokens: readonly string[];
  /** `[auth] login_cookie_name`. */
  readonly loginCookieName: string;
  /** `[auth.basic] enabled`: when false the Basic header is not read at all (no basic client is registered). */
  readonly basicAuthEnabled: boolean;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** Go's http.Cookie.String for Grafana's cookie options (Path=/, SameSite=Lax, not Secure). */
function setCookie(name: string, value: string, maxAge: number, httpOnly: boolean): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAge}${httpOnly ? '; HttpOnly' : ''}; SameSite=Lax`;
}

export class Authenticator {
  private readonly sessions = new Map<string, Identity>();

  constructor(private readonly options: AuthOptions) {}

  get loginCookieName(): string {
    return this.options.loginCookieName;
  }

  /**
   * Checks a password login (the form client: it works whatever `[auth.basic]` says); on success
   * the `Set-Cookie` values of the new session (cookies.WriteSessionCookie: the session token,
   * then, where the release has it, the expiry cookie).
   */
  login(user: string, password: string): string[] | undefined {
    if (user !== this.options.adminUser || password !== this.options.adminPassword) return undefined;
    const token = randomBytes(16).toString('hex');
    this.sessions.set(token, ADMIN_USER);
    const cookies = [setCookie(this.options.loginCookieName, token, SESSION_MAX_AGE_SECONDS, true)];
    if (this.options.release.sessionExpiryCookie) {
      const nextRotation = Math.floor(Date.now() / 1000) + ROTATION_INTERVAL_SECONDS;
      cookies.push(setCookie(SESSION_EXPIRY_COOKIE, String(nextRotation), SESSION_MAX_AGE_SECONDS, false));
    }
    return cookies;
  }

  /**
   * `GET /logout` (pkg/api/login.go Logout): revokes the session the cookie names, if any, and
   * answers the cookie deletions (cookies.DeleteCookie: empty value, `Max-Age=0`).
   */
  logout(headers: IncomingHttpHeaders): string[] {
    const token = cookieValue(headers.cookie, this.options.loginCookieName);
    if (token !== undefined) this.sessions.delete(token);
    const deletions = [setCookie(this.options.loginCookieName, '', 0, true)];
    if (this.options.release.sessionExpiryCookie) deletions.push(setCookie(SESSION_EXPIRY_COOKIE, '', 0, true));
    return deletions;
  }

  /** Sessions that are signed in now. */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** `undefined` when the request carries no credentials Grafana reads. */
  authenticate(headers: IncomingHttpHeaders): AuthOutcome | undefined {
    const authorization = headers.authorization;
    if (authorization) {
      const outcome = this.fromAuthorization(authorization);
      if (outcome) return outcome;
    }
    const session = cookieValue(headers.cookie, this.options.loginCookieName);
    if (session === undefined) return undefined;
    const identity = this.sessions.get(session);
    return identity ? { identity } : { failure: noCredentials(this.options.release) };
  }

  /** The outcome of the Authorization header; undefined for a Basic header while basic auth is disabled. */
  private fromAuthorization(header: string): AuthOutcome | undefined {
    const [scheme = '', credentials = ''] = header.trim().split(/\s+/, 2);
    const release = this.options.release;
    if (scheme.toLowerCase() === 'basic') {
      if (!this.options.basicAuthEnabled) return undefined;
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon < 0 ? decoded : decoded.slice(0, colon);
      const password = colon < 0 ? '' : decoded.slice(colon + 1);
      const ok = user === this.options.adminUser && password === this.options.adminPassword;
      return ok ? { identity: ADMIN_USER } : { failure: badPassword(release) };
    }
    if (scheme.toLowerCase() === 'bearer') {
      if (this.options.serviceAccountTokens.includes(credentials)) return { identity: ADMIN_SERVICE_ACCOUNT };
      if (this.options.viewerTokens.includes(credentials)) return { identity: VIEWER_SERVICE_ACCOUNT };
      return { failure: badToken(release) };
    }
    return { failure: noCredentials(release) };
  }
}
