/**
 * Freshness, for `prometheus-query`: the newest sample of the query's series must be younger than
 * `max-sample-age` (default: three scrape intervals of the job, read from Prometheus's running
 * configuration). A target can be UP while what it sends is not stored as new: samples with
 * explicit timestamps in the past (kept as they are with `honor_timestamps: true`, the default),
 * an exporter whose clock is behind, samples dropped as out of order or too old, data that comes
 * in late (remote write, federation). The instant query's own answer cannot tell: each series'
 * value carries the evaluation time, not the sample's. So each vector selector of the query
 * (found with the Prometheus UI's PromQL grammar) is asked for `max(timestamp(selector))`, which
 * Prometheus answers with the samples' own timestamps, and the age is reckoned on Prometheus's
 * clock (its evaluation time), not the runner's. The series Prometheus writes itself at each
 * scrape (`up`, `scrape_*`) carry the scrape's time, so they are as fresh as the last scrape,
 * which prometheus-targets judges: a query of only those (the default `up{job=…}`) is not asked
 * again, and the configuration is read only when a selector is to be judged.
 */
import { DEFAULT_INTERVAL, durationMs, formatDuration, type PromConfig } from '../prometheus-config.js';
import type { PrometheusClient } from '../prometheus.js';
import type { ClusterView } from '../view.js';

/** The default max-sample-age, in scrape intervals of the job. */
export const INTERVALS = 3;
/** Selectors of one query asked for their newest sample, at most. */
export const MAX_SELECTORS = 5;
/** The series Prometheus adds for every target at each scrape, stamped with the scrape's time (scrape/scrape.go, report). */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

export type SampleAgeLimit =
  | { readonly ms: number; /** How it was set: `max-sample-age`, or `3 × scrape_interval 15s of job kubernetes-pods`. */ readonly source: string }
  | { readonly ms?: undefined; /** Why freshness is not checked. */ readonly off: string };

/**
 * The limit: the input when given (`0`: off), else INTERVALS × the job's scrape_interval — of the
 * scrape pool named `job`, else of the pools whose targets carry `job="<job>"`, else (no job,
 * or none of those) the longest of the configuration. A configuration Prometheus does not serve
 * (a Prometheus-compatible server may not) leaves freshness unchecked, saying so.
 */
export async function sampleAgeLimit(given: number | undefined, job: string, view: ClusterView): Promise<SampleAgeLimit> {
  if (given === 0) return { off: 'max-sample-age is 0' };
  if (given !== undefined) return { ms: given, source: `max-sample-age ${formatDuration(given)}` };
  let config: PromConfig;
  try {
    config = await view.prometheusConfig();
  } catch (err) {
    return { off: `Prometheus's configuration could not be read (${err instanceof Error ? err.message : String(err)}); set max-sample-age to check it` };
  }
  const intervalOf = (name: string) => config.jobs.find((j) => j.name === name)?.scrapeInterval;
  let pools: string[] = [];
  if (job && intervalOf(job) !== undefined) pools = [job];
  else if (job) {
    const read = await view.targets(job);
    pools = [...new Set(read.targets.filter((t) => t.job === job || t.scrapePool === job).map((t) => t.scrapePool))].filter((p) => intervalOf(p) !== undefined);
  }
  const judged = pools.length ? pools : config.jobs.map((j) => j.name);
  const longest = judged
    .map((name) => ({ name, interval: intervalOf(name) ?? DEFAULT_INTERVAL }))
    .filter((j) => Number.isFinite(durationMs(j.interval)))
    .sort((a, b) => durationMs(b.interval) - durationMs(a.interval))[0] ?? { name: '', interval: DEFAULT_INTERVAL };
  const where = pools.length === 1 ? `job ${pools[0]}` : pools.length ? `job ${job}'s scrape pools (the longest, ${longest.name})` : longest.name ? `the longest of the configuration, job ${longest.name}` : "Prometheus's default";
  return { ms: INTERVALS * durationMs(longest.interval), source: `${INTERVALS} × scrape_interval ${longest.interval} of ${where}` };
}

export interface Selector {
  /** As written: `http_requests_total{job="x"}`. */
  readonly text: string;
  /** Its metric name (the identifier, or a `__name__="…"` matcher); undefined: any. */
  readonly metric?: string;
}

/**
 * The vector selectors of `query` (once each), without those read at another time than now
 * (under `offset` or `@`); undefined when the grammar does not parse it.
 */
export async function selectorsOf(query: string): Promise<Selector[] | undefined> {
  // The grammar (the dashboards check's reader of it) is loaded with the check, not with the engine.
  const parsed = (await import('../dashboards/promql.js')).selectorsOf(query);
  if (parsed.errorAt !== undefined) return undefined;
  const found = new Map<string, Selector>();
  for (const s of parsed.selectors) if (!s.shifted) found.set(s.text, { text: s.text, ...(s.metric !== undefined ? { metric: s.metric } : {}) });
  return [...found.values()];
}

export type Freshness =
  | { readonly kind: 'fresh'; /** The age of the stalest selector's newest sample. */ readonly ageMs: number }
  | { readonly kind: 'stale'; readonly selector: string; readonly ageMs: number }
  | { readonly kind: 'unjudged'; readonly why: string };

/**
 * The selectors of `query` whose freshness says something (not Prometheus's own scrape series),
 * or why there are none.
 */
export async function judgedSelectors(
  query: string,
  /** The query's selectors, when they are known without parsing it (a query the action wrote). */
  known?: readonly Selector[],
): Promise<{ readonly selectors: readonly string[] } | { readonly selectors?: undefined; readonly why: string }> {
  const selectors = known ?? (await selectorsOf(query));
  if (selectors === undefined) return { why: 'the query could not be parsed to find its selectors' };
  if (!selectors.length) return { why: 'the query reads no series at the current time (no selector without offset or @)' };
  const judged = selectors.filter((s) => !(s.metric && SCRAPE_SERIES.has(s.metric)));
  if (!judged.length) return { why: 'the query reads only series Prometheus writes at each scrape (up, scrape_*), as fresh as the last scrape (see prometheus-targets)' };
  return { selectors: judged.map((s) => s.text) };
}

/**
 * How old the newest sample of each of `selectors` is; stale when one selector's is older than
 * `limitMs` (the stalest is named). Selectors that select nothing now are left out.
 */
export async function freshnessOf(selectors: readonly string[], limitMs: number, prometheus: PrometheusClient, signal?: AbortSignal): Promise<Freshness> {
  const asked = selectors.slice(0, MAX_SELECTORS);
  const newest = await Promise.all(asked.map(async (selector) => ({ selector, sample: await prometheus.newestSample(selector, signal) })));
  const ages = newest.flatMap(({ selector, sample }) => (sample ? [{ selector, ageMs: Math.max(0, Math.round((sample.evaluatedAt - sample.sampleTime) * 1000)) }] : []));
  if (!ages.length) return { kind: 'unjudged', why: 'none of its selectors has a sample within the lookback window' };
  const stalest = ages.reduce((a, b) => (b.ageMs > a.ageMs ? b : a));
  return stalest.ageMs > limitMs ? { kind: 'stale', ...stalest } : { kind: 'fresh', ageMs: stalest.ageMs };
}

/** `151234` → `2m31s`; under a minute, seconds with one decimal below 10 s. */
export function formatAge(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s`;
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}h` : ''}${m}m${s % 60 ? `${s % 60}s` : ''}`;
}
