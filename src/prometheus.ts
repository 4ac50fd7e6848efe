/**
 * Prometheus's HTTP API (v1), read leniently: labels are read as maps, absent fields are tolerated,
 * and an error envelope becomes a message quoting Prometheus's `errorType` and `error`.
 *
 * Targets are read filtered by Prometheus (`state=active`, and `scrapePool=` for one pool), and
 * each answer is parsed once: the targets keep the label maps of the parsed answer.
 */
import { MfcError } from './errors.js';
import { expectOk, HttpStatusError, type Endpoint } from './endpoint.js';
import { clip, parseJson, type HttpResponse } from './http.js';
import { prefixOf } from './paths.js';

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

/** One read of the active targets. */
export interface TargetsRead {
  /** Every active target, or — when `pool` is set — only that scrape pool's. */
  readonly targets: readonly Target[];
  /** The scrape pool Prometheus filtered on: the other pools were not read. */
  readonly pool?: string;
}

/** A 404 from Prometheus's own router (Go's http.NotFound): the path is not one it serves. */
class NotServedError extends HttpStatusError {
  override readonly hint: string;
  constructor(message: string, res: HttpResponse, hint: string) {
    super(message, res.status, false, res.text);
    this.hint = hint;
  }
}

export interface Series {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: string;
}

export class PrometheusClient {
  constructor(readonly endpoint: Endpoint) {}

  /** Every active target (`state=active`: Prometheus leaves the dropped ones out of its answer). */
  async activeTargets(signal?: AbortSignal): Promise<Target[]> {
    return this.readTargets('/api/v1/targets?state=active', signal);
  }

  /**
   * The active targets of `job` when it names a scrape pool, read filtered by Prometheus
   * (`scrapePool=`, Prometheus 2.42 and later); else every active target. Prometheus answers an
   * unknown pool with an empty list (web/api/v1/api.go of v2.42.0, targets), so an empty answer
   * means `job` is a `job` label value (or a pool without targets): every active target is read,
   * which the job-label form and the message naming the pools need. An older Prometheus ignores
   * the parameter and answers every target: that answer is used as it is.
   */
  async targetsOf(job: string, signal?: AbortSignal): Promise<TargetsRead> {
    if (!job) return { targets: await this.activeTargets(signal) };
    const pooled = await this.readTargets(`/api/v1/targets?state=active&scrapePool=${encodeURIComponent(job)}`, signal);
    if (pooled.some((t) => t.scrapePool !== job)) return { targets: pooled };
    if (pooled.length) return { targets: pooled, pool: job };
    return { targets: await this.activeTargets(signal) };
  }

  private async readTargets(path: string, signal?: AbortSignal): Promise<Target[]> {
    const what = 'Prometheus GET /api/v1/targets';
    const data = await this.get(path, what, signal);
    const active = isRecord(data) && Array.isArray(data.activeTargets) ? data.activeTargets : undefined;
    if (!active) throw new MfcError(`${what}: the answer has no activeTargets list`);
    const targets: Target[] = [];
    for (const t of active) if (isRecord(t)) targets.push(toTarget(t));
    return targets;
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
    if (res.status === 404 && res.text.trim() === '404 page not found') throw this.notServed(res, what, path);
    expectOk(res, what);
    const body = envelope(parseJson<unknown>(res, what));
    if (body.status !== 'success') {
      throw new MfcError(`${what}: status "${text(body.status)}"${body.error ? `: ${text(body.error)}` : ''}`);
    }
    return body.data;
  }

  /** Prometheus's router does not serve the path: most often a route prefix the requests lack, or carry wrongly. */
  private notServed(res: HttpResponse, what: string, path: string): NotServedError {
    const prefix = prefixOf(this.endpoint);
    const bare = path.split('?')[0];
    const hint = prefix
      ? `Prometheus serves no ${prefix}${bare}: its route prefix is not ${prefix}. Set the prometheus-path input to what its --web.route-prefix is (or the path of its --web.external-url; / for none).`
      : `Prometheus answered 404 for ${bare}: it serves its API under a path prefix (--web.route-prefix, or the path of --web.external-url; its / redirects there), or the prometheus-service port is not its HTTP API. Set the prometheus-path input to the prefix (e.g. /prometheus).`;
    return new NotServedError(`${what}: HTTP 404${prefix ? ` under ${prefix}` : ''} (404 page not found)`, res, hint);
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

/**
 * A label map: the parsed object itself when every value is text (as Prometheus sends them, so
 * 10,000 targets' labels are held once, not copied), else a copy without the other values.
 */
function labelsOf(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  let clean = true;
  for (const k in v) {
    if (typeof v[k] !== 'string') {
      clean = false;
      break;
    }
  }
  if (clean) return v as Record<string, string>;
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
