/**
 * `prometheus-query`, and Grafana's query returning no data: why the query matches no series
 * though Prometheus answers it.
 */
import { nameOf, targetLabelOf } from '../../checks/prometheus-targets.js';
import type { Series } from '../../prometheus.js';
import { isReason, type Reason } from '../../reasons.js';
import { anchored, DEFAULT_INTERVAL, durationMs, formatDuration } from './config.js';
import { discoveryPending, notScrapedYet } from './pending.js';
import { evidence, plural, type Probe } from './probe.js';
import { jobTargets, scraped } from './target.js';

interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** The first vector selector of a PromQL expression: its metric name and label matchers. */
export function firstSelector(expr: string): { metric?: string; matchers: Matcher[] } | undefined {
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"/g, (s) => s.replace(/[{}]/g, ' '));
  const brace = /([a-zA-Z_:][\w:]*)?\s*\{/.exec(stripped);
  if (brace) {
    const start = brace.index + brace[0].length;
    const end = stripped.indexOf('}', start);
    if (end < 0) return undefined;
    const inside = expr.slice(start, end);
    const matchers: Matcher[] = [];
    for (const m of inside.matchAll(/([a-zA-Z_][\w]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      matchers.push({ name: m[1]!, op: m[2] as Matcher['op'], value: m[3]!.replace(/\\(.)/g, '$1') });
    }
    const metric = brace[1] && !/^(by|without|on|ignoring|group_left|group_right)$/.test(brace[1]) ? brace[1] : matchers.find((m) => m.name === '__name__' && m.op === '=')?.value;
    return { ...(metric ? { metric } : {}), matchers: matchers.filter((m) => m.name !== '__name__') };
  }
  const bare = /^\s*([a-zA-Z_:][\w:]*)\s*(\[[^\]]*\])?\s*$/.exec(expr);
  return bare ? { metric: bare[1]!, matchers: [] } : undefined;
}

function matches(m: Matcher, value: string | undefined): boolean {
  const v = value ?? '';
  if (m.op === '=') return v === m.value;
  if (m.op === '!=') return v !== m.value;
  const re = anchored(m.value);
  if (!re) return true;
  return re.test(v) === (m.op === '=~');
}

/** Series Prometheus makes for every target, whatever it exports. */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

/** Why the query matches no series: no target yet, too early, a matcher or metric no target has. */
export async function queryFindings(p: Probe, reason: Reason | undefined): Promise<void> {
  if (!isReason(reason, 'query.no-series', 'grafana-query.no-data')) return;
  const { stack, prometheus, signal } = p.ctx;
  const scrapeJob = stack.expect.scrapeJob;
  const [config, allTargets, promPod] = await Promise.all([p.config(), p.targets(), p.prometheusPod()]);
  if (!allTargets) return;
  const job = scrapeJob ? config?.jobs.find((j) => j.name === scrapeJob) : undefined;
  const targets = jobTargets(allTargets, scrapeJob);
  const interval = job?.scrapeInterval ?? targets[0]?.scrapeInterval ?? DEFAULT_INTERVAL;
  const intervalMs = durationMs(interval) || durationMs(DEFAULT_INTERVAL);
  const query = reason.query;

  if (!allTargets.length) {
    const pending = await discoveryPending(p, interval);
    if (pending) {
      p.findings.push(pending);
      return;
    }
    p.findings.push({
      cause: `Prometheus has no active target, so ${query} has nothing to return`,
      fix: `Make Prometheus discover its targets first (see the prometheus-targets diagnosis)`,
    });
    return;
  }
  const scrapedTargets = allTargets.filter(scraped);
  if (!scrapedTargets.length) {
    p.findings.push(notScrapedYet(p, interval));
    return;
  }
  // The job has no target at all: time will not help (prometheus-targets says why).
  const jobs = [...new Set(allTargets.map((t) => t.scrapePool))];
  if (scrapeJob && !targets.length && query.includes(scrapeJob)) {
    p.findings.push({
      cause: `Scrape job ${scrapeJob} has no active target (Prometheus scrapes: ${jobs.join(', ')}), so ${query} has no series to return`,
      fix: `Make Prometheus discover the job's pods first (see the prometheus-targets diagnosis)`,
    });
    return;
  }
  // Scraped, but only since Prometheus started moments ago.
  const started = promPod?.status?.containerStatuses?.map((s) => s.state?.running?.startedAt).find(Boolean);
  const age = started ? Date.now() - new Date(started).getTime() : Infinity;
  if (age >= 0 && age < 2 * intervalMs) {
    const left = Math.ceil((2 * intervalMs - age) / 1000);
    p.findings.push({
      cause: `Prometheus started ${Math.floor(age / 1000)} s ago and has scraped its targets at most twice: more samples are expected in ${left} s (scrape_interval ${interval})`,
      fix: `Raise the wait input to at least 2 × scrape_interval (e.g. wait: ${formatDuration(2 * intervalMs)})`,
    });
    return;
  }

  const selector = firstSelector(query);
  const labelsShown = scrapedTargets.slice(0, 3).map((t) => `target labels: {${Object.entries(t.labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`);
  if (selector) {
    // A matcher on a target label that no target satisfies.
    const targetKeys = new Set(allTargets.flatMap((t) => Object.keys(t.labels)));
    for (const m of selector.matchers) {
      if (m.op === '!=' || m.op === '!~') continue;
      if (!targetKeys.has(m.name) && m.name !== 'job' && m.name !== 'instance') continue;
      if (scrapedTargets.some((t) => matches(m, t.labels[m.name]))) continue;
      const have = [...new Set(scrapedTargets.map((t) => t.labels[m.name]).filter((v): v is string => v !== undefined))];
      p.findings.push({
        cause: `The query ${query} selects ${m.name}${m.op}"${m.value}", but ${have.length ? `the scraped targets have ${have.slice(0, 5).map((v) => `${m.name}="${v}"`).join(', ')}` : `no scraped target has a ${m.name} label`}`,
        fix: have.length
          ? `Change the query input to select the targets' labels (e.g. ${m.name}="${scrapeJob && have.includes(scrapeJob) && m.name === 'job' ? scrapeJob : have[0]}")`
          : `Remove the ${m.name} matcher from the query input, or add that label in the job's relabel_configs`,
        evidence: evidence(labelsShown),
      });
      return;
    }
    // A metric that no target exposes.
    if (selector.metric && !SCRAPE_SERIES.has(selector.metric)) {
      const found: Series[] | undefined = await p.read(`the series named ${selector.metric}`, undefined, () => prometheus.query(`count by (job) ({__name__="${selector.metric}"})`, signal));
      if (found && !found.length) {
        p.findings.push({
          cause: `No series named ${selector.metric} exists in Prometheus: none of its ${plural(scrapedTargets.length, 'scraped target')} exports it`,
          fix: `Check the metric name against what the exporters serve (e.g. ${scrapedTargets[0]?.scrapeUrl}); a counter with labels appears only after its first increment`,
          evidence: evidence(labelsShown),
        });
        return;
      }
    }
  }
  if (targets.length && !targets.some(scraped)) {
    const label = targetLabelOf(targets, stack.expect.targetLabel);
    p.findings.push(notScrapedYet(p, interval, targets.map((t) => nameOf(t, label))));
    return;
  }
  p.findings.push({
    cause: `Prometheus has scraped ${plural(scrapedTargets.length, 'target')}, but ${query} matches none of their series`,
    fix: `Change the query input to select the targets' labels`,
    evidence: evidence(labelsShown),
  });
}

/**
 * `grafana-query` returned no data: when Prometheus itself has the series, Grafana's datasource
 * is not reaching it; otherwise the same diagnosis as `prometheus-query`.
 */
export async function noDataFindings(p: Probe, reason: Reason | undefined): Promise<void> {
  if (!isReason(reason, 'grafana-query.no-data')) return;
  const { stack, prometheus, signal } = p.ctx;
  const query = reason.query;
  const series = await p.read(`Prometheus's answer to ${query}`, undefined, () => prometheus.query(query, signal));
  if (series?.length) {
    const name = stack.expect.datasourceName;
    const url = stack.expect.datasourceUrl;
    p.findings.push({
      cause: `Prometheus itself returns ${plural(series.length, 'series', 'series')} for ${query}, but Grafana's datasource ${name ?? '(the Prometheus one)'} returns none`,
      fix: `Point the datasource at this Prometheus${url ? ` (${url})` : ''}, and query a time range that includes the last minutes`,
      evidence: evidence(series.slice(0, 3).map((s) => `{${Object.entries(s.metric).map(([k, v]) => `${k}="${v}"`).join(', ')}} ${s.value}`)),
    });
    return;
  }
  await queryFindings(p, reason);
}
