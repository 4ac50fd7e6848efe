/** What an API handler answers; the server writes it with Grafana's usual headers. */
export interface Reply {
  readonly status: number;
  /** Serialised as JSON (`application/json`) unless `text` is given. */
  readonly json?: unknown;
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

export function json(status: number, body: unknown): Reply {
  return { status, json: body };
}

export const NOT_FOUND: Reply = json(404, { message: 'Not found' });
export const PERMISSION_DENIED: Reply = json(403, { message: 'Permission denied' });
