/**
 * Runs the probes of every failed check, within a time budget, places each finding in the user's
 * manifests when they are given, and picks the root cause: the most upstream failing fact.
 */
import { MfcError } from '../errors.js';
import { isReason } from '../reasons.js';
import { diagnosable } from './diagnosable.js';
import type { ManifestIndex } from '../manifests.js';
import type { CheckDiagnosis, CheckId, CheckResult, ReportedFinding, RootCause } from '../types.js';
import { GRAFANA_PROBERS } from './grafana.js';
import { noDataProber, PROMETHEUS_PROBERS } from './prometheus.js';
import type { DiagnoseContext, Finding, ObjectRef, Prober } from './types.js';

export { diagnosable };

/** Upstream first: a fact found for an earlier check explains the later failures. */
const FLOW_ORDER: readonly CheckId[] = [
  'cluster-access',
  'prometheus-pod',
  'prometheus-service',
  'prometheus-api',
  'prometheus-targets',
  'prometheus-query',
  'grafana-pod',
  'grafana-api',
  'datasource-configmap',
  'datasource-mounted',
  'grafana-datasource',
  'grafana-datasource-health',
  'grafana-query',
  // The end of the flow: a dashboard's panels, once everything before them works.
  'dashboards',
];

/**
 * The prober of a failed check, chosen by the check and its typed reason (never by the wording
 * of its summary): `grafana-query` returning no data is a Prometheus matter.
 */
function proberFor(result: CheckResult): Prober | undefined {
  if (isReason(result.reason, 'grafana-query.no-data')) return noDataProber;
  return GRAFANA_PROBERS[result.id] ?? PROMETHEUS_PROBERS[result.id];
}

export interface DiagnoseOptions {
  /** Every probe of a check together ends within this. */
  readonly budgetMs: number;
  readonly manifests?: ManifestIndex;
}

/** Diagnoses every failed check (and the warnings `diagnosable` names); returns them by check id. Never throws. */
export async function diagnose(
  results: readonly CheckResult[],
  ctx: Omit<DiagnoseContext, 'results' | 'signal'>,
  options: DiagnoseOptions,
): Promise<Map<CheckId, CheckDiagnosis>> {
  const byId = new Map(results.map((r) => [r.id, r]));
  const failed = results.filter(diagnosable);
  const entries = await Promise.all(
    failed.map(async (result): Promise<[CheckId, CheckDiagnosis] | undefined> => {
      const prober = proberFor(result);
      if (!prober) return undefined;
      const { findings, notes } = await probe(prober, result, { ...ctx, results: byId }, options.budgetMs);
      if (!findings.length && !notes.length) return undefined;
      return [result.id, { findings: findings.map((f) => report(f, options.manifests)), notes }];
    }),
  );
  return new Map(entries.filter((e): e is [CheckId, CheckDiagnosis] => e !== undefined));
}

async function probe(prober: Prober, result: CheckResult, ctx: Omit<DiagnoseContext, 'signal'>, budgetMs: number): Promise<{ findings: Finding[]; notes: string[] }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<{ findings: Finding[]; notes: string[] }>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ findings: [], notes: [`diagnosis stopped after ${Math.round(budgetMs / 1000)} s: the cluster answered too slowly`] });
    }, budgetMs);
  });
  try {
    return await Promise.race([prober(result, { ...ctx, signal: controller.signal }), timedOut]);
  } catch (err) {
    const message = err instanceof MfcError ? err.message : err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { findings: [], notes: [`diagnosis incomplete: ${message}`] };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function report(f: Finding, manifests: ManifestIndex | undefined): ReportedFinding {
  const location = f.location ?? (f.target && manifests?.locate(f.target));
  return {
    cause: f.cause,
    fix: f.fix,
    ...(f.evidence?.length ? { evidence: f.evidence } : {}),
    ...(f.target ? { object: describeObject(f.target.object) } : {}),
    ...(location ? { file: location.file, line: location.line } : {}),
  };
}

export function describeObject(o: ObjectRef): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/**
 * The root cause of a failed run: the most upstream failed check, said by its first finding,
 * else by its own summary and hint.
 */
export function rootCauseOf(results: readonly CheckResult[]): RootCause | undefined {
  const first = FLOW_ORDER.map((id) => results.find((r) => r.id === id && r.status === 'fail')).find((r) => r !== undefined);
  if (!first) return undefined;
  const finding = first.diagnosis?.findings[0];
  return finding ? { checkId: first.id, ...finding } : { checkId: first.id, cause: first.summary, fix: first.hint ?? '' };
}
