/**
 * Grafana's dashboard HTTP API over its dashboard database (dashboard-store.ts), as 9.5 to 12.x
 * answer it:
 * - `GET /api/search` (pkg/api/search.go, pkg/services/search): `query` (title substring, case
 *   insensitive), `tag` (repeatable: every tag must match), `type` (`dash-db` | `dash-folder`),
 *   `dashboardIds`, `dashboardUIDs` (also the 9.x `dashboardUID`), `folderIds` (0: General),
 *   `folderUIDs` (`general` or empty: General), `starred`, `limit` (default 1000, above 5000:
 *   422 "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit"),
 *   `page` (from 1), `sort` (`alpha-asc`, `alpha-desc`). Hits are model.Hit: folder fields only
 *   for dashboards in a folder (`omitempty`), `slug` empty, `uri` `db/<slug>`; without `sort`,
 *   HitList order: folders first, then case-insensitive title.
 * - `GET /api/folders` (pkg/api/folder.go GetFolders): `[{id, uid, title}]` by title;
 *   `GET /api/folders/:uid`: the folder, or 404 `{"message":"folder not found","status":"not-found"}`
 *   (apierrors.ToFolderErrorResponse).
 * - `GET /api/dashboards/uid/:uid` (pkg/api/dashboard.go GetDashboard): `{dashboard, meta}` with
 *   the folder's uid, title and url (General: `folderTitle` "General", no uid), `provisioned`
 *   (a provisioned dashboard whose provider does not `allowUiUpdates`) and
 *   `provisionedExternalId` (the file's path relative to the provider's path); the JSON as
 *   stored, its `version` the row's. Unknown uid: getDashboardHelper's
 *   `response.Error(http.StatusNotFound, "Dashboard not found", err)` — the same words in 9.x,
 *   10.x, 11.x and 12.x. A dashboard Grafana 12 stores in schema v2 (saved by the new editor,
 *   feature toggle dashboardNewLayouts) is not served there: 406 `{"message":"dashboard api
 *   version not supported, use /apis/dashboard.grafana.app/<version>/namespaces/default/
 *   dashboards/<uid> instead"}` (as esnet/gdg#467 quotes 12.1; later releases down-convert it,
 *   grafana/mcp-grafana#937).
 * - `GET /api/library-elements/:uid` (pkg/services/libraryelements/api.go getHandler):
 *   `{"result": LibraryElementDTO}`; unknown: 404 "library element could not be found"
 *   (ErrLibraryElementNotFound). `POST /api/library-elements` creates one (createHandler).
 * - `POST /api/dashboards/db` (PostDashboard, dashboards service SaveDashboard): saves
 *   `{dashboard, folderUid, overwrite}` — uid from the model or generated, `version` + 1 —, and
 *   answers `{status: "success", slug, version, id, uid, url, folderUid}`. Refusals with the
 *   service's typed errors (pkg/services/dashboards/errors.go): an empty title 400 "Dashboard
 *   title cannot be empty"; an unknown folderUid 404 "Folder not found"; a provisioned dashboard
 *   whose provider does not allow UI updates 400 "Cannot save provisioned dashboard"; without
 *   `overwrite`, a `version` other than the stored one 412 `version-mismatch` and another dashboard of that title in
 *   the folder 412 `name-exists`; with `overwrite`, that other dashboard is replaced and keeps
 *   its uid (getExistingDashboardByTitleAndFolder).
 * - `DELETE /api/dashboards/uid/:uid` (deleteDashboard): `{title, message: "Dashboard <title>
 *   deleted", uid}`; a provisioned one 400 "provisioned dashboard cannot be deleted".
 * - `POST /api/folders` (CreateFolder): `{title, uid?}`; a title another folder has: 409
 *   "a folder or dashboard in the general folder with the same name already exists"
 *   (dashboards.ErrFolderSameNameExists of the folder service before nested folders).
 * Error bodies written by `response.Error` with an error carry `traceID` as the simulator's
 * other such answers do (`/api/ds/query`'s "Data source not found").
 */
import type { DashboardDatabase, Folder, LibraryElement, StoredDashboard } from './dashboard-store.js';
import { shortUid, slugify } from './dashboard-store.js';
import type { Reply } from './reply.js';
import { json } from './reply.js';

const MAX_LIMIT = 5000;
const DEFAULT_LIMIT = 1000;
const ZERO_TIME = '0001-01-01T00:00:00Z';

