/**
 * Dashboard provisioning from files, as Grafana does it at start-up and on
 * `POST /api/admin/provisioning/dashboards/reload` (pkg/services/provisioning/dashboards):
 * - config_reader.go: every `*.yaml`/`*.yml` directly under `<provisioning>/dashboards`, in
 *   file-name order; `apiVersion: 1` files list `providers:`, older ones are a bare list with
 *   snake_case keys (`org_id`, `disable_deletion`); `$VAR`/`${VAR}` expanded from the
 *   container's environment; a provider without `options.path` is an error for that file.
 * - file_reader.go: each `type: file` provider walks `options.path` (directories whose name starts
 *   with `.` are skipped — the `..data` links of a ConfigMap volume), takes every `*.json` file,
 *   and saves it into the provider's folder (`folder` by title, created with `folderUid` when
 *   missing; empty: General) — or, with `foldersFromFilesStructure`, into a folder named after
 *   the file's directory under the path (files at the top level go to General). A file whose
 *   JSON does not parse, or whose dashboard has no title, is logged (`failed to load dashboard
 *   from`) and skipped; a file that did not change (same checksum) is not saved again; a uid a
 *   file of the same provider already used is skipped with a warning. Dashboards the provider
 *   saved earlier whose file is gone are deleted — or, with `disableDeletion`, only unprovisioned.
 * Not modelled: the `updateIntervalSeconds` polling (files change here only through the reload
 * call the dashboard sidecar makes), nested folders from deep directory structures (the relative
 * directory is one folder title), and the `orgId` of other organisations.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { parseDocument } from 'yaml';
import type { DashboardDatabase, StoredDashboard } from './dashboard-store.js';
import { shortUid } from './dashboard-store.js';
import type { LogSink } from './logfmt.js';
import { asBool as bool, asInt, asRecord, asString as str } from './provisioning.js';

export interface DashboardProvider {
  readonly name: string;
  readonly orgId: number;
  readonly type: string;
  readonly folder: string;
  readonly folderUid: string;
  readonly disableDeletion: boolean;
  readonly allowUiUpdates: boolean;
  readonly path: string;
  readonly foldersFromFilesStructure: boolean;
  /** The provider file it came from. */
  readonly file: string;
}

const LOGGER = 'provisioning.dashboard';

