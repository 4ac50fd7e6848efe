/**
 * The shared vocabulary of metrics-flow-check: settings, check ids, check results and the report.
 * Every other module depends on these types; they depend only on the reasons' type.
 */
import type { Reason } from './reasons.js';

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
  'dashboards',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

export type AccessMode = 'proxy' | 'port-forward' | 'direct';

/** The stacks the action recognises; each sets its own defaults and speaks its own words in hints. */
export const STACK_KINDS = ['taskflow', 'kube-prometheus', 'kube-prometheus-stack', 'generic'] as const;
export type StackKind = (typeof STACK_KINDS)[number];

/** A Service reference `[namespace/]name:port`; the port is a number or a port name. */
export interface ServiceRef {
  /** Absent: the namespace the component was found in (or the `namespace` input). */
  readonly namespace?: string;
  readonly name: string;
  readonly port: string;
}

/** The object that provisions the datasource, as the `datasource-configmap` input names it. */
export interface ObjectChoice {
  /** Absent (a bare `NAME`): a ConfigMap of that name, else a Secret. */
  readonly kind?: 'ConfigMap' | 'Secret';
  readonly name: string;
}

/** Where Grafana's admin credentials may come from when no password or token is given. */
export type CredentialsChoice =
  | { readonly mode: 'auto' }
  | { readonly mode: 'none' }
  | { readonly mode: 'secret'; readonly name: string; readonly userKey: string; readonly passwordKey: string };

/**
 * Which Grafana dashboards the `dashboards` check runs: every one, none, or those the user names
 * by uid, tag or folder (a dashboard matching any of them is named).
 */
export type DashboardsChoice =
  | { readonly mode: 'all' }
  | { readonly mode: 'none' }
  | { readonly mode: 'named'; readonly uids: readonly string[]; readonly tags: readonly string[]; readonly folders: readonly string[] };

/**
 * Every contract input, parsed and validated once. Optional fields are the ones discovery fills
 * in when the input is empty (`undefined` = not given); durations are in milliseconds.
 */
export interface Settings {
  /** Kubeconfig YAML (already decoded from base64 when needed); empty: default loading rules. */
  readonly kubeconfig: string;
  /** A kubeconfig file to load as a file (the CLI's `--kubeconfig PATH`): its relative paths are its directory's. */
  readonly kubeconfigFile?: string;
  readonly context: string;
  /** `auto`: recognised from what is in the cluster. */
  readonly stack: 'auto' | StackKind;
  readonly namespace?: string;
  readonly prometheusService?: ServiceRef;
  readonly prometheusSelector?: string;
  readonly grafanaService?: ServiceRef;
  readonly grafanaSelector?: string;
  readonly grafanaUsername?: string;
  readonly grafanaPassword: string;
  readonly grafanaToken: string;
  readonly grafanaCredentials: CredentialsChoice;
  readonly datasourceObject?: ObjectChoice;
  readonly datasourceMountPath?: string;
  readonly datasourceName?: string;
  readonly datasourceUrl?: string;
  /** `undefined`: the stack's default; `''` cannot be given (empty is the default). */
  readonly scrapeJob?: string;
  /** `undefined`: the stack's default; `[]`: none required (the input `none`). */
  readonly expectedTargets?: readonly string[];
  readonly targetLabel?: string;
  readonly minTargetsUp: number;
  /** Globs on scrape pool, job or instance whose DOWN targets are listed but neither fail nor warn. */
  readonly allowDownTargets: readonly string[];
  readonly query?: string;
  /**
   * The newest sample of `query` must be younger than this; `0`: not checked; undefined: three
   * scrape intervals of the job, read from Prometheus's configuration.
   */
  readonly maxSampleAgeMs?: number;
  readonly waitMs: number;
  readonly requestTimeoutMs: number;
  readonly access: AccessMode;
  readonly prometheusUrl: string;
  readonly grafanaUrl: string;
  /**
   * The path prefix Prometheus serves its HTTP API under (`--web.route-prefix`), e.g. `/prometheus`;
   * `''`: the root (the input `/`); undefined: discovered from the pod (else the root).
   */
  readonly prometheusPath?: string;
  /** The sub-path Grafana serves from (`serve_from_sub_path` with root_url …/grafana/), e.g. `/grafana`; as prometheusPath. */
  readonly grafanaPath?: string;
  readonly skipChecks: readonly CheckId[];
  readonly failOnWarning: boolean;
  readonly reportPath: string;
  /** Also write the report as JUnit XML to this file; empty: not written. */
  readonly junitPath: string;
  /** Glob(s) of the user's Kubernetes YAML files, to point hints at a file and line; empty: none. */
  readonly manifests: string;
  /** The dashboards the `dashboards` check runs. */
  readonly dashboards: DashboardsChoice;
}

