import { randomInt } from 'node:crypto';

/** What an API handler answers; the server writes it with Grafana's usual headers. */
export interface Reply {
  readonly status: number;
  /** Serialised as JSON (`application/json`) unless `text` is given. */
  readonly json?: unknown;
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** For a failed request: the error the request log line names (never sent to the client). */
  readonly logError?: string;
}

export function json(status: number, body: unknown): Reply {
  return { status, json: body };
}

export const NOT_FOUND: Reply = json(404, { message: 'Not found' });
export const PERMISSION_DENIED: Reply = json(403, { message: 'Permission denied' });

/**
 * The RBAC middleware's refusal (pkg/services/accesscontrol/middleware.go deny): 403 with an
 * `ACE…` error id, naming the permission the caller lacks.
 */
export function accessDenied(permission: string): Reply {
  const id = `ACE${String(randomInt(10_000_000_000)).padStart(10, '0')}`;
  return json(403, {
    accessErrorId: id,
    message: `You'll need additional permissions to perform this action. Permissions needed: ${permission}`,
    title: 'Access denied',
  });
}
