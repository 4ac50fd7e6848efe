/**
 * Diagnosis: when a check fails, read-only probes find out why, the way the seed guide's
 * troubleshooting section does by hand, and say it as findings — the failing fact, its fix, the
 * evidence, and the Kubernetes object (and, with the `manifests` input, the file and line) to fix.
 */
import type { Cluster } from '../cluster.js';
import type { GrafanaClient } from '../grafana.js';
import type { PrometheusClient } from '../prometheus.js';
import type { Stack } from '../stack/types.js';
import type { CheckId, CheckResult, Settings } from '../types.js';

/** A Kubernetes object, as hints name it: `ConfigMap taskflow/grafana-datasources`. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/**
 * Where in an object the fix goes, for finding the line in the user's manifests: a path of keys
 * and indexes (`['spec','template','spec','containers',0,'volumeMounts']`), optionally a key of
 * an embedded YAML document (a ConfigMap's `datasources.yaml`) and a path inside it.
 */
export interface ObjectPath {
  readonly object: ObjectRef;
  readonly path?: readonly (string | number)[];
  /** Inside the string at `path` (a ConfigMap data value holding YAML): this path. */
  readonly embedded?: readonly (string | number)[];
}

export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
}

export interface Finding {
  /** The failing fact, one sentence: `ConfigMap taskflow/grafana-datasources does not exist`. */
  readonly cause: string;
  /** What to do about it. */
  readonly fix: string;
  /** Facts that support it: quoted log lines, probe answers. */
  readonly evidence?: readonly string[];
  /** What to change; the manifests locator turns it into a file and line. */
  readonly target?: ObjectPath;
  /** Filled in from the `manifests` input when the target is found there. */
  readonly location?: SourceLocation;
}

export interface Diagnosis {
  readonly checkId: CheckId;
  /** Most telling first. */
  readonly findings: readonly Finding[];
  /** Diagnoses that could not be made, and why (`Grafana's logs: forbidden (get pods/log)`). */
  readonly notes: readonly string[];
}

export interface DiagnoseContext {
  readonly settings: Settings;
  readonly stack: Stack;
  readonly cluster: Cluster;
  readonly prometheus: PrometheusClient;
  readonly grafana: GrafanaClient;
  /** The results of every check (a probe may rely on what passed). */
  readonly results: ReadonlyMap<CheckId, CheckResult>;
  readonly signal: AbortSignal;
}

/** Probes for one failed check. Throwing is allowed: the caller turns it into a note. */
export type Prober = (result: CheckResult, ctx: DiagnoseContext) => Promise<{ findings: Finding[]; notes: string[] }>;