type Hit = Record<string, unknown> & { type: 'dash-db' | 'dash-folder'; title: string };

const folderUrl = (folder: Folder) => `/dashboards/f/${folder.uid}/${slugify(folder.title)}`;

function ints(values: readonly string[]): number[] {
  return values.map((v) => Number.parseInt(v, 10)).filter((n) => Number.isFinite(n));
}

export class DashboardApi {
  constructor(
    private readonly db: () => DashboardDatabase,
    private readonly adminUser: string,
  ) {}

  private folderHit(folder: Folder): Hit {
    const slug = slugify(folder.title);
    return { id: folder.id, uid: folder.uid, title: folder.title, uri: `db/${slug}`, url: folderUrl(folder), slug: '', type: 'dash-folder', tags: [], isStarred: false, sortMeta: 0 };
  }

  private dashboardHit(d: StoredDashboard): Hit {
    const folder = d.folderUid ? this.db().folder(d.folderUid) : undefined;
    return {
      id: d.id,
      uid: d.uid,
      title: d.title,
      uri: `db/${d.slug}`,
      url: `/d/${d.uid}/${d.slug}`,
      slug: '',
      type: 'dash-db',
      tags: [...d.tags],
      isStarred: false,
      ...(folder ? { folderId: folder.id, folderUid: folder.uid, folderTitle: folder.title, folderUrl: folderUrl(folder) } : {}),
      sortMeta: 0,
    };
  }

  search(params: URLSearchParams): Reply {
    const limitParam = Number.parseInt(params.get('limit') ?? '', 10);
    if (limitParam > MAX_LIMIT) {
      return json(422, { message: 'Limit is above maximum allowed (5000), use page parameter to access hits beyond limit' });
    }
    const dashboardIds = ints(params.getAll('dashboardIds'));
    const dashboardUids = params.getAll('dashboardUIDs').length > 0 ? params.getAll('dashboardUIDs') : params.getAll('dashboardUID');
    if (dashboardIds.length > 0 && dashboardUids.length > 0) return json(400, { message: 'search supports UIDs or IDs, not both' });
    const type = params.get('type') ?? '';
    const query = (params.get('query') ?? '').toLowerCase();
    const tags = params.getAll('tag');
    const folderIds = ints(params.getAll('folderIds'));
    const folderUids = params.getAll('folderUIDs').map((uid) => (uid === 'general' ? '' : uid));
    const db = this.db();
    const folderIdOf = (uid: string) => (uid ? (db.folder(uid)?.id ?? -1) : 0);

    let hits: Hit[] = [];
    if (params.get('starred') !== 'true') {
      // Folders have no tags and no folder of their own here: a tag or folder filter leaves them out.
      const folders = type === 'dash-db' || tags.length > 0 || folderIds.length > 0 || folderUids.length > 0 ? [] : db.folders;
      const dashboards = type === 'dash-folder' ? [] : db.dashboards;
      hits = [
        ...folders
          .filter((f) => f.title.toLowerCase().includes(query))
          .filter((f) => dashboardIds.length === 0 || dashboardIds.includes(f.id))
          .filter((f) => dashboardUids.length === 0 || dashboardUids.includes(f.uid))
          .map((f) => this.folderHit(f)),
        ...dashboards
          .filter((d) => d.title.toLowerCase().includes(query))
          .filter((d) => tags.every((tag) => d.tags.includes(tag)))
          .filter((d) => dashboardIds.length === 0 || dashboardIds.includes(d.id))
          .filter((d) => dashboardUids.length === 0 || dashboardUids.includes(d.uid))
          .filter((d) => folderIds.length === 0 || folderIds.includes(folderIdOf(d.folderUid)))
          .filter((d) => folderUids.length === 0 || folderUids.includes(d.folderUid))
          .map((d) => this.dashboardHit(d)),
      ];
    }
    const byTitle = (a: Hit, b: Hit) => {
      const x = a.title.toLowerCase();
      const y = b.title.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    };
    const sort = params.get('sort') ?? '';
    if (sort === 'alpha-desc') hits.sort((a, b) => byTitle(b, a));
    else if (sort === 'alpha-asc') hits.sort(byTitle);
    else hits.sort((a, b) => (a.type === b.type ? byTitle(a, b) : a.type === 'dash-folder' ? -1 : 1));
    const limit = limitParam > 0 ? limitParam : DEFAULT_LIMIT;
    const page = Math.max(1, Number.parseInt(params.get('page') ?? '', 10) || 1);
    return json(200, hits.slice((page - 1) * limit, page * limit));
  }

