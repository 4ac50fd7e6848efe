/**
 * The engine both entry points share: settings in, report out. It loads the kubeconfig, opens
 * the access paths to Prometheus and Grafana, runs the checks, and closes everything it opened.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CHECKS } from './checks/index.js';
import { KubeCluster, type Cluster } from './cluster.js';
import { grafanaCredentials } from './credentials.js';
import { diagnosable } from './diagnose/diagnosable.js';
import { loadKubeConfig } from './kubeconfig.js';
import type { ManifestIndex } from './manifests.js';
import { buildReport } from './report.js';
import { ATTEMPT_TIMEOUTS, runChecks } from './runner.js';
import { secrets } from './secrets.js';
import { connectServices, type Services } from './services.js';
import { discoverStack, type DiscoveryReads } from './stack/discover.js';
import type { Stack } from './stack/types.js';
import type { CheckResult, Report, RootCause, Settings } from './types.js';
import { ClusterView } from './view.js';

export interface EngineOptions {
  readonly onResult?: (result: CheckResult) => void;
  /** Replaces the kubeconfig-based cluster access (tests). */
  readonly cluster?: Cluster;
  readonly retryIntervalMs?: number;
  /** Where relative `manifests` globs start (the repository); default $GITHUB_WORKSPACE, else the current directory. */
  readonly workspace?: string;
  /** Called with what could not be read among the manifests. */
  readonly onNote?: (note: string) => void;
  /** Called once the stack is found, before the checks run. */
  readonly onStack?: (stack: Stack) => void;
}

/** Diagnosis of all failed checks together ends within this many request timeouts. */
export const DIAGNOSIS_TIMEOUTS = 2;

/**
 * Runs every check; throws SettingsError for an unreadable kubeconfig or a bad context. Whatever
 * happens, everything the run opened is closed before it returns (port-forwards, streams,
 * connection pools, sessions), so the process ends with its verdict.
 */
export async function runEngine(settings: Settings, options: EngineOptions = {}): Promise<Report> {
  const startedAt = new Date();
  const owned = options.cluster ? undefined : new KubeCluster(loadKubeConfig(settings.kubeconfigFile ? { file: settings.kubeconfigFile } : settings.kubeconfig, settings.context).kc, settings.requestTimeoutMs);
  const cluster = options.cluster ?? (owned as Cluster);
  let services: Services | undefined;
  const workspace = options.workspace ?? process.env.GITHUB_WORKSPACE ?? process.cwd();
  let loaded: Promise<ManifestIndex | undefined> | undefined;
  // Read once, when a check or the diagnosis first needs them (the reader is loaded only then).
  const manifests = (): Promise<ManifestIndex | undefined> =>
    (loaded ??= settings.manifests ? import('./manifests.js').then((m) => m.loadManifests(settings.manifests, workspace)) : Promise.resolve(undefined));
  try {
    // Every read of the run stops at its hard bound: wait + ATTEMPT_TIMEOUTS request timeouts.
    const run = AbortSignal.timeout(settings.waitMs + (ATTEMPT_TIMEOUTS + 1) * settings.requestTimeoutMs);
    // cluster-access reviews the credentials' rules in the stack's namespaces; the one the stack
    // is most likely in is asked now, while the stack is being found.
    if (!settings.skipChecks.includes('cluster-access')) owned?.primeRules(settings.namespace ?? settings.prometheusService?.namespace ?? owned.defaultNamespace, run);
    const reads: DiscoveryReads = { pods: [], services: [] };
    const found = await discoverStack(settings, cluster, run, reads);
    let seed: DiscoveryReads | undefined = reads;
    const read = await grafanaCredentials(settings, found, cluster, run);
    const stack = read.note ? { ...found, evidence: [...found.evidence, read.note] } : found;
    options.onStack?.(redactDeep(stack));
    const connected = connectServices(settings, stack, cluster, read.credentials);
    services = connected;
    // Grafana's login (with a password through the API server's proxy) starts with the checks, not
    // when the first check that needs it gets there.
    // (Every check of Grafana's authenticated API needs grafana-datasource.)
    if (!settings.skipChecks.includes('grafana-datasource')) connected.grafana.warmUp(run);
    const results = await runChecks({
      checks: CHECKS,
      context: { settings, stack, cluster, prometheus: connected.prometheus, grafana: connected.grafana, manifests },
      // The first attempt starts from what discovery just read; each retry reads afresh.
      newView: () => {
        const view = new ClusterView(cluster, connected.prometheus, connected.grafana, run, seed);
        seed = undefined;
        return view;
      },
      waitMs: settings.waitMs,
      requestTimeoutMs: settings.requestTimeoutMs,
      skip: settings.skipChecks,
      retryIntervalMs: options.retryIntervalMs,
      onResult: options.onResult && ((r) => options.onResult?.(redactDeep(r))),
    });
    const { diagnosed, rootCauseOf } = await withDiagnosis(results, settings, stack, cluster, connected, options, manifests);
    const report = buildReport(diagnosed, { startedAt, durationMs: Date.now() - startedAt.getTime(), settings, stack });
    const rootCause = report.result === 'failed' ? rootCauseOf?.(diagnosed) : undefined;
    return redactDeep(rootCause ? { ...report, rootCause } : report);
  } finally {
    await closeAll(services, owned);
  }
}

/**
 * Closes what a run opened, in order: first what speaks through the cluster access (the
 * services' endpoints: port-forwards and their connection pools), then the access itself (its
 * streams and connection pool). Nothing here throws.
 */
async function closeAll(services: Services | undefined, cluster: KubeCluster | undefined): Promise<void> {
  // Ends the Grafana session the run logged in with, before its endpoint closes.
  await services?.grafana.close().catch(() => undefined);
  await services?.close().catch(() => undefined);
  await cluster?.close().catch(() => undefined);
}

/**
 * Diagnoses the failed checks (and places the findings in the user's manifests) when there are
 * any. The diagnosis and the manifests reader are loaded only then: a passing run never parses
 * them (they are separate chunks of the bundle). `rootCauseOf` is there when a check was diagnosed
 * (a run with no diagnosable result has no failed check, hence no root cause).
 */
async function withDiagnosis(
  results: readonly CheckResult[],
  settings: Settings,
  stack: Stack,
  cluster: Cluster,
  services: Services,
  options: EngineOptions,
  readManifests: () => Promise<ManifestIndex | undefined>,
): Promise<{ diagnosed: CheckResult[]; rootCauseOf?: (results: readonly CheckResult[]) => RootCause | undefined }> {
  if (!results.some(diagnosable)) return { diagnosed: [...results] };
  const { diagnose, rootCauseOf } = await import('./diagnose/index.js');
  const manifests = await readManifests();
  for (const note of manifests?.notes ?? []) options.onNote?.(note);
  const diagnoses = await diagnose(
    results,
    { settings, stack, cluster, prometheus: services.prometheus, grafana: services.grafana },
    { budgetMs: DIAGNOSIS_TIMEOUTS * settings.requestTimeoutMs, manifests },
  );
  const diagnosed = results.map((r) => {
    const diagnosis = diagnoses.get(r.id);
    return diagnosis ? { ...r, diagnosis } : r;
  });
  return { diagnosed, rootCauseOf };
}

/** Writes the JSON report (no secret can be in it: every string was redacted). */
export function writeReport(report: Report, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o644 });
}

/** A copy of a JSON-like value with every registered credential replaced by `***`. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return secrets.redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