function providerFiles(files: ReadonlyMap<string, string>, directory: string): [string, string][] {
  const prefix = `${directory.replace(/\/+$/, '')}/`;
  return [...files.entries()]
    .filter(([path]) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/'))
    .filter(([path]) => path.endsWith('.yaml') || path.endsWith('.yml'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Reads the providers the files declare; a file that cannot be read is logged and contributes none. */
export function readDashboardProviders(files: ReadonlyMap<string, string>, directory: string, env: ReadonlyMap<string, string>, log: LogSink): DashboardProvider[] {
  const providers: DashboardProvider[] = [];
  for (const [file, content] of providerFiles(files, directory)) {
    const document = parseDocument(content);
    if (document.errors.length > 0) {
      log(LOGGER, 'error', 'Failed to read dashboard provisioning config', { file, error: document.errors[0]!.message.split('\n')[0]! });
      continue;
    }
    const root = document.toJS() as unknown;
    const v1 = !Array.isArray(root) && typeof asRecord(root).apiVersion === 'number' && (asRecord(root).apiVersion as number) > 0;
    const list = (v1 ? asRecord(root).providers : root) as unknown;
    const entries = Array.isArray(list) ? list.map(asRecord) : [];
    const key = (camel: string, snake: string) => (v1 ? camel : snake);
    const parsed: DashboardProvider[] = [];
    let failed: string | undefined;
    for (const raw of entries) {
      const options = asRecord(raw.options);
      const path = str(options.path, env);
      const name = str(raw.name, env);
      if (path === '') {
        failed = `failed to load dashboards from ${name}: path is required`;
        break;
      }
      parsed.push({
        name,
        orgId: asInt(raw[key('orgId', 'org_id')], env) || 1,
        type: str(raw.type, env) || 'file',
        folder: str(raw.folder, env),
        folderUid: str(raw[key('folderUid', 'folder_uid')], env),
        disableDeletion: bool(raw[key('disableDeletion', 'disable_deletion')], env),
        allowUiUpdates: bool(raw[key('allowUiUpdates', 'allow_ui_updates')], env),
        path,
        foldersFromFilesStructure: bool(options.foldersFromFilesStructure, env),
        file,
      });
    }
    if (failed) {
      log(LOGGER, 'error', 'Failed to read dashboard provisioning config', { file, error: failed });
      continue;
    }
    providers.push(...parsed);
  }
  return providers;
}

/** The `*.json` files under a provider's path (hidden directories skipped), in path order. */
function dashboardFiles(files: ReadonlyMap<string, string>, path: string): [string, string][] {
  const prefix = `${path.replace(/\/+$/, '')}/`;
  return [...files.entries()]
    .filter(([file]) => file.startsWith(prefix) && file.endsWith('.json'))
    .filter(([file]) => !file.slice(prefix.length).split('/').slice(0, -1).some((dir) => dir.startsWith('.')))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface ProvisionedDashboardsResult {
  /** What each provider saved, by uid. */
  readonly saved: readonly StoredDashboard[];
}

/**
 * Provisions every file provider's dashboards into the database (provisionDashboards, per
 * provider FileReader.walkDisk), logging as Grafana does.
 */
export function provisionDashboards(
  db: DashboardDatabase,
  files: ReadonlyMap<string, string>,
  directory: string,
  env: ReadonlyMap<string, string>,
  log: LogSink,
): ProvisionedDashboardsResult {
  const saved: StoredDashboard[] = [];
  const providers = readDashboardProviders(files, directory, env, log).filter((p) => p.orgId === 1);
  for (const provider of providers) {
    if (provider.type !== 'file') {
      log(LOGGER, 'error', 'Failed to load dashboards', { type: provider.type, name: provider.name, error: `type ${provider.type} is not supported` });
      continue;
    }
    const seen = new Set<string>();
    const found = new Set<string>();
    for (const [file, content] of dashboardFiles(files, provider.path)) {
      found.add(file);
      let model: Record<string, unknown>;
      try {
        model = asRecord(JSON.parse(content));
      } catch (error) {
        log(LOGGER, 'error', 'failed to load dashboard from ', { type: 'file', name: provider.name, file, error: (error as Error).message });
        continue;
      }
      if (typeof model.title !== 'string' || model.title.trim() === '') {
        log(LOGGER, 'error', 'failed to load dashboard from ', { type: 'file', name: provider.name, file, error: 'Dashboard title cannot be empty' });
        continue;
      }
      const checkSum = createHash('sha256').update(content).digest('hex');
      const uid = typeof model.uid === 'string' && model.uid !== '' ? model.uid : shortUid(`${provider.name}:${file}`);
      if (seen.has(uid)) {
        log(LOGGER, 'warn', 'the same UID is used more than once', { type: 'file', name: provider.name, uid, times: 2, providers: provider.name });
        continue;
      }
      seen.add(uid);
      const existing = db.dashboard(uid);
      if (existing && existing.provisioning && existing.provisioning.provider !== provider.name) {
        log(LOGGER, 'warn', 'dashboard with the same uid is provisioned by another provider', { type: 'file', name: provider.name, uid, file });
        continue;
      }
      if (existing?.provisioning?.checkSum === checkSum && existing.provisioning.externalId === file) {
        saved.push(existing);
        continue;
      }
      const relativeDir = posix.relative(provider.path.replace(/\/+$/, ''), posix.dirname(file));
      const folderTitle = provider.foldersFromFilesStructure ? (relativeDir === '' ? '' : relativeDir) : provider.folder;
      const folderUid = folderTitle === '' ? '' : (db.folderByTitle(folderTitle) ?? db.createFolder(folderTitle, provider.foldersFromFilesStructure ? '' : provider.folderUid)).uid;
      const { id: _ignored, ...withoutId } = model;
      saved.push(
        db.saveDashboard(withoutId, {
          uid,
          folderUid,
          provisioning: { provider: provider.name, externalId: file, providerPath: provider.path, allowUiUpdates: provider.allowUiUpdates, checkSum },
        }),
      );
    }
    // Dashboards this provider saved before whose file is gone (handleMissingDashboardFiles).
    for (const stale of db.dashboards.filter((d) => d.provisioning?.provider === provider.name && !found.has(d.provisioning.externalId))) {
      if (provider.disableDeletion) db.unprovision(stale.uid);
      else db.deleteDashboard(stale.uid);
    }
  }
  // Dashboards of providers no file declares any more (CleanUpOrphanedDashboards).
  const names = new Set(providers.map((p) => p.name));
  for (const orphan of db.dashboards.filter((d) => d.provisioning && !names.has(d.provisioning.provider))) db.deleteDashboard(orphan.uid);
  log(LOGGER, 'info', 'finished to provision dashboards');
  return { saved };
}
