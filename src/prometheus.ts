/**
 * Prometheus's HTTP API (v1), read leniently: labels are read as maps, absent fields are tolerated,
 * and an error envelope becomes a message quoting Prometheus's `errorType` and `error`.
 *
 * Targets are read filtered by Prometheus (`state=active`, and `scrapePool=` for one pool). The
 * targets and query answers are parsed once, as they arrive (json-stream.ts), one target or
 * series at a time, keeping of each only what the checks and the diagnosis read: a Prometheus
 * with 10,000 pod targets answers some 35 MiB, mostly the `__meta_kubernetes_*` discovered labels
 * of UP targets, which nothing reads. So those answers have no 20 MiB limit: what bounds memory is
 * what is kept, at most MAX_KEPT_BYTES of labels and fields (about 100,000 targets of real label
 * sets); each target or series, and the rest of the answer, stay within the 20 MiB limit of
 * every answer, and the whole read within request-timeout.
 */
import { MfcError } from './errors.js';
import { expectOk, HttpStatusError, type Endpoint } from './endpoint.js';
import { ACCEPT_COMPRESSED, clip, consumingBody, DEFAULT_MAX_BYTES, parseJson, type HttpResponse } from './http.js';
import { JsonAnswerReader } from './json-answer.js';
import { JsonStream, type ArrayReceiver } from './json-stream.js';
import { prefixOf } from './paths.js';