/** The report's view of the stack: its kind, the line that says what was found, and the details. */
export interface StackSummary {
  readonly kind: StackKind;
  readonly summary: string;
  readonly [key: string]: unknown;
}

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** A DOWN (or never scraped) Prometheus target, shown in the summary with its last error. */
export interface TargetInfo {
  /** The value of the target label (app, app.kubernetes.io/name, …) that names the target. */
  readonly app: string;
  readonly pool?: string;
  readonly job?: string;
  readonly instance: string;
  readonly health: string;
  readonly lastError: string;
  readonly scrapeUrl: string;
  /** DOWN, and matched by allow-down-targets: listed, not counted. */
  readonly allowed?: true;
}

/** One panel of a dashboard, as the `dashboards` check judged it (a JUnit test case each). */
export interface PanelResult {
  /** The panel's id in the dashboard JSON (library panels: the id of the panel that uses it). */
  readonly id: number;
  readonly title: string;
  readonly status: 'pass' | 'fail' | 'warn';
  /** The queries that ran (template variables resolved), by refId. */
  readonly queries: readonly { readonly refId: string; readonly expr: string; readonly series: number }[];
  /** For fail/warn: what is wrong ("no data", "Datasource abc was not found", the query's error). */
  readonly problem?: string;
  /** What is wrong, typed (what the check decides on; `problem` says it in words). */
  readonly kind?: PanelProblemKind;
  /** For `datasource-not-found`: the datasource the panel names, as it names it. */
  readonly datasource?: string;
  /** For fail/warn: the likely cause found (the job that should export the metric and its health, …). */
  readonly cause?: string;
}

/**
 * What is wrong with a panel: `no-data` (its queries returned no series), `allowed-no-data` (none,
 * because of targets allow-down-targets lets be DOWN: a pass), `datasource-not-found`,
 * `no-default-datasource`, `library-panel` (one Grafana does not have), `unresolved-variable`,
 * `query-error`, `not-run` (the time budget ran out).
 */
export type PanelProblemKind = 'no-data' | 'allowed-no-data' | 'datasource-not-found' | 'no-default-datasource' | 'library-panel' | 'unresolved-variable' | 'query-error' | 'not-run';

/** What is wrong with a dashboard as a whole: `not-in-grafana` (provisioned, not listed), `unreadable`, `not-run`. */
export type DashboardProblemKind = 'not-in-grafana' | 'unreadable' | 'not-run' | 'schema-v2';

/** One dashboard the `dashboards` check ran. */
/** How a stack provisions a dashboard into Grafana. */
export type DashboardProvisioner = 'file' | 'sidecar' | 'grafana-operator';

export interface DashboardResult {
  readonly uid: string;
  readonly title: string;
  readonly folder?: string;
  /** True when the user named it in the `dashboards` input (an empty panel then fails). */
  readonly named: boolean;
  readonly status: 'pass' | 'fail' | 'warn';
  /** Where it is provisioned from (a ConfigMap, a file), when known. */
  readonly source?: string;
  /** The file and line in `manifests` that holds its JSON, when covered. */
  readonly file?: string;
  readonly line?: number;
  /** What is wrong with the dashboard as a whole (it could not be read, it did not run in time). */
  readonly problem?: string;
  readonly kind?: DashboardProblemKind;
  /** For one not in Grafana: how the stack provisions it (a mounted file, the dashboard sidecar, grafana-operator). */
  readonly provisioner?: DashboardProvisioner;
  /** Why: for one not in Grafana, when the provisioner says (grafana-operator's status conditions); for one not checked, Grafana's words. */
  readonly cause?: string;
  readonly panels: readonly PanelResult[];
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
  /** The dashboards and panels that ran, for `dashboards`. */
  readonly dashboards?: readonly DashboardResult[];
  /** False when waiting cannot change the outcome (e.g. RBAC refusal): the runner stops retrying. */
  readonly retryable?: boolean;
  /** For fail/warn: why, as a code with its facts (what diagnosis keys on). */
  readonly reason?: Reason;
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
  readonly dashboards?: readonly DashboardResult[];
  readonly reason?: Reason;
  readonly diagnosis?: CheckDiagnosis;
}

export interface Report {
  readonly result: 'passed' | 'failed';
  readonly durationMs: number;
  readonly startedAt: string;
  /** The stack that was checked (see src/stack/describe.ts). */
  readonly stack: StackSummary;
  /** The namespace of Prometheus (and Grafana's, when they share it): for the summary's count line. */
  readonly namespace: string;
  readonly access: AccessMode;
  readonly counts: { readonly passed: number; readonly failed: number; readonly warnings: number; readonly skipped: number };
  readonly failedChecks: readonly CheckId[];
  readonly checks: readonly CheckResult[];
  readonly rootCause?: RootCause;
}
