/**
 * Grafana's database of dashboards, folders and library elements (one organisation), as the
 * dashboard service keeps them: folders and dashboards share the `dashboard` table (pkg/services/
 * dashboards/database), so their ids come from one sequence; a dashboard's JSON is stored as it
 * was saved — provisioning saves the file's JSON as it is (SaveProvisionedDashboard →
 * dashboardStore.saveDashboard), with `id`, `uid` and `version` set by the store; the schema
 * migrations (`rows` → `panels` at schemaVersion 16, …) run in the frontend's DashboardMigrator,
 * so `GET /api/dashboards/uid/:uid` answers what was stored. Library panels live in their own
 * table (pkg/services/libraryelements): a dashboard only refers to one by
 * `{"libraryPanel": {"uid", "name"}}`, resolved by the frontend since Grafana 9.3
 * (grafana/grafana#50560 "Load library panels in the frontend rather than the backend").
 */
import { createHash } from 'node:crypto';
import { asRecord } from './provisioning.js';

export interface Folder {
  readonly id: number;
  readonly uid: string;
  readonly title: string;
  readonly created: string;
}

/** What file provisioning records of a dashboard (the dashboard_provisioning table). */
export interface DashboardProvisioning {
  /** The provider's name. */
  readonly provider: string;
  /** The file's absolute path (external_id). */
  readonly externalId: string;
  /** The provider's `options.path`. */
  readonly providerPath: string;
  readonly allowUiUpdates: boolean;
  /** sha256 of the file's content (check_sum): an unchanged file is not saved again. */
  readonly checkSum: string;
}

export interface StoredDashboard {
  readonly id: number;
  readonly uid: string;
  readonly title: string;
  readonly slug: string;
  readonly tags: readonly string[];
  /** '' for the General folder. */
  readonly folderUid: string;
  readonly version: number;
  readonly created: string;
  readonly updated: string;
  /** The JSON model as stored (with `id`, `uid`, `version` set). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly provisioning?: DashboardProvisioning;
  /**
   * The API version it was saved with when not the classic schema: `v2alpha1`, `v2beta1` — a
   * dashboard saved by Grafana 12's new editor (feature toggle dashboardNewLayouts) through
   * dashboard.grafana.app. `data` then stands for its classic form.
   */
  readonly storedVersion?: string;
}

export interface LibraryElement {
  readonly id: number;
  readonly uid: string;
  readonly name: string;
  /** 1: a panel (the only kind Grafana has). */
  readonly kind: 1;
  readonly type: string;
  readonly description: string;
  readonly folderUid: string;
  readonly model: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly created: string;
  readonly updated: string;
}

/**
 * pkg/infra/slugify, for ASCII titles: lower case, every run of other characters one `-`, no
 * `-` at either end.
 */
export function slugify(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A stable stand-in for util.GenerateShortUID (14 characters of [a-z0-9], starting with a
 * letter), derived from `seed` so a dashboard keeps its uid across restarts of the simulator.
 */
export function shortUid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  const digits = BigInt(`0x${hex.slice(0, 24)}`).toString(36).padStart(13, '0').slice(-13);
  return `a${digits}`;
}

export class DashboardDatabase {
  private nextId = 1;
  private nextLibraryId = 1;
  private readonly folderRows = new Map<string, Folder>();
  private readonly dashboardRows = new Map<string, StoredDashboard>();
  private readonly libraryRows = new Map<string, LibraryElement>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  get folders(): readonly Folder[] {
    return [...this.folderRows.values()];
  }

  get dashboards(): readonly StoredDashboard[] {
    return [...this.dashboardRows.values()];
  }

  get libraryElements(): readonly LibraryElement[] {
    return [...this.libraryRows.values()];
  }

  folder(uid: string): Folder | undefined {
    return this.folderRows.get(uid);
  }

  folderByTitle(title: string): Folder | undefined {
    return this.folders.find((f) => f.title === title);
  }

  dashboard(uid: string): StoredDashboard | undefined {
    return this.dashboardRows.get(uid);
  }

  libraryElement(uid: string): LibraryElement | undefined {
    return this.libraryRows.get(uid);
  }

  /** A folder (title unique in the organisation), as the folder service creates it. */
  createFolder(title: string, uid = ''): Folder {
    const folderUid = uid || shortUid(`folder/${title}`);
    const existing = this.folderRows.get(folderUid);
    if (existing) return existing;
    const folder: Folder = { id: this.nextId++, uid: folderUid, title, created: this.now().toISOString() };
    this.folderRows.set(folderUid, folder);
    return folder;
  }

  /**
   * Saves a dashboard's JSON (insert, or update of the row with its uid: version + 1). Returns
   * the stored row.
   */
  saveDashboard(model: Readonly<Record<string, unknown>>, options: { uid: string; folderUid: string; provisioning?: DashboardProvisioning; storedVersion?: string }): StoredDashboard {
    const existing = this.dashboardRows.get(options.uid);
    const stamp = this.now().toISOString();
    const id = existing?.id ?? this.nextId++;
    const version = existing ? existing.version + 1 : 1;
    const title = typeof model.title === 'string' ? model.title : '';
    const tags = Array.isArray(model.tags) ? model.tags.filter((t): t is string => typeof t === 'string') : [];
    const row: StoredDashboard = {
      id,
      uid: options.uid,
      title,
      slug: slugify(title),
      tags,
      folderUid: options.folderUid,
      version,
      created: existing?.created ?? stamp,
      updated: stamp,
      data: { ...model, id, uid: options.uid, version },
      ...(options.provisioning ? { provisioning: options.provisioning } : {}),
      ...(options.storedVersion ? { storedVersion: options.storedVersion } : {}),
    };
    this.dashboardRows.set(options.uid, row);
    return row;
  }

  deleteDashboard(uid: string): boolean {
    return this.dashboardRows.delete(uid);
  }

  /** Keeps the dashboard, forgetting that a file provisioned it (UnprovisionDashboard). */
  unprovision(uid: string): void {
    const row = this.dashboardRows.get(uid);
    if (!row?.provisioning) return;
    const { provisioning: _dropped, ...rest } = row;
    this.dashboardRows.set(uid, rest);
  }

  /**
   * A library panel, as `POST /api/library-elements` creates it (CreateElement): the uid given or
   * a generated one, its `type` and `description` read from the model (syncFieldsWithModel), the
   * model kept as sent. Throws on a taken uid or
   * name in the same folder ("library element with that name or UID already exists").
   */
  createLibraryElement(input: { uid?: string; name: string; model: Record<string, unknown>; folderUid?: string }): LibraryElement {
    const uid = input.uid || shortUid(`library/${input.name}`);
    const folderUid = input.folderUid ?? '';
    if (this.libraryRows.has(uid) || this.libraryElements.some((e) => e.name === input.name && e.folderUid === folderUid)) {
      throw new Error('library element with that name or UID already exists');
    }
    const stamp = this.now().toISOString();
    const model = asRecord(input.model);
    const element: LibraryElement = {
      id: this.nextLibraryId++,
      uid,
      name: input.name,
      kind: 1,
      type: typeof model.type === 'string' ? model.type : '',
      description: typeof model.description === 'string' ? model.description : '',
      folderUid,
      model,
      version: 1,
      created: stamp,
      updated: stamp,
    };
    this.libraryRows.set(uid, element);
    return element;
  }
}
