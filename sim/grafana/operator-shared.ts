/**
 * What grafana-operator's controllers share (controllers/controller_shared.go): status conditions
 * as meta.SetStatusCondition writes them, instance selection, the generated client's error text,
 * and the context each controller of the simulated operator runs in.
 */
import type { ObjectStore } from '../kube/store.js';
import type { KubeObject } from '../kube/view.js';
import type { PodHttpResult } from './pod-http.js';

export interface Condition {
  type: string;
  status: 'True' | 'False';
  observedGeneration: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface SecretKeyRef {
  name?: string;
  key?: string;
}

export interface Credentials {
  basic?: { user: string; password: string };
  apiKey?: string;
}

export type Json = Record<string, unknown>;

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export function specOf(obj: KubeObject): Json {
  return (obj.spec ?? {}) as Json;
}

export function statusOf(obj: KubeObject): Json {
  return (obj.status ?? {}) as Json;
}

/** meta.SetStatusCondition: replaces the condition of that type, keeping its transition time when unchanged. */
export function setCondition(conditions: Condition[], next: Omit<Condition, 'lastTransitionTime'>): Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = existing && existing.status === next.status ? existing.lastTransitionTime : now();
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
}

export function removeCondition(conditions: Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** client.MatchingLabels plus labelsSatisfyMatchExpressions. */
export function selects(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const exists = expr.key in have;
    const value = have[expr.key];
    const ok =
      expr.operator === 'Exists'
        ? exists
        : expr.operator === 'DoesNotExist'
          ? !exists
          : expr.operator === 'In'
            ? exists && (expr.values ?? []).includes(value!)
            : expr.operator === 'NotIn'
              ? !exists || !(expr.values ?? []).includes(value!)
              : false;
    if (!ok) return false;
  }
  return true;
}

/** go-swagger's error text: `[POST /datasources][409] addDataSourceConflict {"message":"…"}`. */
export function swaggerError(method: string, path: string, operation: string, status: number, body: string): string {
  const suffix: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    412: 'PreconditionFailed',
    422: 'UnprocessableEntity',
    500: 'InternalServerError',
  };
  let payload = '{}';
  try {
    const parsed = JSON.parse(body) as Json;
    const fields: Json = {};
    if (parsed.error) fields.error = parsed.error;
    fields.message = parsed.message ?? null;
    if (parsed.status) fields.status = parsed.status;
    payload = JSON.stringify(fields);
  } catch {
    // not JSON: the generated client reports an empty payload
  }
  const name = suffix[status];
  if (!name) return `[${method} ${path}][${status}] ${operation} (status ${status}): ${payload}`;
  return `[${method} ${path}][${status}] ${operation}${name} ${payload}`;
}

/** A Go duration (`10m0s`, `30s`, `1h`) in milliseconds; undefined when empty or invalid. */
export function parseDuration(text: string): number | undefined {
  if (!text) return undefined;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}


/** The object's finalizer (controllers/controller_shared.go grafanaFinalizer). */
export const FINALIZER = 'operator.grafana.com/finalizer';
export const NO_MATCHING_INSTANCE = 'NoMatchingInstance';

export function conditionsOf(status: Json): Condition[] {
  return (status.conditions ?? []) as Condition[];
}

/** setNoMatchingInstancesCondition, with `synchronized` (the kind's sync condition) and Suspended removed. */
export function noMatchingInstance(status: Json, generation: number, synchronized: string): Json {
  return {
    ...status,
    NoMatchingInstances: true,
    lastResync: now(),
    conditions: removeCondition(
      setCondition(removeCondition(conditionsOf(status), 'Suspended'), {
        type: NO_MATCHING_INSTANCE,
        status: 'True',
        observedGeneration: generation,
        reason: 'EmptyAPIReply',
        message: 'None of the available Grafana instances matched the selector, skipping reconciliation',
      }),
      synchronized,
    ),
  };
}

/** buildSynchronizedCondition: ApplySuccessful or ApplyFailed, with the operator's message. */
export function synchronizedCondition(resource: 'Dashboard' | 'Datasource', type: string, generation: number, errors: ReadonlyMap<string, string>, total: number): Omit<Condition, 'lastTransitionTime'> {
  return errors.size === 0
    ? { type, status: 'True', observedGeneration: generation, reason: 'ApplySuccessful', message: `${resource} was successfully applied to ${total} instances` }
    : {
        type,
        status: 'False',
        observedGeneration: generation,
        reason: 'ApplyFailed',
        message: `${resource} failed to be applied for ${errors.size} out of ${total} instances. Errors:${[...errors].map(([k, v]) => `\n- ${k}: ${v}`).join('')}`,
      };
}

/** The metadata with the finalizer added (the first successful sync). */
export function withFinalizer(obj: KubeObject): KubeObject['metadata'] {
  const finalizers = (obj.metadata.finalizers ?? []) as string[];
  return finalizers.includes(FINALIZER) ? obj.metadata : { ...obj.metadata, finalizers: [...finalizers, FINALIZER] };
}

/** What a controller of the simulated operator works with. */
export interface OperatorContext {
  readonly store: ObjectStore;
  readonly resyncMs: number;
  readonly retryMs: number;
  log(level: 'info' | 'error', msg: string, fields?: Json): void;
  /** Runs the job after `ms`, on the operator's queue. */
  later(ms: number, job: () => Promise<void>): void;
  /** Ready Grafana objects the resource's instanceSelector selects, in its scope. */
  matchingInstances(cr: KubeObject): KubeObject[];
  credentialsOf(grafana: KubeObject): Credentials | string;
  send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, credentials: Credentials, body?: unknown): Promise<PodHttpResult>;
  /** Writes a new status (and optionally metadata) over the latest version of the object. */
  writeStatus(kind: string, ns: string | undefined, name: string, update: (status: Json, obj: KubeObject) => Json, meta?: (obj: KubeObject) => KubeObject['metadata']): void;
}
