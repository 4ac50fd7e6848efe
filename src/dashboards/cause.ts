/**
 * Why a panel returned no data, found by asking Prometheus about each metric its queries select
 * (the selectors read by the PromQL parser): the metric was never ingested (and which exporter's
 * job would bring it, with that job's target health), a label the panel matches on is absent or
 * holds other values (a `cluster` or `job` mismatch), the series exist but not in the dashboard's
 * time range, or the job's targets are DOWN. Loaded only when a panel has no data.
 */
import type { Target } from '../prometheus.js';
import { matches, selectorsOf, type Matcher, type Selector } from './promql.js';

export interface CauseDeps {
  /** Prometheus's values of `label` among the series `matches` select (over `range`, else all it holds). */
  labelValues(label: string, matches: readonly string[], range?: { startSec: number; endSec: number }): Promise<string[]>;
  /** Every active target. */
  targets(): Promise<readonly Target[]>;
}

export interface NoDataCause {
  /** One sentence: "container_cpu_usage_seconds_total was never ingested: …". */
  readonly cause: string;
  readonly kind: 'never-ingested' | 'label-absent' | 'label-mismatch' | 'out-of-range' | 'targets-down' | 'empty-result' | 'unparsed';
  readonly metric?: string;
  readonly label?: string;
  readonly job?: string;
  /** The DOWN targets of the job the query names, when the metric was never ingested (its exporter may be one of them). */
  readonly down?: readonly Target[];
}

/** Who exports a metric family of the usual stacks, and how to recognise its scrape job. */
interface Exporter {
  readonly prefix: string;
  readonly who: string;
  /** Job or scrape-pool names (parts of them) that scrape it. */
  readonly jobs: readonly string[];
}

const EXPORTERS: readonly Exporter[] = [
  { prefix: 'container_', who: "the kubelet's cAdvisor (the kubelet job's /metrics/cadvisor endpoint), not the pods", jobs: ['cadvisor', 'kubelet'] },
  { prefix: 'machine_', who: "the kubelet's cAdvisor (/metrics/cadvisor)", jobs: ['cadvisor', 'kubelet'] },
  { prefix: 'kubelet_', who: 'the kubelet (/metrics)', jobs: ['kubelet'] },
  { prefix: 'storage_operation_', who: 'the kubelet (/metrics)', jobs: ['kubelet'] },
  { prefix: 'node_', who: 'node-exporter', jobs: ['node-exporter', 'node'] },
  { prefix: 'kube_', who: 'kube-state-metrics', jobs: ['kube-state-metrics'] },
  { prefix: 'apiserver_', who: 'the Kubernetes API server', jobs: ['apiserver'] },
  { prefix: 'etcd_', who: 'etcd', jobs: ['etcd'] },
  { prefix: 'coredns_', who: 'CoreDNS', jobs: ['coredns', 'kube-dns'] },
  { prefix: 'scheduler_', who: 'kube-scheduler', jobs: ['scheduler'] },
  { prefix: 'workqueue_', who: 'kube-controller-manager (and the API server)', jobs: ['controller-manager', 'apiserver'] },
  { prefix: 'kubeproxy_', who: 'kube-proxy', jobs: ['kube-proxy'] },
  { prefix: 'prometheus_', who: 'Prometheus itself', jobs: ['prometheus'] },
  { prefix: 'alertmanager_', who: 'Alertmanager', jobs: ['alertmanager'] },
  { prefix: 'grafana_', who: 'Grafana', jobs: ['grafana'] },
  { prefix: 'process_', who: 'any Go or client-library exporter', jobs: [] },
  { prefix: 'go_', who: 'any Go exporter', jobs: [] },
];

export function exporterOf(metric: string): Exporter | undefined {
  return EXPORTERS.find((e) => metric.startsWith(e.prefix));
}

/** `{__name__="m"}`: selects every series of the metric, whatever the name's characters. */
function nameSelector(metric: string): string {
  return `{__name__=${JSON.stringify(metric)}}`;
}

/** A label name as PromQL writes it: bare when it is a classic name (every Prometheus reads those), else quoted (Prometheus 3). */
function labelName(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : JSON.stringify(name);
}

function selectorWith(metric: string, ms: readonly Matcher[]): string {
  return `{${[`__name__=${JSON.stringify(metric)}`, ...ms.map((m) => `${labelName(m.name)}${m.op}${JSON.stringify(m.value)}`)].join(', ')}}`;
}

function list(values: readonly string[], max = 5): string {
  const shown = values.slice(0, max).map((v) => `"${v}"`).join(', ');
  return values.length > max ? `${shown} and ${values.length - max} more` : shown;
}

