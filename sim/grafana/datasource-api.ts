/**
 * /api/datasources (pkg/api/datasources.go): the list sorted by lowercased name, one datasource
 * by uid, name or numeric id, and the health check of one datasource by uid.
 */
import type { Identity } from './auth.js';
import type { PrometheusDatasource } from './prometheus.js';
import type { ProvisionedDatasource } from './provisioning.js';
import type { Reply } from './reply.js';
import { json, PERMISSION_DENIED } from './reply.js';

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
  prometheus(ds: ProvisionedDatasource): PrometheusDatasource;
  /** When set, health checks fail with this HTTP status without checking (a crashed plugin). */
  forcedHealthStatus(): number | undefined;
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

  async health(identity: Identity, uid: string): Promise<Reply> {
    if (!VALID_UID.test(uid)) return json(400, { message: 'UID is invalid' });
    const ds = this.deps.datasources().find((candidate) => candidate.uid === uid);
    if (!ds) return json(500, { message: 'Unable to load datasource metadata', traceID: '' });
    if (identity.role !== 'Admin') return json(403, { message: 'Access denied to datasource', traceID: '' });
    const forced = this.deps.forcedHealthStatus();
    if (forced !== undefined) return json(forced, { message: 'Plugin health check failed', traceID: '' });
    if (ds.type !== 'prometheus') return json(404, { message: 'Health check not implemented', traceID: '' });
    const result = await this.deps.prometheus(ds).checkHealth();
    return json(result.httpStatus, result.body);
  }
}
