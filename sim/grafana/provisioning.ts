/**
 * Datasource provisioning as Grafana does it at start-up and on
 * `POST /api/admin/provisioning/datasources/reload` (pkg/services/provisioning/datasources):
 * every `*.yaml`/`*.yml` file directly under the provisioning directory, in file-name order;
 * `apiVersion: 1` (camelCase keys) or the deprecated version 0 (snake_case keys);
 * `$VAR`/`${VAR}` expanded from the container environment (`$$` is a literal `$`). Reading or
 * validating any file fails the whole run before anything is applied (configReader.readConfig).
 * Applying (DatasourceProvisioner.applyChanges) works on the current database: prunable
 * datasources no file lists any more are deleted, then per file its `deleteDatasources` and an
 * insert or update by (orgId, name) of each datasource. A datasource whose file went away stays
 * in the database unless it was provisioned with `prune: true` or a file deletes it by name.
 */
import { createHash } from 'node:crypto';
import { parseDocument, type YAMLError } from 'yaml';
import type { DatasourceFields, ProvisionedDatasource } from './datasource-store.js';
import { DatasourceError, DatasourceTable, UPDATING_OLD_VERSION } from './datasource-store.js';
import type { LogSink } from './logfmt.js';

export type { ProvisionedDatasource } from './datasource-store.js';

export interface ProvisioningResult {
  readonly datasources: ProvisionedDatasource[];
  /** The logged `error=` text when provisioning failed. */
  readonly error?: string;
}

type DatasourceConfig = Omit<DatasourceFields, 'readOnly' | 'isPrunable'> & { editable: boolean; version: number };
interface FileConfig {
  datasources: DatasourceConfig[];
  deleteDatasources: { name: string; orgId: number }[];
  /** Top-level `prune: true`: the file's datasources are deleted once no file lists them. */
  prune: boolean;
}

const TOO_MANY_DEFAULTS =
  'datasource.yaml config is invalid. Only one datasource per organization can be marked as default';

/** Version 1 key → version 0 key. */
const V0_KEYS: Readonly<Record<string, string>> = {
  orgId: 'org_id',
  basicAuth: 'basic_auth',
  basicAuthUser: 'basic_auth_user',
  withCredentials: 'with_credentials',
  isDefault: 'is_default',
  jsonData: 'json_data',
  secureJsonData: 'secure_json_data',
  deleteDatasources: 'delete_datasources',
};

/** The uid Grafana gives a provisioned datasource that has none (safeUIDFromName): `P` + 16 hex digits of sha256(name). */
function uidFromName(name: string): string {
  return `P${createHash('sha256').update(name).digest('hex').slice(0, 16)}`.toUpperCase();
}

class ProvisioningError extends Error {}

/** go-yaml's wording for the parse errors the YAML library reports, by error code. */
const GO_YAML_REASONS: Readonly<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY: 'mapping values are not allowed in this context',
  TAB_AS_INDENT: 'found character that cannot start any token',
  MISSING_CHAR: "did not find expected '-' indicator",
  BAD_INDENT: "did not find expected ',' or ']'",
};

function goYamlError(error: YAMLError): string {
  const line = error.linePos?.[0].line ?? 1;
  return `yaml: line ${line}: ${GO_YAML_REASONS[error.code] ?? 'did not find expected key'}`;
}

function expandEnv(text: string, env: ReadonlyMap<string, string>): string {
  return text
    .split('$$')
    .map((part) =>
      part.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, braced: string, bare: string) => env.get(braced ?? bare) ?? ''),
    )
    .join('$');
}

function expandDeep(value: unknown, env: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return expandEnv(value, env);
  if (Array.isArray(value)) return value.map((item) => expandDeep(item, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandDeep(v, env)]));
  }
  return value;
}

/** A provisioning file's scalar as Grafana reads it, env expanded (shared with dashboard provisioning). */
export function asString(value: unknown, env: ReadonlyMap<string, string>): string {
  if (value === undefined || value === null || typeof value === 'object') return '';
  return expandEnv(String(value), env);
}

export function asBool(value: unknown, env: ReadonlyMap<string, string>): boolean {
  if (typeof value === 'boolean') return value;
  return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(asString(value, env));
}

export function asInt(value: unknown, env: ReadonlyMap<string, string>): number {
  const parsed = Number.parseInt(asString(value, env), 10);
  return Number.isNaN(parsed) ? 0 : parsed;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function parseFile(path: string, content: string, env: ReadonlyMap<string, string>, log: LogSink): FileConfig {
  const document = parseDocument(content);
  if (document.errors.length > 0) throw new ProvisioningError(goYamlError(document.errors[0]!));
  const root = asRecord(document.toJS());
  const apiVersion = typeof root.apiVersion === 'number' ? root.apiVersion : 0;
  if (apiVersion <= 0) {
    log('provisioning.datasources', 'warn', '[Deprecated] the datasource provisioning config is outdated. please upgrade', {
      filename: path,
    });
  }
  const key = (name: string): string => (apiVersion > 0 ? name : (V0_KEYS[name] ?? name));
  const list = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.map(asRecord) : []);

  return {
    datasources: list(root.datasources).map((raw) => {
      const access = asString(raw.access, env) || 'proxy';
      if (access !== 'proxy' && access !== 'direct') {
        log('provisioning.datasources', 'warn', "invalid access value, will use 'proxy' instead", { value: access });
      }
      return {
        orgId: asInt(raw[key('orgId')], env) || 1,
        name: asString(raw.name, env),
        type: asString(raw.type, env),
        access: access === 'direct' ? 'direct' : 'proxy',
        url: asString(raw.url, env),
        user: asString(raw.user, env),
        database: asString(raw.database, env),
        basicAuth: asBool(raw[key('basicAuth')], env),
        basicAuthUser: asString(raw[key('basicAuthUser')], env),
        withCredentials: asBool(raw[key('withCredentials')], env),
        isDefault: asBool(raw[key('isDefault')], env),
        jsonData: asRecord(expandDeep(raw[key('jsonData')], env)),
        secureJsonData: Object.fromEntries(
          Object.entries(asRecord(raw[key('secureJsonData')])).map(([k, v]) => [k, asString(v, env)]),
        ),
        editable: asBool(raw.editable, env),
        uid: apiVersion > 0 ? asString(raw.uid, env) : '',
        version: asInt(raw.version, env),
      };
    }),
    deleteDatasources: list(root[key('deleteDatasources')]).map((raw) => ({
      name: asString(raw.name, env),
      orgId: asInt(raw[key('orgId')], env) || 1,
    })),
    prune: apiVersion > 0 && asBool(root.prune, env),
  };
}

