/**
 * `prometheus-query`: the query returns at least one series from Prometheus, and its newest
 * sample is younger than `max-sample-age` (see freshness.ts).
 */
import { fail, pass, type Check } from './check.js';
import { formatAge, freshnessOf, judgedSelectors, sampleAgeLimit } from './freshness.js';
import { PROMETHEUS_NEEDS } from './prometheus-api.js';

export const prometheusQuery: Check = {
  id: 'prometheus-query',
  title: 'Query returns data from Prometheus',
  needs: PROMETHEUS_NEEDS,
  async run({ settings, stack, prometheus, view, signal }) {
    const query = stack.expect.query;
    // The query's selectors are read (the PromQL parser loaded, for a query the action did not
    // write) while Prometheus answers it.
    const judging = settings.maxSampleAgeMs === 0 ? undefined : judgedSelectors(query, stack.expect.querySelectors);
    judging?.catch(() => undefined);
    const series = await prometheus.query(query, signal);
    if (!series.length) {
      return fail(
        `${query} returned no series from Prometheus`,
        'Prometheus has no samples for this query yet: targets are scraped every scrape_interval, so a stack deployed less than a minute ago may have none. Raise the wait input, or check the query.',
        { code: 'query.no-series', query },
      );
    }
    const returned = `${query} returned ${series.length} series from Prometheus`;
    const notChecked = (why: string, extra: Record<string, unknown> = {}) => pass(returned, { details: { series: series.length, freshness: `not checked: ${why}`, ...extra } });
    if (!judging) return notChecked('max-sample-age is 0');
    // The configuration is read only when there is a selector to judge.
    const judged = await judging;
    if (judged.selectors === undefined) return notChecked(judged.why);
    const limit = await sampleAgeLimit(settings.maxSampleAgeMs, stack.expect.scrapeJob, view);
    if (limit.ms === undefined) return notChecked(limit.off);
    const fresh = await freshnessOf(judged.selectors, limit.ms, prometheus, signal);
    if (fresh.kind === 'unjudged') return notChecked(fresh.why, { maxSampleAgeMs: limit.ms });
    if (fresh.kind === 'fresh') {
      return pass(`${returned}, newest sample ${formatAge(fresh.ageMs)} old`, { details: { series: series.length, newestSampleAgeMs: fresh.ageMs, maxSampleAgeMs: limit.ms, maxSampleAgeSource: limit.source } });
    }
    const of = fresh.selector === query ? '' : ` of ${fresh.selector}`;
    return fail(
      `${returned}, but the newest sample${of} is ${formatAge(fresh.ageMs)} old (limit ${formatAge(limit.ms)}: ${limit.source})`,
      'The targets are scraped (UP) but Prometheus stores nothing newer for these series. Likely causes: the exporter writes explicit timestamps in the past, which Prometheus keeps as they are with honor_timestamps: true, the default (fix the exporter, or set honor_timestamps: false in the scrape job); the clock of the exporter\'s node is behind (check its NTP); samples dropped as out of order or too old (Prometheus logs "Error on ingesting samples that are too old or are too far into the future" or "out of order"); or the series arrive late through remote write or federation. If the data is legitimately this old, raise max-sample-age; 0 turns this check off.',
      { code: 'query.stale', query, selector: fresh.selector, ageMs: fresh.ageMs, limitMs: limit.ms },
      { details: { series: series.length, newestSampleAgeMs: fresh.ageMs, maxSampleAgeMs: limit.ms, maxSampleAgeSource: limit.source } },
    );
  },
};