  folders(params: URLSearchParams): Reply {
    const limit = Number.parseInt(params.get('limit') ?? '', 10) || DEFAULT_LIMIT;
    const page = Math.max(1, Number.parseInt(params.get('page') ?? '', 10) || 1);
    const all = [...this.db().folders].sort((a, b) => (a.title.toLowerCase() < b.title.toLowerCase() ? -1 : 1));
    return json(200, all.slice((page - 1) * limit, page * limit).map((f) => ({ id: f.id, uid: f.uid, title: f.title })));
  }

  folder(uid: string): Reply {
    const folder = this.db().folder(uid);
    if (!folder) return json(404, { message: 'folder not found', status: 'not-found' });
    return json(200, {
      id: folder.id,
      uid: folder.uid,
      title: folder.title,
      url: folderUrl(folder),
      hasAcl: false,
      canSave: true,
      canEdit: true,
      canAdmin: true,
      canDelete: true,
      createdBy: 'Anonymous',
      created: folder.created,
      updatedBy: 'Anonymous',
      updated: folder.created,
      version: 1,
    });
  }

  byUid(uid: string): Reply {
    const db = this.db();
    const d = db.dashboard(uid);
    if (!d) return json(404, { message: 'Dashboard not found', traceID: '' });
    if (d.storedVersion?.startsWith('v2')) {
      return json(406, { message: `dashboard api version not supported, use /apis/dashboard.grafana.app/${d.storedVersion}/namespaces/default/dashboards/${d.uid} instead` });
    }
    const folder = d.folderUid ? db.folder(d.folderUid) : undefined;
    const provisioning = d.provisioning;
    const author = provisioning ? 'Anonymous' : this.adminUser;
    return json(200, {
      meta: {
        type: 'db',
        canSave: true,
        canEdit: true,
        canAdmin: true,
        canStar: true,
        canDelete: true,
        slug: d.slug,
        url: `/d/${d.uid}/${d.slug}`,
        expires: ZERO_TIME,
        created: d.created,
        updated: d.updated,
        updatedBy: author,
        createdBy: author,
        version: d.version,
        hasAcl: false,
        isFolder: false,
        folderId: folder?.id ?? 0,
        folderUid: folder?.uid ?? '',
        folderTitle: folder?.title ?? 'General',
        folderUrl: folder ? folderUrl(folder) : '',
        provisioned: provisioning !== undefined && !provisioning.allowUiUpdates,
        provisionedExternalId: provisioning ? relativePath(provisioning.providerPath, provisioning.externalId) : '',
        annotationsPermissions: {
          dashboard: { canAdd: true, canEdit: true, canDelete: true },
          organization: { canAdd: true, canEdit: true, canDelete: true },
        },
      },
      dashboard: d.data,
    });
  }

  /** POST /api/dashboards/db. */
  saveDashboard(body: string): Reply {
    let cmd: { dashboard?: unknown; folderUid?: unknown; overwrite?: unknown };
    try {
      cmd = JSON.parse(body) as typeof cmd;
    } catch {
      return json(400, { message: 'bad request data', traceID: '' });
    }
    const model = cmd.dashboard && typeof cmd.dashboard === 'object' && !Array.isArray(cmd.dashboard) ? { ...(cmd.dashboard as Record<string, unknown>) } : undefined;
    if (!model) return json(400, { message: 'bad request data', traceID: '' });
    const title = typeof model.title === 'string' ? model.title.trim() : '';
    if (!title) return json(400, { message: 'Dashboard title cannot be empty', traceID: '' });
    const db = this.db();
    const folderUid = typeof cmd.folderUid === 'string' ? cmd.folderUid : '';
    if (folderUid && !db.folder(folderUid)) return json(404, { message: 'Folder not found', traceID: '' });
    const overwrite = cmd.overwrite === true;
    let uid = typeof model.uid === 'string' && model.uid ? model.uid : '';
    const byUid = uid ? db.dashboard(uid) : undefined;
    const sameTitle = db.dashboards.find((d) => d.uid !== uid && d.folderUid === folderUid && d.title.toLowerCase() === title.toLowerCase());
    // Someone else wrote in between (a model without a version is version 0): refused unless overwriting.
    if (byUid && !overwrite && (Number(model.version) || 0) !== byUid.version) {
      return json(412, { status: 'version-mismatch', message: 'The dashboard has been changed by someone else' });
    }
    if (sameTitle && !overwrite) return json(412, { status: 'name-exists', message: 'A dashboard with the same name in the folder already exists' });
    if (!byUid && sameTitle) uid = sameTitle.uid;
    const existing = db.dashboard(uid);
    if (existing?.provisioning && !existing.provisioning.allowUiUpdates) return json(400, { message: 'Cannot save provisioned dashboard', traceID: '' });
    if (!uid) uid = shortUid(`dashboard/${folderUid}/${title}/${db.dashboards.length}`);
    delete model.id;
    const saved = db.saveDashboard({ ...model, title }, { uid, folderUid });
    return json(200, { status: 'success', slug: saved.slug, version: saved.version, id: saved.id, uid: saved.uid, url: `/d/${saved.uid}/${saved.slug}`, folderUid: saved.folderUid });
  }

