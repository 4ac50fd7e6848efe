/**
 * GET /api/search and GET /api/dashboards/uid/:uid over a fixed set of dashboards, all in the
 * General folder (so search hits carry no folder fields).
 */
import type { Reply } from './reply.js';
import { json } from './reply.js';

interface StoredDashboard {
  readonly id: number;
  readonly uid: string;
  readonly title: string;
  readonly slug: string;
  readonly tags: readonly string[];
  readonly model: Readonly<Record<string, unknown>>;
}

/** Grafana's slugify: lowercase, runs of other characters become one `-`. */
function slugify(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export class DashboardApi {
  private readonly dashboards: readonly StoredDashboard[];

  constructor(models: readonly object[]) {
    this.dashboards = models.map((raw, index) => {
      const model = raw as Record<string, unknown>;
      const id = index + 1;
      const uid = typeof model.uid === 'string' && model.uid !== '' ? model.uid : `dash${id}`;
      const title = typeof model.title === 'string' ? model.title : `Dashboard ${id}`;
      const tags = Array.isArray(model.tags) ? model.tags.filter((t): t is string => typeof t === 'string') : [];
      const stored = { ...model, id, uid, title, version: model.version ?? 1 };
      return { id, uid, title, slug: slugify(title), tags, model: stored };
    });
  }

  search(params: URLSearchParams): Reply {
    const types = params.getAll('type');
    const query = (params.get('query') ?? '').toLowerCase();
    const tags = params.getAll('tag');
    const uids = params.getAll('dashboardUIDs');
    const hits = types.length > 0 && !types.includes('dash-db')
      ? []
      : this.dashboards
          .filter((d) => d.title.toLowerCase().includes(query))
          .filter((d) => tags.every((tag) => d.tags.includes(tag)))
          .filter((d) => uids.length === 0 || uids.includes(d.uid))
          .sort((a, b) => a.title.toLowerCase().localeCompare(b.title.toLowerCase()));
    return json(
      200,
      hits.map((d) => ({
        id: d.id,
        uid: d.uid,
        title: d.title,
        uri: `db/${d.slug}`,
        url: `/d/${d.uid}/${d.slug}`,
        slug: '',
        type: 'dash-db',
        tags: d.tags,
        isStarred: false,
        sortMeta: 0,
      })),
    );
  }

  byUid(uid: string): Reply {
    const d = this.dashboards.find((candidate) => candidate.uid === uid);
    if (!d) return json(404, { message: 'Dashboard not found' });
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
        expires: '0001-01-01T00:00:00Z',
        created: '2025-01-01T00:00:00Z',
        updated: '2025-01-01T00:00:00Z',
        updatedBy: 'admin',
        createdBy: 'admin',
        version: d.model.version,
        hasAcl: false,
        isFolder: false,
        folderId: 0,
        folderUid: '',
        folderTitle: 'General',
        folderUrl: '',
        provisioned: false,
        provisionedExternalId: '',
      },
      dashboard: d.model,
    });
  }
}
