/**
 * Grafana's `data_source` table (pkg/services/datasources/service/store.go): rows with an id and
 * a uid unique per organisation, a name unique per organisation, a version bumped by every
 * update, `read_only` (provisioned, not editable) and `is_prunable`. Marking a row default clears
 * the flag on the organisation's other rows (updateIsDefaultFlag). Errors carry Grafana's wording.
 */
import { randomBytes } from 'node:crypto';

export interface ProvisionedDatasource {
  readonly id: number;
  readonly uid: string;
  readonly orgId: number;
  readonly name: string;
  readonly type: string;
  readonly access: string;
  readonly url: string;
  readonly user: string;
  readonly database: string;
  readonly basicAuth: boolean;
  readonly basicAuthUser: string;
  readonly withCredentials: boolean;
  readonly isDefault: boolean;
  readonly jsonData: Readonly<Record<string, unknown>>;
  readonly secureJsonData: Readonly<Record<string, string>>;
  /** Provisioned from a file without `editable: true`: the API refuses to change it. */
  readonly readOnly: boolean;
  readonly version: number;
  /** Provisioned from a file saying `prune: true`: deleted once no file lists it. */
  readonly isPrunable: boolean;
}

/** Every row of the table is a datasource, provisioned or created through the API. */
export type DatasourceRecord = ProvisionedDatasource;

/** The fields a caller sets; id and version are the table's. */
export type DatasourceFields = Omit<ProvisionedDatasource, 'id' | 'version'>;

export class DatasourceError extends Error {}

/** datasources.ErrDataSourceNameExists etc. (pkg/services/datasources/errors.go). */
export const NAME_EXISTS = 'data source with the same name already exists';
export const UID_EXISTS = 'data source with the same uid already exists';
export const UPDATING_OLD_VERSION = 'trying to update old version of datasource';

const UID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** util.GenerateShortUID in recent Grafana: 14 characters, a letter first. */
function shortUid(): string {
  const bytes = randomBytes(14);
  let uid = UID_ALPHABET[bytes[0]! % 52]!;
  for (let i = 1; i < 14; i++) uid += UID_ALPHABET[bytes[i]! % UID_ALPHABET.length]!;
  return uid;
}

export class DatasourceTable {
  private rows: ProvisionedDatasource[] = [];
  private nextId = 1;

  /** Every row, in id order. */
  all(): readonly ProvisionedDatasource[] {
    return this.rows;
  }

  byName(orgId: number, name: string): ProvisionedDatasource | undefined {
    return this.rows.find((ds) => ds.orgId === orgId && ds.name === name);
  }

  byUid(orgId: number, uid: string): ProvisionedDatasource | undefined {
    return this.rows.find((ds) => ds.orgId === orgId && ds.uid === uid);
  }

  /** AddDataSource: a new row with version 1; a generated uid when none is given. */
  insert(fields: DatasourceFields): ProvisionedDatasource {
    if (this.byName(fields.orgId, fields.name)) throw new DatasourceError(NAME_EXISTS);
    const uid = fields.uid || shortUid();
    if (this.byUid(fields.orgId, uid)) throw new DatasourceError(UID_EXISTS);
    const row: ProvisionedDatasource = { ...fields, uid, id: this.nextId++, version: 1 };
    this.rows.push(row);
    this.clearOtherDefaults(row);
    return row;
  }

  /**
   * UpdateDataSource: replaces the row's fields (an empty uid keeps the stored one, as xorm skips
   * empty columns). With a non-zero `version` the update applies only when the stored version is
   * lower, else it fails with ErrDataSourceUpdatingOldVersion; the new version is `version + 1`.
   */
  update(id: number, fields: DatasourceFields, version: number): ProvisionedDatasource {
    const index = this.rows.findIndex((ds) => ds.id === id);
    if (index < 0) throw new DatasourceError('data source not found');
    const existing = this.rows[index]!;
    if (version !== 0 && existing.version >= version) throw new DatasourceError(UPDATING_OLD_VERSION);
    const other = this.byName(fields.orgId, fields.name);
    if (other && other.id !== id) throw new DatasourceError(NAME_EXISTS);
    const uid = fields.uid || existing.uid;
    const sameUid = this.byUid(fields.orgId, uid);
    if (sameUid && sameUid.id !== id) throw new DatasourceError(UID_EXISTS);
    const row: ProvisionedDatasource = { ...fields, uid, id, version: version + 1 };
    this.rows[index] = row;
    this.clearOtherDefaults(row);
    return row;
  }

  /** Deletes a row; false when there was none. */
  delete(id: number): boolean {
    const index = this.rows.findIndex((ds) => ds.id === id);
    if (index < 0) return false;
    this.rows.splice(index, 1);
    return true;
  }

  private clearOtherDefaults(row: ProvisionedDatasource): void {
    if (!row.isDefault) return;
    this.rows = this.rows.map((ds) => (ds.orgId === row.orgId && ds.id !== row.id && ds.isDefault ? { ...ds, isDefault: false } : ds));
  }
}