function validate(configs: readonly FileConfig[]): void {
  const defaults = new Map<number, number>();
  for (const ds of configs.flatMap((config) => config.datasources)) {
    if (ds.name === '') throw new ProvisioningError('[datasource.nameInvalid] datasource name is required');
    if (!ds.isDefault) continue;
    const count = (defaults.get(ds.orgId) ?? 0) + 1;
    defaults.set(ds.orgId, count);
    if (count > 1) throw new ProvisioningError(TOO_MANY_DEFAULTS);
  }
}

/** The row fields of a configured datasource: read-only unless `editable: true`. */
function fieldsOf(ds: DatasourceConfig, prune: boolean): DatasourceFields {
  const { editable, version: _version, ...fields } = ds;
  return { ...fields, uid: fields.uid, readOnly: !editable, isPrunable: prune };
}

/**
 * Applies the configs to the database (applyChanges, provisionDataSources, deleteDatasources).
 * Errors from the database (a uid another datasource has) abort the run part-way, as in Grafana.
 */
function apply(table: DatasourceTable, configs: readonly FileConfig[], log: LogSink): void {
  const willExist = new Map<string, boolean>();
  const keyOf = (orgId: number, name: string) => `${orgId}/${name}`;
  for (const config of configs) {
    for (const ds of config.deleteDatasources) willExist.set(keyOf(ds.orgId, ds.name), false);
    for (const ds of config.datasources) willExist.set(keyOf(ds.orgId, ds.name), true);
  }
  const deleteByName = (orgId: number, name: string) => {
    const existing = table.byName(orgId, name);
    if (existing && table.delete(existing.id)) {
      log('provisioning.datasources', 'info', 'deleted datasource based on configuration', { name });
    }
  };
  for (const stale of table.all().filter((ds) => ds.isPrunable && !willExist.has(keyOf(ds.orgId, ds.name)))) {
    deleteByName(stale.orgId, stale.name);
  }
  for (const config of configs) {
    for (const doomed of config.deleteDatasources) deleteByName(doomed.orgId, doomed.name);
    for (const ds of config.datasources) {
      const existing = table.byName(ds.orgId, ds.name);
      const fields = fieldsOf(ds, config.prune);
      if (!existing) {
        const uid = ds.uid || uidFromName(ds.name);
        log('provisioning.datasources', 'info', 'inserting datasource from configuration', { name: ds.name, uid });
        table.insert({ ...fields, uid });
        continue;
      }
      try {
        table.update(existing.id, fields, ds.version);
      } catch (error) {
        // A file `version` not above the stored one leaves the row as it is (logged at debug level).
        if (!(error instanceof DatasourceError && error.message === UPDATING_OLD_VERSION)) throw error;
      }
    }
  }
}

/** The provisioning files of a directory, in file-name order. */
function provisioningFiles(files: ReadonlyMap<string, string>, directory: string): [string, string][] {
  const prefix = `${directory.replace(/\/+$/, '')}/`;
  return [...files.entries()]
    .filter(([path]) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/'))
    .filter(([path]) => path.endsWith('.yaml') || path.endsWith('.yml'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Provisions from the files a container sees (`path → content`) into the database, as
 * ProvisioningServiceImpl.ProvisionDatasources does at start-up and on reload. Logs like
 * Grafana: an `info` line per inserted or deleted datasource, or one `error` line
 * `Failed to provision data sources`, whose `error=` text is returned.
 */
export function reprovisionDatasources(
  table: DatasourceTable,
  files: ReadonlyMap<string, string>,
  directory: string,
  env: ReadonlyMap<string, string>,
  log: LogSink,
): { error?: string } {
  try {
    const configs = provisioningFiles(files, directory).map(([path, content]) => parseFile(path, content, env, log));
    validate(configs);
    apply(table, configs, log);
    return {};
  } catch (error) {
    if (!(error instanceof ProvisioningError || error instanceof DatasourceError)) throw error;
    const message = `Datasource provisioning error: ${error.message}`;
    log('provisioning', 'error', 'Failed to provision data sources', { error: message });
    return { error: message };
  }
}

/** Provisions into a fresh database, as on a Grafana whose database starts empty. */
export function provisionDatasources(
  files: ReadonlyMap<string, string>,
  directory: string,
  env: ReadonlyMap<string, string>,
  log: LogSink,
): ProvisioningResult {
  const table = new DatasourceTable();
  const { error } = reprovisionDatasources(table, files, directory, env, log);
  return error ? { datasources: [], error } : { datasources: [...table.all()] };
}
