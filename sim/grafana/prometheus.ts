/**
 * Grafana's Prometheus datasource backend (pkg/promlib): instant and range queries sent to
 * `<url>/api/v1/query(_range)` as form-encoded POSTs (GET when `jsonData.httpMethod` is GET),
 * with the datasource's basic auth; and the health check, an instant `1+1` at time 4 followed
 * by `GET /api/v1/status/buildinfo` for the details.
 */
import type { DataResponse } from './frames.js';
import { toDataResponse } from './frames.js';
import type { PodHttpClient, PodHttpResult } from './pod-http.js';
import type { ProvisionedDatasource } from './provisioning.js';
import type { PrometheusQuery } from './query-model.js';
import { alignToStep, promTime } from './query-model.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const HEALTH_FAILED = 'There was an error returned querying the Prometheus API.';
/** The health check's query: `1+1`, instant, over the time range unix 1..4. */
const HEALTH_QUERY: PrometheusQuery = {
  refId: '__healthcheck__',
  expr: '1+1',
  instant: true,
  range: false,
  legendFormat: '',
  fromMs: 1000,
  toMs: 4000,
  stepMs: 15000,
};

export interface HealthResult {
  readonly httpStatus: 200 | 400;
  readonly body: { details?: unknown; message: string; status: 'OK' | 'ERROR' };
}

/** Go's `url.QueryEscape`: only letters, digits and `-_.~` stay; a space becomes `+`. */
function queryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Go's `url.Values.Encode`: keys sorted. */
function encodeForm(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .sort()
    .map((key) => `${queryEscape(key)}=${queryEscape(params[key]!)}`)
    .join('&');
}

/**
 * The datasource URL with `/<endpoint>` joined to its path, host written as configured; or
 * Go's error for a URL it cannot parse.
 */
function endpointUrl(ds: ProvisionedDatasource, endpoint: string): { url: string } | { error: string } {
  const base = (ds.url.split(/[?#]/)[0] ?? '').replace(/\/+$/, '');
  if (base === '') return { error: 'parse "": empty url' };
  return URL.canParse(base) ? { url: `${base}/${endpoint}` } : { error: `parse "${ds.url}": invalid URI for request` };
}

export class PrometheusDatasource {
  constructor(
    private readonly ds: ProvisionedDatasource,
    private readonly http: PodHttpClient,
    private readonly dataplane: boolean,
  ) {}

  private get method(): 'GET' | 'POST' {
    return String(this.ds.jsonData.httpMethod ?? '').toUpperCase() === 'GET' ? 'GET' : 'POST';
  }

  private get timeoutMs(): number {
    const seconds = Number(this.ds.jsonData.timeout);
    return seconds > 0 ? seconds * 1000 : DEFAULT_TIMEOUT_MS;
  }

  private headers(): Record<string, string> {
    if (!this.ds.basicAuth) return {};
    const password = this.ds.secureJsonData.basicAuthPassword ?? '';
    return { authorization: `Basic ${Buffer.from(`${this.ds.basicAuthUser}:${password}`).toString('base64')}` };
  }

  private send(endpoint: string, params: Readonly<Record<string, string>>, method = this.method): Promise<PodHttpResult> {
    const target = endpointUrl(this.ds, endpoint);
    if ('error' in target) return Promise.resolve(target);
    const { url } = target;
    const form = encodeForm(params);
    if (method === 'POST') {
      return this.http.send({ method, url, body: form, headers: this.headers(), timeoutMs: this.timeoutMs });
    }
    const withQuery = form === '' ? url : `${url}?${form}`;
    return this.http.send({ method, url: withQuery, headers: this.headers(), timeoutMs: this.timeoutMs });
  }

  private async instant(query: PrometheusQuery): Promise<DataResponse> {
    const result = await this.send('api/v1/query', { query: query.expr, time: promTime(query.toMs) });
    if ('error' in result) return { status: 502, error: result.error, errorSource: 'downstream' };
    return toDataResponse(query, result.response.status, result.response.body, this.dataplane);
  }

  private async rangeQuery(query: PrometheusQuery): Promise<DataResponse> {
    const result = await this.send('api/v1/query_range', {
      query: query.expr,
      start: promTime(alignToStep(query.fromMs, query.stepMs)),
      end: promTime(alignToStep(query.toMs, query.stepMs)),
      step: String(query.stepMs / 1000),
    });
    if ('error' in result) return { status: 502, error: result.error, errorSource: 'downstream' };
    return toDataResponse(query, result.response.status, result.response.body, this.dataplane);
  }

  /** Runs the instant and/or range part of a query; errors of both parts are joined. */
  async query(query: PrometheusQuery): Promise<DataResponse> {
    const parts: DataResponse[] = [];
    if (query.instant) parts.push(await this.instant(query));
    if (query.range) parts.push(await this.rangeQuery(query));
    const frames = parts.flatMap((part) => part.frames ?? []);
    const failed = parts.filter((part) => part.error !== undefined);
    const lastFailure = failed.at(-1);
    const combined: DataResponse = { status: lastFailure?.status ?? parts[0]?.status ?? 200 };
    if (frames.length > 0) combined.frames = frames;
    if (lastFailure) {
      combined.error = failed.map((part) => part.error).join(' ');
      combined.errorSource = lastFailure.errorSource;
    }
    return combined;
  }

  async checkHealth(): Promise<HealthResult> {
    const result = await this.send('api/v1/query', { query: HEALTH_QUERY.expr, time: promTime(HEALTH_QUERY.toMs) });
    let failure: string | undefined;
    if ('error' in result) {
      failure = result.error;
    } else if (result.response.status !== 200) {
      failure = result.response.statusLine;
    } else {
      failure = toDataResponse(HEALTH_QUERY, 200, result.response.body, this.dataplane).error;
    }
    const details = await this.heuristics();
    const body = {
      ...(details ? { details } : {}),
      message: failure === undefined ? 'Successfully queried the Prometheus API.' : `${failure} - ${HEALTH_FAILED}`,
      status: failure === undefined ? ('OK' as const) : ('ERROR' as const),
    };
    return { httpStatus: failure === undefined ? 200 : 400, body };
  }

  /** Which application answers (Prometheus, or Mimir when buildinfo lists features). */
  private async heuristics(): Promise<{ application: string; features: { rulerApiEnabled: boolean } } | undefined> {
    const result = await this.send('api/v1/status/buildinfo', {}, 'GET');
    if ('error' in result || result.response.status !== 200) return undefined;
    try {
      const info = JSON.parse(result.response.body) as { data?: { features?: Record<string, string> } };
      const mimir = Object.keys(info.data?.features ?? {}).length > 0;
      return { application: mimir ? 'Mimir' : 'Prometheus', features: { rulerApiEnabled: mimir } };
    } catch {
      return undefined;
    }
  }
}