export interface Target {
  readonly scrapePool: string;
  readonly job: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The labels before relabelling. Every one for a target not UP (what diagnosis explains); for
   * an UP target only those read of it: the pod's and Service's labels (`__meta_kubernetes_pod_label_*`,
   * `__meta_kubernetes_service_label_*`), its namespace, pod name, address, scheme, path,
   * interval, timeout and job.
   */
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
    const targets: Target[] = [];
    let kept = 0;
    const data = await this.get(path, what, signal, {
      activeTargets: {
        start: () => {
          targets.length = 0;
          kept = 0;
        },
        element: (t) => {
          if (!isRecord(t)) return;
          const target = toTarget(t);
          kept += sizeOf(target);
          if (kept > MAX_KEPT_BYTES) throw new MfcError(`${what}: the active targets hold more than ${MAX_KEPT_BYTES / 1048576} MiB of labels; refusing to keep more`, KEPT_HINT);
          targets.push(target);
        },
      },
    });
    if (!isRecord(data) || !Array.isArray(data.activeTargets)) throw new MfcError(`${what}: the answer has no activeTargets list`);
    return targets;
  }

  /** An instant query; returns the series of a vector (or the single value of a scalar). */
  async query(expr: string, signal?: AbortSignal): Promise<Series[]> {
    const what = 'Prometheus GET /api/v1/query';
    const series: Series[] = [];
    /** The first two elements as they are: a scalar's or a string's `[time, value]`. */
    const head: unknown[] = [];
    let kept = 0;
    const data = await this.get(`/api/v1/query?query=${encodeURIComponent(expr)}`, what, signal, {
      result: {
        start: () => {
          series.length = head.length = kept = 0;
        },
        element: (r) => {
          if (head.length < 2) head.push(r);
          if (!isRecord(r)) return;
          const s: Series = {
            metric: labelsOf(r.metric),
            value: Array.isArray(r.value) ? text(r.value[1]) : Array.isArray(r.values) ? text(lastSample(r.values)?.[1] ?? '') : '',
          };
          kept += labelsSize(s.metric) + s.value.length;
          if (kept > MAX_KEPT_BYTES) throw new MfcError(`${what}: the series hold more than ${MAX_KEPT_BYTES / 1048576} MiB of labels; refusing to keep more`, 'Use a query that selects fewer series (the query input).');
          series.push(s);
        },
      },
    });
    if (!isRecord(data) || !Array.isArray(data.result)) return [];
    if (data.resultType === 'scalar' || data.resultType === 'string') return [{ metric: {}, value: text(head[1] ?? '') }];
    return series;
  }

  /**
   * The values of `label` among the series `matches` select (`GET /api/v1/label/<label>/values`,
   * every series Prometheus still holds when no `start`/`end` in seconds is given): which jobs
   * export a metric, which `cluster` values it carries.
   */
  async labelValues(label: string, matches: readonly string[], range?: { startSec: number; endSec: number }, signal?: AbortSignal): Promise<string[]> {
    const params = [...matches.map((m) => `match[]=${encodeURIComponent(m)}`), ...(range ? [`start=${range.startSec}`, `end=${range.endSec}`] : [])];
    const data = await this.get(`/api/v1/label/${encodeURIComponent(label)}/values${params.length ? `?${params.join('&')}` : ''}`, 'Prometheus GET /api/v1/label/…/values', signal);
    return Array.isArray(data) ? data.filter((v): v is string => typeof v === 'string') : [];
  }

  /** The label sets of the series `match` selects over the range (`GET /api/v1/series`), at most `limit`. */
  async series(match: string, range: { startSec: number; endSec: number }, signal?: AbortSignal, limit = 10_000): Promise<Record<string, string>[]> {
    const data = await this.get(`/api/v1/series?match[]=${encodeURIComponent(match)}&start=${range.startSec}&end=${range.endSec}&limit=${limit}`, 'Prometheus GET /api/v1/series', signal);
    return Array.isArray(data) ? data.slice(0, limit).map(labelsOf) : [];
  }

  /**
   * The newest sample among the series `selector` selects (a vector selector, e.g.
   * `http_requests_total{job="x"}`), as `max(timestamp(selector))` answers it, with the time
   * Prometheus evaluated the query at (both in seconds since the epoch; its clock, not ours).
   * `timestamp()` of a vector selector returns each sample's own timestamp, whereas every other
   * expression's samples carry the evaluation time (promql/engine.go, `case *parser.Call`:
   * "Matrix evaluation always returns the evaluation time, so this function needs special
   * handling when given a vector selector"). Undefined: no series within the lookback window.
   */
  async newestSample(selector: string, signal?: AbortSignal): Promise<{ readonly sampleTime: number; readonly evaluatedAt: number } | undefined> {
    const what = 'Prometheus GET /api/v1/query';
    const data = await this.get(`/api/v1/query?query=${encodeURIComponent(`max(timestamp(${selector}))`)}`, what, signal);
    const first = isRecord(data) && Array.isArray(data.result) ? data.result[0] : undefined;
    const value = isRecord(first) && Array.isArray(first.value) ? first.value : undefined;
    const evaluatedAt = Number(value?.[0]);
    const sampleTime = Number(value?.[1]);
    return Number.isFinite(evaluatedAt) && Number.isFinite(sampleTime) ? { sampleTime, evaluatedAt } : undefined;
  }

  /** The running configuration's YAML text. */
  async configYaml(signal?: AbortSignal): Promise<string> {
    const data = await this.get('/api/v1/status/config', 'Prometheus GET /api/v1/status/config', signal);
    return isRecord(data) && typeof data.yaml === 'string' ? data.yaml : '';
  }

  /**
   * The `data` of a success answer. The answer is read as it arrives (see json-stream.ts): the
   * elements of the arrays named in `arrays` (keys of `data`) are handed to their receiver one at
   * a time and left empty in what is returned, so what stays in memory is what the receivers
   * keep. Those elements are read without the 20 MiB limit of an answer; every other part of the
   * answer is held to it, and each element too.
   */
  private async get(path: string, what: string, signal?: AbortSignal, arrays: Readonly<Record<string, ArrayReceiver>> = {}): Promise<unknown> {
    const stream = new JsonStream({ arrays: Object.fromEntries(Object.entries(arrays).map(([k, r]) => [`data.${k}`, r])), maxValueBytes: DEFAULT_MAX_BYTES });
    const reader = new JsonAnswerReader(what, stream);
    const res = await consumingBody(reader, () => this.endpoint.request({ method: 'GET', path, what, signal, headers: { accept: 'application/json', 'accept-encoding': ACCEPT_COMPRESSED } }));
    let body: unknown;
    if (reader.taken) body = reader.document;
    else {
      // An error, or an endpoint that read the answer whole: the text is at hand.
      if (res.status >= 400 && res.text.includes('"errorType"')) {
        const error = envelope(parseJson<unknown>(res, what));
        throw new MfcError(`${what}: HTTP ${res.status} ${text(error.errorType)}: ${text(error.error)}`);
      }
      if (res.status === 404 && res.text.trim() === '404 page not found') throw this.notServed(res, what, path);
      expectOk(res, what);
      reader.accepts(res.status, res.headers);
      reader.write(Buffer.from(res.text));
      reader.end();
      body = reader.document;
    }
    const answer = envelope(body);
    if (answer.status !== 'success') {
      throw new MfcError(`${what}: status "${text(answer.status)}"${answer.error ? `: ${text(answer.error)}` : ''}`);
    }
    return answer.data;
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

/** The most characters of labels and fields kept of one answer's targets, or of its series. */
export const MAX_KEPT_BYTES = 128 * 1024 * 1024;
const KEPT_HINT = "Set the job input to one scrape pool: Prometheus then answers only that pool's targets.";

/** The discovered labels kept of an UP target (see Target.discoveredLabels). */
const DISCOVERED_KEPT = new Set(['__address__', '__metrics_path__', '__scheme__', '__scrape_interval__', '__scrape_timeout__', '__meta_kubernetes_namespace', '__meta_kubernetes_pod_name', 'job']);
const DISCOVERED_PREFIXES = ['__meta_kubernetes_pod_label_', '__meta_kubernetes_service_label_'] as const;

function toTarget(t: Record<string, unknown>): Target {
  const labels = labelsOf(t.labels);
  const health = str(t.health) || 'unknown';
  return {
    scrapePool: str(t.scrapePool) || labels.job || '',
    job: labels.job ?? str(t.scrapePool),
    labels,
    discoveredLabels: health === 'up' ? discoveredOf(t.discoveredLabels) : labelsOf(t.discoveredLabels),
    health,
    lastError: str(t.lastError),
    lastScrape: str(t.lastScrape),
    scrapeUrl: str(t.scrapeUrl),
    scrapeInterval: str(t.scrapeInterval),
  };
}

/** The discovered labels an UP target keeps. */
function discoveredOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const k in v) {
    const val = v[k];
    if (typeof val === 'string' && (DISCOVERED_KEPT.has(k) || k.startsWith(DISCOVERED_PREFIXES[0]) || k.startsWith(DISCOVERED_PREFIXES[1]))) out[k] = val;
  }
  return out;
}

/** Characters a target holds, roughly what it costs to keep. */
function sizeOf(t: Target): number {
  return labelsSize(t.labels) + labelsSize(t.discoveredLabels) + t.scrapePool.length + t.job.length + t.health.length + t.lastError.length + t.lastScrape.length + t.scrapeUrl.length + t.scrapeInterval.length;
}

function labelsSize(labels: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const k in labels) n += k.length + (labels[k] as string).length;
  return n;
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
