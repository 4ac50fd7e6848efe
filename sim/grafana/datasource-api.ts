/**
 * /api/datasources (pkg/api/datasources.go): the list sorted by lowercased name, one datasource
 * by uid, name or numeric id, the health check of one datasource by uid, and the writes a
 * client such as grafana-operator makes: create (`POST /api/datasources`), update and delete by
 * uid. Provisioned datasources that are not editable refuse updates and deletion.
 */
import type { Identity } from './auth.js';
import type { DatasourceFields, DatasourceTable } from './datasource-store.js';
import { DatasourceError, NAME_EXISTS, UID_EXISTS, UPDATING_OLD_VERSION } from './datasource-store.js';
import type { PrometheusDatasource } from './prometheus.js';
import type { ProvisionedDatasource } from './provisioning.js';
import type { GrafanaRelease } from './release.js';
import { errutilBody } from './release.js';
import type { Reply } from './reply.js';
import { accessDenied, json, PERMISSION_DENIED } from './reply.js';

const DATASOURCE_NOT_FOUND: Reply = json(404, { message: 'Data source not found' });
const VALID_UID = /^[a-zA-Z0-9\-_]{0,40}$/;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  prometheus: 'Prometheus',
  loki: 'Loki',
  tempo: 'Tempo',
  elasticsearch: 'Elasticsearch',
  graphite: 'Graphite',
  influxdb: 'InfluxDB',
};

function listItem(ds: ProvisionedDatasource): Record<string, unknown> {
  return {
    id: ds.id,
    uid: ds.uid,
    orgId: ds.orgId,
    name: ds.name,
    type: ds.type,
    typeName: TYPE_NAMES[ds.type] ?? ds.type,
    typeLogoUrl: `public/app/plugins/datasource/${ds.type}/img/${ds.type}_logo.svg`,
    access: ds.access,
    url: ds.url,
    user: ds.user,
    database: ds.database,
    basicAuth: ds.basicAuth,
    isDefault: ds.isDefault,
    jsonData: ds.jsonData,
    readOnly: ds.readOnly,
  };
}

function detail(ds: ProvisionedDatasource): Record<string, unknown> {
  return {
    id: ds.id,
    uid: ds.uid,
    orgId: ds.orgId,
    name: ds.name,
    type: ds.type,
    typeLogoUrl: '',
    access: ds.access,
    url: ds.url,
    user: ds.user,
    database: ds.database,
    basicAuth: ds.basicAuth,
    basicAuthUser: ds.basicAuthUser,
    withCredentials: ds.withCredentials,
    isDefault: ds.isDefault,
    jsonData: ds.jsonData,
    secureJsonFields: Object.fromEntries(Object.keys(ds.secureJsonData).map((key) => [key, true])),
    version: ds.version,
    readOnly: ds.readOnly,
  };
}

export interface DatasourceApiDeps {
  /** Datasources of organisation 1, the one every caller belongs to. */
  datasources(): readonly ProvisionedDatasource[];
  /** The database the writes go to. */
  table(): DatasourceTable;
  prometheus(ds: ProvisionedDatasource): PrometheusDatasource;
  /** When set, health checks fail with this HTTP status without checking (a crashed plugin). */
  forcedHealthStatus(): number | undefined;
  /** The release whose answers these are. */
  readonly release: GrafanaRelease;
}

export class DatasourceApi {
  constructor(private readonly deps: DatasourceApiDeps) {}

