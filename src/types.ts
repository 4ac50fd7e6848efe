/**
 * The shared vocabulary of metrics-flow-check: settings, check ids, check results and the report.
 * Every other module depends on these types; none of them depends on a module.
 */

/** Check ids, in the contract's table order. They are stable: users name them in `skip-checks`. */
export const CHECK_IDS = [
  'cluster-access',
  'prometheus-pod',
  'grafana-pod',
  'prometheus-service',
  'prometheus-api',
  'prometheus-targets',
  'prometheus-query',
  'grafana-api',
  'datasource-configmap',
  'datasource-mounted',
  'grafana-datasource',
  'grafana-datasource-health',
  'grafana-query',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

export type AccessMode = 'proxy' | 'port-forward' | 'direct';

/** A Service reference `name:port`; the port is a number or a port name. */
export interface ServiceRef {
  readonly name: string;
  readonly port: string;
}

/** Every contract input, parsed and validated once. Durations are in milliseconds. */
export interface Settings {
  /** Kubeconfig YAML (already decoded from base64 when needed); empty: default loading rules. */
  readonly kubeconfig: string;
  readonly context: string;
  readonly namespace: string;
  readonly prometheusService: ServiceRef;
  readonly prometheusSelector: string;
  readonly grafanaService: ServiceRef;
  readonly grafanaSelector: string;
  readonly grafanaUsername: string;
  readonly grafanaPassword: string;
  readonly grafanaToken: string;
  readonly datasourceConfigmap: string;
  readonly datasourceMountPath: string;
  readonly datasourceName: string;
  /** Expected datasource URL, with the contract's default already filled in. */
  readonly datasourceUrl: string;
  readonly scrapeJob: string;
  readonly expectedTargets: readonly string[];
  readonly minTargetsUp: number;
  readonly query: string;
  readonly waitMs: number;
  readonly requestTimeoutMs: number;
  readonly access: AccessMode;
  readonly prometheusUrl: string;
  readonly grafanaUrl: string;
  readonly skipChecks: readonly CheckId[];
  readonly failOnWarning: boolean;
  readonly reportPath: string;
  /** Glob(s) of the user's Kubernetes YAML files, to point hints at a file and line; empty: none. */
  readonly manifests: string;
}

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** A DOWN (or never scraped) Prometheus target, shown in the summary with its last error. */
export interface TargetInfo {
  readonly app: string;
  readonly instance: string;
  readonly health: string;
  readonly lastError: string;
  readonly scrapeUrl: string;
}

/** What a check's single attempt decided. */
export interface CheckOutcome {
  readonly status: 'pass' | 'fail' | 'warn';
  /** What was seen, one sentence. */
  readonly summary: string;
  /** For fail/warn: the likely cause and the fix. */
  readonly hint?: string;
  /** Extra facts for the report (no secrets). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** DOWN targets, for `prometheus-targets`. */
  readonly downTargets?: readonly TargetInfo[];
  /** False when waiting cannot change the outcome (e.g. RBAC refusal): the runner stops retrying. */
  readonly retryable?: boolean;
}

/** A failing fact found by diagnosis, with its fix and where to make it. */
export interface ReportedFinding {
  readonly cause: string;
  readonly fix: string;
  readonly evidence?: readonly string[];
  /** The Kubernetes object to change, e.g. `ConfigMap taskflow/grafana-datasources`. */
  readonly object?: string;
  /** The file and line in the `manifests` input where the change goes. */
  readonly file?: string;
  readonly line?: number;
}

export interface CheckDiagnosis {
  readonly findings: readonly ReportedFinding[];
  /** Diagnoses that could not be made, and why. */
  readonly notes: readonly string[];
}

/** The most upstream failing fact of a failed run, said first. */
export interface RootCause extends ReportedFinding {
  readonly checkId: CheckId;
}

/** The final word on one check, as reported. */
export interface CheckResult {
  readonly id: CheckId;
  readonly title: string;
  readonly status: CheckStatus;
  readonly summary: string;
  readonly hint?: string;
  readonly durationMs: number;
  readonly attempts: number;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly downTargets?: readonly TargetInfo[];
  readonly diagnosis?: CheckDiagnosis;
}

export interface Report {
  readonly result: 'passed' | 'failed';
  readonly durationMs: number;
  readonly startedAt: string;
  readonly namespace: string;
  readonly access: AccessMode;
  readonly counts: { readonly passed: number; readonly failed: number; readonly warnings: number; readonly skipped: number };
  readonly failedChecks: readonly CheckId[];
  readonly checks: readonly CheckResult[];
  readonly rootCause?: RootCause;
}
