/**
 * Grafana's request authentication: `Authorization: Basic` (the admin account),
 * `Authorization: Bearer <service-account token>`, or the `grafana_session` cookie set by
 * `POST /login`. The Authorization header wins over the cookie, as in Grafana.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

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
  readonly status: 401;
  readonly body: Readonly<Record<string, unknown>>;
}

export type AuthOutcome = { identity: Identity } | { failure: AuthFailure };

const SESSION_MAX_AGE_SECONDS = 2592000;

function unauthorized(message: string, messageId: string): AuthFailure {
  return { status: 401, body: { message, messageId, statusCode: 401, traceID: '' } };
}

export const NO_CREDENTIALS = unauthorized('Unauthorized', 'auth.unauthorized');
export const BAD_PASSWORD = unauthorized('Invalid username or password', 'password-auth.failed');
const BAD_TOKEN = unauthorized('Invalid API key', 'api-key.invalid');

export interface AuthOptions {
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly serviceAccountTokens: readonly string[];
  readonly viewerTokens: readonly string[];
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export class Authenticator {
  private readonly sessions = new Map<string, Identity>();

  constructor(private readonly options: AuthOptions) {}

  /** Checks a password login; on success returns the `Set-Cookie` values of the new session. */
  login(user: string, password: string): string[] | undefined {
    if (user !== this.options.adminUser || password !== this.options.adminPassword) return undefined;
    const token = randomBytes(16).toString('hex');
    this.sessions.set(token, ADMIN_USER);
    const expiry = Math.floor(Date.now() / 1000) + SESSION_MAX_AGE_SECONDS;
    return [
      `grafana_session=${token}; Path=/; Max-Age=${SESSION_MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax`,
      `grafana_session_expiry=${expiry}; Path=/; Max-Age=${SESSION_MAX_AGE_SECONDS}; SameSite=Lax`,
    ];
  }

  /** `undefined` when the request carries no credentials at all. */
  authenticate(headers: IncomingHttpHeaders): AuthOutcome | undefined {
    const authorization = headers.authorization;
    if (authorization) return this.fromAuthorization(authorization);
    const session = cookieValue(headers.cookie, 'grafana_session');
    if (session === undefined) return undefined;
    const identity = this.sessions.get(session);
    return identity ? { identity } : { failure: NO_CREDENTIALS };
  }

  private fromAuthorization(header: string): AuthOutcome {
    const [scheme = '', credentials = ''] = header.trim().split(/\s+/, 2);
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon < 0 ? decoded : decoded.slice(0, colon);
      const password = colon < 0 ? '' : decoded.slice(colon + 1);
      const ok = user === this.options.adminUser && password === this.options.adminPassword;
      return ok ? { identity: ADMIN_USER } : { failure: BAD_PASSWORD };
    }
    if (scheme.toLowerCase() === 'bearer') {
      if (this.options.serviceAccountTokens.includes(credentials)) return { identity: ADMIN_SERVICE_ACCOUNT };
      if (this.options.viewerTokens.includes(credentials)) return { identity: VIEWER_SERVICE_ACCOUNT };
      return { failure: BAD_TOKEN };
    }
    return { failure: NO_CREDENTIALS };
  }
}
