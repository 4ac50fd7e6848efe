/**
 * Reasons: the typed contract between the checks and diagnosis. A check that fails or warns says
 * why as a code with the facts a probe needs (`datasource.url-mismatch` with the URL seen), so
 * diagnosis chooses its probes by code and never by the wording of a summary. The report carries
 * them too, for tools that read it.
 */
import type { SourceObject } from './stack/types.js';

/** Discovery left the component unknown (see the stack's Problem). */
interface DiscoveryReason {
  readonly code: 'discovery.not-found' | 'discovery.ambiguous' | 'discovery.unreadable';
  readonly component: 'prometheus' | 'grafana' | 'prometheus-service' | 'grafana-service' | 'datasource';
  readonly candidates?: readonly string[];
}

export type Reason =
  | DiscoveryReason
  // cluster-access
  | { readonly code: 'access.missing'; readonly missing: readonly string[] }
  | { readonly code: 'access.unreviewable' }
  // pods
  | { readonly code: 'pod.none'; readonly selector: string; readonly namespace: string }
  | { readonly code: 'pod.not-ready'; readonly pods: readonly string[]; readonly crashLooping?: string; readonly ready: number; readonly total: number }
  | { readonly code: 'pod.sidecar-not-ready'; readonly pod: string; readonly container: string }
  // prometheus-service
  | { readonly code: 'service.missing'; readonly namespace: string; readonly name: string }
  | { readonly code: 'service.no-port'; readonly namespace: string; readonly name: string; readonly port: string }
  | { readonly code: 'service.no-endpoints'; readonly namespace: string; readonly name: string; readonly notReady: number }
  // prometheus-targets
  | { readonly code: 'targets.none'; readonly job: string; readonly pools: readonly string[] }
  | { readonly code: 'targets.too-few'; readonly job: string; readonly up: number; readonly total: number }
  | { readonly code: 'targets.expected-missing'; readonly job: string; readonly missing: readonly string[]; readonly label: string }
  | { readonly code: 'targets.pools-down'; readonly pools: readonly string[] }
  | { readonly code: 'targets.pools-degraded'; readonly pools: readonly string[] }
  // prometheus-query
  | { readonly code: 'query.no-series'; readonly query: string }
  /** The newest sample of `selector` (one of the query's selectors) is `ageMs` old, more than `limitMs` (max-sample-age). */
  | { readonly code: 'query.stale'; readonly query: string; readonly selector: string; readonly ageMs: number; readonly limitMs: number }
  // grafana-api
  | { readonly code: 'grafana.database'; readonly database: string }
  // datasource-configmap
  | { readonly code: 'provisioning.nothing'; readonly dir: string }
  | { readonly code: 'provisioning.object-missing'; readonly object: SourceObject }
  | { readonly code: 'provisioning.unreadable'; readonly object: SourceObject }
  | { readonly code: 'provisioning.unlabelled'; readonly selector: string; readonly namespaces: readonly string[] }
  | { readonly code: 'provisioning.no-yaml'; readonly object: SourceObject }
  | { readonly code: 'provisioning.invalid'; readonly object: SourceObject; readonly file: string; readonly error: string }
  | { readonly code: 'provisioning.no-datasource'; readonly names: readonly string[]; readonly wanted?: string }
  | { readonly code: 'provisioning.type-mismatch'; readonly object: SourceObject; readonly datasource: string; readonly type: string }
  | { readonly code: 'provisioning.url-mismatch'; readonly object: SourceObject; readonly datasource: string; readonly url: string; readonly expected: string }
  | { readonly code: 'provisioning.service-missing'; readonly object: SourceObject; readonly datasource: string; readonly service: string }
  | { readonly code: 'provisioning.port-mismatch'; readonly object: SourceObject; readonly datasource: string; readonly service: string; readonly port: number }
  | { readonly code: 'provisioning.operator-failed'; readonly object: string; readonly condition: string }
  // datasource-mounted
  | { readonly code: 'mount.object-missing'; readonly object: SourceObject }
  | { readonly code: 'mount.not-mounted'; readonly object?: SourceObject; readonly dir: string }
  | { readonly code: 'mount.wrong-dir'; readonly object: SourceObject; readonly dir: string; readonly seen: readonly string[] }
  | { readonly code: 'mount.file-missing'; readonly path: string; readonly pod: string }
  | { readonly code: 'mount.file-differs'; readonly path: string; readonly pod: string; readonly object: SourceObject; readonly key: string }
  | { readonly code: 'mount.sidecar-down'; readonly pod: string; readonly container: string }
  | { readonly code: 'mount.spec-only'; readonly pod: string; readonly why: 'not-running' | 'exec-forbidden' }
  // grafana-datasource
  | { readonly code: 'datasource.not-listed'; readonly wanted?: string; readonly listed: readonly string[] }
  | { readonly code: 'datasource.type-mismatch'; readonly name: string; readonly type: string }
  | { readonly code: 'datasource.url-mismatch'; readonly name: string; readonly url: string; readonly expected: string }
  | { readonly code: 'datasource.unprovisioned'; readonly name: string }
  | { readonly code: 'datasource.vanished'; readonly name: string }
  // grafana-datasource-health, grafana-query
  | {
      readonly code: 'datasource.health-failed';
      readonly name: string;
      readonly message: string;
      readonly httpStatus: number;
      /** `query`: Grafana has no health check for the datasource (9.x Prometheus); the `1+1` query through Grafana failed. */
      readonly via?: 'query';
    }
  | { readonly code: 'grafana-query.error'; readonly message: string; readonly httpStatus: number }
  | { readonly code: 'grafana-query.no-data'; readonly query: string }
  // dashboards
  | {
      /** Panels failed: a datasource Grafana lacks, a variable without value, a query error, or no data on a named dashboard. */
      readonly code: 'dashboards.failed';
      readonly failed: number;
      readonly empty: number;
      /** The datasource references Grafana does not have. */
      readonly missingDatasources: readonly string[];
      /** Named entries of the dashboards input that match no dashboard. */
      readonly unmatched: readonly string[];
    }
  | { readonly code: 'dashboards.empty'; readonly empty: number; readonly notRun: number; /** Dashboards stored in schema v2, not checked. */ readonly schemaV2?: number }
  // an error that ended the attempt
  | {
      readonly code: 'grafana.auth';
      readonly status: 401 | 403;
      readonly message: string;
      /** Basic-auth credentials were sent and Grafana answered as if there were none: basic auth is disabled in Grafana. */
      readonly basicAuthIgnored?: boolean;
    }
  | { readonly code: 'error.kube'; readonly status: number; readonly reason: string }
  | { readonly code: 'error.proxy'; readonly status: number; readonly message: string }
  | { readonly code: 'error.http'; readonly status: number }
  | { readonly code: 'error.network'; readonly network: string }
  | { readonly code: 'error.timeout' }
  | { readonly code: 'error.other' };

export type ReasonCode = Reason['code'];

/** The reason's facts, narrowed by code. */
export type ReasonOf<C extends ReasonCode> = Extract<Reason, { code: C }>;

/** Whether `reason` has one of the codes (and narrows it). */
export function isReason<C extends ReasonCode>(reason: Reason | undefined, ...codes: C[]): reason is ReasonOf<C> {
  return reason !== undefined && (codes as string[]).includes(reason.code);
}

/** A network failure of the kind that means "Grafana cannot reach Prometheus" in a datasource error. */
export function isConnectionMessage(message: string): boolean {
  return /connection refused|no such host|lookup |dial tcp|i\/o timeout|timeout|deadline|EOF|connection reset|Bad Gateway|Service Unavailable|HTTP 502|HTTP 503|HTTP 504|no route to host|network is unreachable|certificate/i.test(
    message,
  );
}