  list(identity: Identity): Reply {
    if (identity.role !== 'Admin') return PERMISSION_DENIED;
    const sorted = [...this.deps.datasources()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    return json(200, sorted.map(listItem));
  }

  /** One datasource by `uid`, `name` or numeric `id` (the deprecated `/api/datasources/:id`). */
  get(identity: Identity, by: 'uid' | 'name' | 'id', key: string): Reply {
    if (identity.role !== 'Admin') return PERMISSION_DENIED;
    if (by === 'id' && !/^-?\d+$/.test(key)) return json(400, { message: 'id is invalid' });
    const ds = this.deps.datasources().find((candidate) =>
      by === 'uid' ? candidate.uid === key : by === 'name' ? candidate.name === key : candidate.id === Number(key),
    );
    return ds ? json(200, detail(ds)) : DATASOURCE_NOT_FOUND;
  }

  /** POST /api/datasources (AddDataSource): a datasource that lives only in Grafana's database. */
  create(identity: Identity, body: string): Reply {
    if (identity.role !== 'Admin') return accessDenied('datasources:create');
    const parsed = commandFields(body);
    if (!parsed) return json(400, { message: 'bad request data' });
    const fields = parsed.name ? parsed : { ...parsed, name: availableName(parsed.type, this.deps.datasources()) };
    try {
      const ds = this.deps.table().insert(fields);
      return json(200, { datasource: detail(ds), id: ds.id, message: 'Datasource added', name: ds.name });
    } catch (error) {
      if (error instanceof DatasourceError && (error.message === NAME_EXISTS || error.message === UID_EXISTS)) {
        return json(409, { message: error.message });
      }
      throw error;
    }
  }

  /** PUT /api/datasources/uid/:uid (UpdateDataSourceByUID). */
  update(identity: Identity, uid: string, body: string): Reply {
    if (identity.role !== 'Admin') return accessDenied('datasources:write');
    const existing = this.deps.datasources().find((ds) => ds.uid === uid);
    if (!existing) return DATASOURCE_NOT_FOUND;
    const fields = commandFields(body);
    if (!fields) return json(400, { message: 'bad request data' });
    if (existing.readOnly) return json(403, { message: 'Cannot update read-only data source' });
    const version = Number((JSON.parse(body) as { version?: unknown }).version ?? 0) || 0;
    try {
      const ds = this.deps.table().update(existing.id, { ...fields, uid: fields.uid || uid }, version);
      return json(200, { datasource: detail(ds), id: ds.id, message: 'Datasource updated', name: ds.name });
    } catch (error) {
      if (!(error instanceof DatasourceError)) throw error;
      if (error.message === UPDATING_OLD_VERSION) {
        return json(409, { message: 'Datasource has already been updated by someone else. Please reload and try again' });
      }
      if (error.message === NAME_EXISTS || error.message === UID_EXISTS) return json(409, { message: error.message });
      throw error;
    }
  }

  /** DELETE /api/datasources/uid/:uid (DeleteDataSourceByUID). */
  delete(identity: Identity, uid: string): Reply {
    if (identity.role !== 'Admin') return accessDenied('datasources:delete');
    const existing = this.deps.datasources().find((ds) => ds.uid === uid);
    if (!existing) return DATASOURCE_NOT_FOUND;
    if (existing.readOnly) return json(403, { message: 'Cannot delete read-only data source' });
    this.deps.table().delete(existing.id);
    return json(200, { id: existing.id, message: 'Data source deleted' });
  }

  /**
   * GET /api/datasources/uid/:uid/health (CheckDatasourceHealthWithUID): 200 with the plugin's
   * result when OK, 400 otherwise; a plugin without CheckHealth → 404 (Grafana 9.5's Prometheus:
   * `{"message":"Not found","traceID":""}`, grafana/grafana#65970).
   */
  async health(identity: Identity, uid: string): Promise<Reply> {
    if (!VALID_UID.test(uid)) return json(400, { message: 'UID is invalid' });
    const ds = this.deps.datasources().find((candidate) => candidate.uid === uid);
    if (!ds) return json(500, { message: 'Unable to load datasource metadata', traceID: '' });
    if (identity.role !== 'Admin') return json(403, { message: 'Access denied to datasource', traceID: '' });
    const release = this.deps.release;
    const forced = this.deps.forcedHealthStatus();
    if (forced !== undefined) {
      const message = 'Plugin health check failed';
      return json(forced, release.pluginErrutil ? errutilBody(forced, 'plugin.healthCheck', message) : { message, traceID: '' });
    }
    // Only the Prometheus backend is simulated, and it has CheckHealth from 10.0 on; every other
    // plugin answers as one without CheckHealth (ErrMethodNotImplemented).
    if (ds.type !== 'prometheus' || !release.prometheusHealthCheck) {
      return json(
        404,
        release.pluginErrutil ? errutilBody(404, 'plugin.notImplemented', 'Method not implemented') : { message: 'Not found', traceID: '' },
      );
    }
    const result = await this.deps.prometheus(ds).checkHealth();
    return json(result.httpStatus, result.body);
  }
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The fields of an AddDataSourceCommand / UpdateDataSourceCommand body (JSON names as Grafana's
 * API binds them); `readOnly` cannot be set through the API. Undefined when the body is not JSON.
 */
function commandFields(body: string): DatasourceFields | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const cmd = parsed as Record<string, unknown>;
  const text = (key: string) => (typeof cmd[key] === 'string' ? (cmd[key] as string) : '');
  return {
    uid: text('uid'),
    orgId: 1,
    name: text('name'),
    type: text('type'),
    access: text('access'),
    url: text('url'),
    user: text('user'),
    database: text('database'),
    basicAuth: cmd.basicAuth === true,
    basicAuthUser: text('basicAuthUser'),
    withCredentials: cmd.withCredentials === true,
    isDefault: cmd.isDefault === true,
    jsonData: record(cmd.jsonData),
    secureJsonData: Object.fromEntries(Object.entries(record(cmd.secureJsonData)).map(([k, v]) => [k, String(v)])),
    readOnly: false,
    isPrunable: false,
  };
}

/** getAvailableName: the type, or `type-1`, `type-2`, … when taken (case-insensitively). */
function availableName(type: string, existing: readonly ProvisionedDatasource[]): string {
  const taken = new Set(existing.map((ds) => ds.name.toLowerCase()));
  let name = type;
  for (let n = 1; taken.has(name.toLowerCase()); n++) name = `${type}-${n}`;
  return name;
}