  /** DELETE /api/dashboards/uid/:uid. */
  deleteDashboard(uid: string): Reply {
    const db = this.db();
    const d = db.dashboard(uid);
    if (!d) return json(404, { message: 'Dashboard not found', traceID: '' });
    if (d.provisioning && !d.provisioning.allowUiUpdates) return json(400, { message: 'provisioned dashboard cannot be deleted', traceID: '' });
    db.deleteDashboard(uid);
    return json(200, { title: d.title, message: `Dashboard ${d.title} deleted`, uid: d.uid });
  }

  /** POST /api/folders. */
  createFolder(body: string): Reply {
    let cmd: { title?: unknown; uid?: unknown };
    try {
      cmd = JSON.parse(body) as typeof cmd;
    } catch {
      return json(400, { message: 'bad request data', traceID: '' });
    }
    const title = typeof cmd.title === 'string' ? cmd.title.trim() : '';
    if (!title) return json(400, { message: 'folder title cannot be empty', traceID: '' });
    const db = this.db();
    if (db.folders.some((f) => f.title.toLowerCase() === title.toLowerCase())) return json(409, { message: 'a folder or dashboard in the general folder with the same name already exists', traceID: '' });
    const uid = typeof cmd.uid === 'string' ? cmd.uid : '';
    if (uid && db.folder(uid)) return json(409, { message: 'a folder with the same uid already exists', traceID: '' });
    return this.folder(db.createFolder(title, uid).uid);
  }

  private libraryDto(element: LibraryElement): Record<string, unknown> {
    const folder = element.folderUid ? this.db().folder(element.folderUid) : undefined;
    const user = { id: 1, name: this.adminUser, avatarUrl: '/avatar/46d229b033af06a191ff2267bca9ae56' };
    return {
      id: element.id,
      orgId: 1,
      folderId: folder?.id ?? 0,
      folderUid: element.folderUid,
      uid: element.uid,
      name: element.name,
      kind: element.kind,
      type: element.type,
      description: element.description,
      model: element.model,
      version: element.version,
      meta: {
        folderName: folder?.title ?? 'General',
        folderUid: element.folderUid,
        connectedDashboards: 0,
        created: element.created,
        updated: element.updated,
        createdBy: user,
        updatedBy: user,
      },
    };
  }

  libraryElement(uid: string): Reply {
    const element = this.db().libraryElement(uid);
    if (!element) return json(404, { message: 'library element could not be found', traceID: '' });
    return json(200, { result: this.libraryDto(element) });
  }

  /** POST /api/library-elements: `{uid?, folderUid?, name, model, kind: 1}`. */
  createLibraryElement(body: string): Reply {
    let input: { uid?: unknown; folderUid?: unknown; name?: unknown; model?: unknown; kind?: unknown };
    try {
      input = JSON.parse(body) as typeof input;
    } catch {
      return json(400, { message: 'bad request data', traceID: '' });
    }
    if (typeof input.name !== 'string' || input.name === '') return json(400, { message: 'bad request data', traceID: '' });
    try {
      const element = this.db().createLibraryElement({
        uid: typeof input.uid === 'string' ? input.uid : undefined,
        folderUid: typeof input.folderUid === 'string' ? input.folderUid : undefined,
        name: input.name,
        model: input.model && typeof input.model === 'object' ? (input.model as Record<string, unknown>) : {},
      });
      return json(200, { result: this.libraryDto(element) });
    } catch (error) {
      return json(400, { message: (error as Error).message, traceID: '' });
    }
  }
}

/** filepath.Rel for a file under its provider's path. */
function relativePath(base: string, file: string): string {
  const prefix = `${base.replace(/\/+$/, '')}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
