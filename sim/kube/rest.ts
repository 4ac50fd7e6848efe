/**
 * Reads of API objects: get, list (label and field selectors, `limit`/`continue` paging, Table
 * output for kubectl) and watch (newline-delimited JSON events, resume from a resourceVersion,
 * `410 Expired` when it is too old, `timeoutSeconds`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from './view.js';
import type { ObjectStore, StoreEvent, WatchEventType } from './store.js';
import { groupVersion, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { badRequest, expired, notFound } from './status.js';
import { sendJson, type ResponseOptions } from './http-util.js';
import { toTable, wantsTable } from './table.js';
import { printTable } from './printers.js';

/** The default watch duration when a client gives no timeoutSeconds (real servers: 30–60 min). */
const DEFAULT_WATCH_SECONDS = 1800;

/** The Table of objects of a type: its own printer (custom resources, EndpointSlices) or table.ts's. */
function table(type: ResourceType, objects: KubeObject[], listMeta: Record<string, string>, includeObject: string | null) {
  return printTable(type, objects, listMeta, includeObject) ?? toTable(type.kind, objects, listMeta, includeObject);
}

function withType(obj: KubeObject, type: ResourceType): KubeObject {
  return { ...obj, kind: type.kind, apiVersion: groupVersion(type) };
}

/** Objects of a type in scope (one namespace or all), filtered by the request's selectors. */
function selectObjects(store: ObjectStore, type: ResourceType, namespace: string | undefined, query: URLSearchParams) {
  let matchLabels: ReturnType<typeof parseLabelSelector>;
  let matchFields: ReturnType<typeof parseFieldSelector>;
  try {
    matchLabels = parseLabelSelector(query.get('labelSelector') ?? undefined);
    matchFields = parseFieldSelector(query.get('fieldSelector') ?? undefined);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  const inScope = (obj: KubeObject) => !type.namespaced || namespace === undefined || obj.metadata.namespace === namespace;
  const matches = (obj: KubeObject) => inScope(obj) && matchLabels(obj.metadata.labels) && matchFields(obj);
  return { objects: store.select(type.kind, type.namespaced ? namespace : undefined, matches), matches };
}

export function getObject(store: ObjectStore, type: ResourceType, namespace: string | undefined, name: string): KubeObject {
  const obj = store.get(type.kind, namespace, name);
  if (!obj) throw notFound(type.name, type.group, name);
  return withType(obj, type);
}

interface ContinueToken {
  rv: string;
  after: string;
}

const objectKey = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function decodeContinue(token: string | null): ContinueToken | undefined {
  if (!token) return undefined;
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data');
  }
}

/** One page of a list: items after the continue token, at most `limit`. */
function paginate(objects: KubeObject[], query: URLSearchParams, rv: string) {
  const token = decodeContinue(query.get('continue'));
  const start = token ? objects.filter((o) => objectKey(o) > token.after) : objects;
  const limit = Number(query.get('limit') ?? 0);
  if (!(limit > 0) || start.length <= limit) return { items: start, meta: { resourceVersion: token?.rv ?? rv } };
  const items = start.slice(0, limit);
  const next: ContinueToken = { rv: token?.rv ?? rv, after: objectKey(items[items.length - 1]) };
  return {
    items,
    meta: {
      resourceVersion: next.rv,
      continue: Buffer.from(JSON.stringify(next)).toString('base64url'),
      remainingItemCount: start.length - limit,
    },
  };
}

export function listObjects(
  store: ObjectStore,
  type: ResourceType,
  namespace: string | undefined,
  query: URLSearchParams,
  accept: string | undefined,
) {
  const { objects } = selectObjects(store, type, namespace, query);
  const { items, meta } = paginate(objects, query, store.resourceVersion);
  if (wantsTable(accept)) {
    const tableMeta = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, String(v)]));
    delete tableMeta.remainingItemCount;
    return table(type, items.map((o) => withType(o, type)), tableMeta, query.get('includeObject'));
  }
  const bare = items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest);
  return { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: meta, items: bare };
}

export function sendObject(
  res: ServerResponse,
  obj: KubeObject,
  accept: string | undefined,
  query: URLSearchParams,
  options: ResponseOptions,
  type?: ResourceType,
) {
  const meta = { resourceVersion: obj.metadata.resourceVersion ?? '' };
  const includeObject = query.get('includeObject');
  const body = wantsTable(accept) ? (type ? table(type, [obj], meta, includeObject) : toTable(obj.kind, [obj], meta, includeObject)) : obj;
  sendJson(res, 200, body, options);
}

/** The event a watcher sees: label transitions turn modifications into ADDED or DELETED. */
function translate(event: StoreEvent, matches: (o: KubeObject) => boolean): WatchEventType | undefined {
  const now = matches(event.object);
  if (event.type !== 'MODIFIED') return now ? event.type : undefined;
  const before = event.previous ? matches(event.previous) : false;
  if (now) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
}

/** Streams watch events until timeoutSeconds or the client goes away. */
export function watchObjects(
  store: ObjectStore,
  type: ResourceType,
  namespace: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  accept: string | undefined,
): void {
  const { objects, matches } = selectObjects(store, type, namespace, query);
  const asTable = wantsTable(accept);
  let first = true;
  /** Event objects as requested; a Table carries its column definitions in the first event only. */
  const encode = (obj: KubeObject) => {
    const typed = withType(obj, type);
    if (!asTable) return typed;
    const rows = table(type, [typed], { resourceVersion: obj.metadata.resourceVersion ?? '' }, query.get('includeObject'));
    if (!first) rows.columnDefinitions = [];
    first = false;
    return rows;
  };
  const ofType = (e: StoreEvent) => e.object.kind === type.kind;
  const rvParam = query.get('resourceVersion') ?? '';
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const send = (eventType: string, object: unknown) => res.write(JSON.stringify({ type: eventType, object }) + '\n');
  const forward = (e: StoreEvent) => {
    const t = ofType(e) ? translate(e, matches) : undefined;
    if (t) send(t, encode(e.object));
  };
  if (rvParam === '' || rvParam === '0') {
    for (const obj of objects) send('ADDED', encode(obj));
  } else {
    const replay = store.eventsSince(Number(rvParam));
    if (!replay) {
      send('ERROR', expired(Number(rvParam), store.oldestResourceVersion).status);
      res.end();
      return;
    }
    replay.forEach(forward);
  }
  const unsubscribe = store.watch(forward);
  const seconds = Number(query.get('timeoutSeconds') ?? DEFAULT_WATCH_SECONDS);
  const timer = setTimeout(() => res.end(), seconds * 1000);
  const stop = () => {
    unsubscribe();
    clearTimeout(timer);
  };
  res.on('close', stop);
  req.on('close', stop);
}