/** The health of the targets of the jobs (names containing one of `keys`, or equal to a job in `jobs`). */
function health(targets: readonly Target[], jobs: readonly string[], keys: readonly string[]): { text: string; job?: string; allDown: boolean } | undefined {
  const mine = targets.filter((t) => jobs.includes(t.job) || keys.some((k) => t.job.includes(k) || t.scrapePool.includes(k)));
  if (!mine.length) return undefined;
  const byJob = new Map<string, Target[]>();
  for (const t of mine) byJob.set(t.job, [...(byJob.get(t.job) ?? []), t]);
  const parts = [...byJob].map(([job, ts]) => {
    const up = ts.filter((t) => t.health === 'up').length;
    const down = ts.find((t) => t.health !== 'up' && t.lastError);
    return `job ${job}: ${up} of ${ts.length} target${ts.length === 1 ? '' : 's'} UP${down ? ` (${down.lastError})` : ''}`;
  });
  const [first] = byJob.keys();
  return { text: parts.join('; '), ...(first ? { job: first } : {}), allDown: mine.every((t) => t.health !== 'up') };
}

/**
 * The cause of a panel's empty queries: the first selector that explains it. `exprs` are the
 * queries as sent (variables interpolated); `range` the dashboard's, in seconds.
 */
export async function noDataCause(exprs: readonly string[], range: { startSec: number; endSec: number; text: string }, deps: CauseDeps): Promise<NoDataCause> {
  const selectors: Selector[] = [];
  for (const expr of exprs) selectors.push(...selectorsOf(expr).selectors);
  const named = selectors.filter((s): s is Selector & { metric: string } => s.metric !== undefined);
  if (!named.length) return { kind: 'unparsed', cause: 'no metric name could be read from the queries' };
  let targets: readonly Target[] | undefined;
  const allTargets = async (): Promise<readonly Target[]> => (targets ??= await deps.targets().catch(() => []));

  // A metric never ingested explains the panel first; then a label that selects nothing.
  for (const s of named) {
    const jobs = await deps.labelValues('job', [nameSelector(s.metric)]);
    if (jobs.length) continue;
    const exporter = exporterOf(s.metric);
    // An application's metric, in a job the query names that has DOWN targets: the exporter is most likely one of them.
    const job = s.matchers.find((m) => m.name === 'job' && m.op === '=')?.value;
    const down = !exporter && job ? (await allTargets()).filter((t) => t.job === job && t.health !== 'up') : [];
    if (down.length) {
      const names = down.slice(0, 3).map((t) => `${t.labels.instance ?? t.scrapeUrl}${t.lastError ? ` (${t.lastError})` : ''}`);
      return {
        kind: 'never-ingested',
        metric: s.metric,
        job,
        down,
        cause: `${s.metric} was never ingested: job ${job} has ${down.length} DOWN target${down.length === 1 ? '' : 's'}, most likely its exporter: ${names.join(', ')}${down.length > 3 ? ', …' : ''}`,
      };
    }
    const h = exporter?.jobs.length ? health(await allTargets(), [], exporter.jobs) : undefined;
    const who = exporter ? `it comes from ${exporter.who}` : 'no scrape job exports it: the application that should expose it is not scraped, or does not expose it';
    const where = exporter?.jobs.length ? (h ? ` — ${h.text}` : `; Prometheus has no scrape job for ${exporter.who.split(' (')[0]}`) : '';
    return { kind: 'never-ingested', metric: s.metric, cause: `${s.metric} was never ingested: ${who}${where}`, ...(h?.job ? { job: h.job } : {}) };
  }
  for (const s of named) {
    for (const m of s.matchers) {
      const values = await deps.labelValues(m.name, [nameSelector(s.metric)]);
      if (!values.length) {
        if (m.op === '!=' || m.op === '!~' || matches(m, '')) continue;
        return { kind: 'label-absent', metric: s.metric, label: m.name, cause: `${s.metric} has no ${m.name} label, but the query asks for ${m.name}${m.op}"${m.value}"` };
      }
      if (!values.some((v) => matches(m, v))) {
        return {
          kind: 'label-mismatch',
          metric: s.metric,
          label: m.name,
          cause: `no ${s.metric} series has ${m.name}${m.op}"${m.value}": its ${m.name} values are ${list(values)}`,
        };
      }
    }
  }
  for (const s of named) {
    const selector = selectorWith(s.metric, s.matchers);
    const jobs = await deps.labelValues('job', [selector]);
    if (!jobs.length) {
      return { kind: 'label-mismatch', metric: s.metric, cause: `each label matcher of ${s.text} selects some ${s.metric} series, but together they select none` };
    }
    const inRange = await deps.labelValues('job', [selector], { startSec: range.startSec, endSec: range.endSec });
    const h = health(await allTargets(), jobs, []);
    if (h?.allDown) return { kind: 'targets-down', metric: s.metric, job: h.job, cause: `the targets that export ${s.metric} are DOWN: ${h.text}` };
    if (!inRange.length) {
      return { kind: 'out-of-range', metric: s.metric, cause: `${s.metric} has no sample in the dashboard's range (${range.text})${h ? `; ${h.text}` : ''}` };
    }
  }
  const first = named[0]!;
  return {
    kind: 'empty-result',
    metric: first.metric,
    cause: `the series exist in the range (${list(named.map((s) => s.metric), 3)}) but the expression's result is empty: a filter that keeps nothing, a rate of counters that did not change (nothing happened, e.g. no errors), or samples all newer than the query's last step (Grafana rounds the range's end down to a step, at least the datasource's scrape interval: a stack scraped for less than a step has none there yet)`,
  };
}
