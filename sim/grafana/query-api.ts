/**
 * POST /api/ds/query (pkg/api/ds_query.go, pkg/services/query): resolves each query's
 * datasource (`datasource.uid`, a legacy string uid, or `datasourceId`), runs it over the
 * request's `from`/`to` (range queries unless `instant` alone is asked) with the built-in
 * `$__interval`, `$__rate_interval`, `$__range`… replaced as the Prometheus backend does
 * (query-model.ts interpolateMacros) — template variables like `$cluster` stay as sent, the
 * frontend replaces those — and answers `{"results": {refId: …}}`, HTTP 400 as soon as one
 * query failed.
 *
 * A datasource uid Grafana does not have: from 10.0 handleQueryMetricsError maps
 * datasources.ErrDataSourceNotFound to `response.Error(http.StatusNotFound, "Data source not
 * found", err)`; 9.x's handleQueryMetricsError has no such case, so the error falls through to
 * `response.Error(500, "Query data error", err)` (9.x pkg/api/ds_query.go). The words users
 * report, "Datasource <uid> was not found", are the frontend's (DatasourceSrv), not the API's.
 */
import type { Identity } from './auth.js';
import type { DataResponse } from './frames.js';
import type { PrometheusDatasource } from './prometheus.js';
import type { ProvisionedDatasource } from './provisioning.js';
import type { PrometheusQuery } from './query-model.js';
import { calculateStepMs, interpolateMacros, parseTime } from './query-model.js';
import type { GrafanaRelease } from './release.js';
import type { Reply } from './reply.js';
import { json } from './reply.js';

type QueryJson = Record<string, unknown>;

function badRequest(message: string, messageId: string): Reply {
  return json(400, { message, messageId, statusCode: 400, traceID: '' });
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function datasourceRef(query: QueryJson): { uid: string; id: number } {
  const ref = query.datasource;
  const uid = ref && typeof ref === 'object' ? str((ref as QueryJson).uid) : str(ref);
  return { uid, id: num(query.datasourceId, 0) };
}

function toPrometheusQuery(query: QueryJson, ds: ProvisionedDatasource, fromMs: number, toMs: number, release: GrafanaRelease): PrometheusQuery {
  const instant = query.instant === true;
  const range = query.range === true || !instant;
  const stepMs = calculateStepMs({
    fromMs,
    toMs,
    intervalMs: num(query.intervalMs, 0),
    maxDataPoints: num(query.maxDataPoints, 100),
    queryInterval: str(query.interval),
    dsTimeInterval: str(ds.jsonData.timeInterval),
    intervalFactor: num(query.intervalFactor, 1),
  });
  const expr = interpolateMacros(str(query.expr), {
    stepMs,
    intervalMs: num(query.intervalMs, 1000),
    queryInterval: str(query.interval),
    dsTimeInterval: str(ds.jsonData.timeInterval),
    rangeMs: toMs - fromMs,
    legacy: !release.promlib,
  });
  return {
    refId: str(query.refId, 'A'),
    expr,
    instant,
    range,
    legendFormat: str(query.legendFormat),
    fromMs,
    toMs,
    stepMs,
  };
}

export interface QueryApiDeps {
  datasources(): readonly ProvisionedDatasource[];
  prometheus(ds: ProvisionedDatasource): PrometheusDatasource;
  readonly release: GrafanaRelease;
}

/** A result as the release writes it: `errorSource` only where the release has it. */
function asWritten(result: DataResponse, release: GrafanaRelease): DataResponse {
  if (release.queryErrorSource || result.errorSource === undefined) return result;
  const { errorSource: _dropped, ...rest } = result;
  return rest;
}

export class QueryApi {
  constructor(private readonly deps: QueryApiDeps) {}

  async handle(identity: Identity, body: string): Promise<Reply> {
    let request: { from?: unknown; to?: unknown; queries?: unknown };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return json(400, { message: 'bad request data', traceID: '' });
    }
    const queries = Array.isArray(request?.queries) ? (request.queries as QueryJson[]) : [];
    if (queries.length === 0) return badRequest('No queries found', 'query.noQueries');

    const resolved: [QueryJson, ProvisionedDatasource][] = [];
    for (const query of queries) {
      const { uid, id } = datasourceRef(query);
      if (id <= 0 && uid === '') {
        return badRequest('Query does not contain a valid data source identifier', 'query.invalidDatasourceId');
      }
      const ds = this.deps.datasources().find((candidate) => (id > 0 ? candidate.id === id : candidate.uid === uid));
      if (!ds) {
        if (!this.deps.release.promlib) return json(500, { message: 'Query data error' });
        return json(404, { message: 'Data source not found', traceID: '' });
      }
      resolved.push([query, ds]);
    }
    if (identity.role !== 'Admin') return json(403, { message: 'Access denied to data source', traceID: '' });

    const now = Date.now();
    const fromMs = parseTime(str(request.from, 'now-6h'), now) ?? now - 21_600_000;
    const toMs = parseTime(str(request.to, 'now'), now) ?? now;
    const results: Record<string, DataResponse> = {};
    for (const [query, ds] of resolved) {
      const promQuery = toPrometheusQuery(query, ds, fromMs, toMs, this.deps.release);
      const result: DataResponse =
        ds.type === 'prometheus'
          ? await this.deps.prometheus(ds).query(promQuery)
          : { status: 500, error: 'plugin unavailable', errorSource: 'plugin' };
      results[promQuery.refId] = asWritten(result, this.deps.release);
    }
    const failed = Object.values(results).some((result) => result.error !== undefined);
    return json(failed ? 400 : 200, { results });
  }
}
