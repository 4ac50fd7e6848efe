/**
 * Prometheus's HTTP API (v1), read leniently: labels are read as maps, absent fields are tolerated,
 * and an error envelope becomes a message quoting Prometheus's `errorType` and `error`.
 */
import { MfcError } from './errors.js';
import { expectOk, type Endpoint } from './endpoint.js';
import { clip, parseJson } from './http.js';

export interface Target {
  readonly scrapePool: string;
  readonly job: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly discoveredLabels: Readonly<Record<string, string>>;
  readonly health: string;
  readonly lastError: string;
  readonly lastScrape: string;
  readonly scrapeUrl: string;
  readonly scrapeInterval: string;
}

export interface Series {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: string;
}

export class PrometheusClient {
  constructor(readonly endpoint: Endpoint) {}

  async activeTargets(signal?: AbortSignal): Promise<Target[]> {
    const data = await this.get('/api/v1/targets?state=active', 'Prometheus GET /api/v1/targets', signal);
    const active = isRecord(data) && Array.isArray(data.activeTargets) ? data.activeTargets : undefined;
    if (!active) throw new MfcError('Prometheus GET /api/v1/targets: the answer has no activeTargets list');
    return active.filter(isRecord).map(toTarget);
  }

  /** An instant query; returns the series of a vector (or the single value of a scalar). */
  async query(expr: string, signal?: AbortSignal): Promise<Series[]> {
    const data = await this.get(`/api/v1/query?query=${encodeURIComponent(expr)}`, 'Prometheus GET /api/v1/query', signal);
    if (!isRecord(data) || !Array.isArray(data.result)) return [];
    if (data.resultType === 'scalar' || data.resultType === 'string') return [{ metric: {}, value: text(data.result[1] ?? '') }];
    return data.result.filter(isRecord).map((r) => ({
      metric: labelsOf(r.metric),
      value: Array.isArray(r.value) ? text(r.value[1]) : Array.isArray(r.values) ? text(lastSample(r.values)?.[1] ?? '') : '',
    }));
  }

  /** The running configuration's YAML text. */
  async configYaml(signal?: AbortSignal): Promise<string> {
    const data = await this.get('/api/v1/status/config', 'Prometheus GET /api/v1/status/config', signal);
    return isRecord(data) && typeof data.yaml === 'string' ? data.yaml : '';
  }

  private async get(path: string, what: string, signal?: AbortSignal): Promise<unknown> {
    const res = await this.endpoint.request({ method: 'GET', path, what, signal, headers: { accept: 'application/json' } });
    if (res.status >= 400 && res.text.includes('"errorType"')) {
      const body = envelope(parseJson<unknown>(res, what));
      throw new MfcError(`${what}: HTTP ${res.status} ${text(body.errorType)}: ${text(body.error)}`);
    }
    expectOk(res, what);
    const body = envelope(parseJson<unknown>(res, what));
    if (body.status !== 'success') {
      throw new MfcError(`${what}: status "${text(body.status)}"${body.error ? `: ${text(body.error)}` : ''}`);
    }
    return body.data;
  }
}

function toTarget(t: Record<string, unknown>): Target {
  const labels = labelsOf(t.labels);
  return {
    scrapePool: str(t.scrapePool) || labels.job || '',
    job: labels.job ?? str(t.scrapePool),
    labels,
    discoveredLabels: labelsOf(t.discoveredLabels),
    health: str(t.health) || 'unknown',
    lastError: str(t.lastError),
    lastScrape: str(t.lastScrape),
    scrapeUrl: str(t.scrapeUrl),
    scrapeInterval: str(t.scrapeInterval),
  };
}

/** The answer's envelope; an answer that is not a JSON object has none of its fields. */
function envelope(body: unknown): Record<string, unknown> {
  return isRecord(body) ? body : {};
}

/** The last `[time, value]` pair of a range result, if it is one. */
function lastSample(values: unknown[]): unknown[] | undefined {
  const last = values.at(-1);
  return Array.isArray(last) ? last : undefined;
}

/**
 * Any JSON value as text, for messages and sample values. `String(value)` is not safe on parsed
 * JSON: `{"toString": 1}` has no usable conversion and makes it throw.
 */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || typeof v !== 'object') return String(v);
  return clip(JSON.stringify(v), 200);
}

function labelsOf(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
