/**
 * prometheus-query's freshness: the newest sample of the query's selectors, from
 * `max(timestamp(selector))`, against max-sample-age or three scrape intervals of the job read
 * from Prometheus's configuration — on a fake Prometheus whose clock is not the runner's.
 */
import { describe, expect, it } from '@jest/globals';
import { formatAge, selectorsOf } from '../../src/checks/freshness.js';
import { prometheusQuery } from '../../src/checks/prometheus-query.js';
import { attempt, taskflowStack, type Stack } from '../fixtures/context.js';
import { promOk } from '../fixtures/endpoints.js';
import { defaultQuery } from '../../src/stack/types.js';
import { configAnswer, TASKFLOW_PROMETHEUS_YML } from '../diagnose/prometheus-fixtures.js';

/** Prometheus's clock when it answers: March 2025, far from the runner's. */
const EVALUATED_AT = 1741944662.781;
const UP = 'up{job="kubernetes-pods"}';
/** A metric the targets export (the fake answers every query with the three `up` series). */
const METRIC = 'http_requests_total{job="kubernetes-pods"}';
const withQuery = (inputs: Record<string, string> = {}) => taskflowStack({ query: METRIC, ...inputs });

/** The answer to `max(timestamp(selector))`: one series without labels, the newest sample `ageS` before the evaluation. */
function newestAt(stack: Stack, selector: string, ageS: number | undefined): Stack {
  const result = ageS === undefined ? [] : [{ metric: {}, value: [EVALUATED_AT, String(EVALUATED_AT - ageS)] }];
  stack.prometheus.on('GET', `/api/v1/query?query=${encodeURIComponent(`max(timestamp(${selector}))`)}`, promOk({ resultType: 'vector', result }));
  return stack;
}

function withConfig(stack: Stack, yaml = TASKFLOW_PROMETHEUS_YML): Stack {
  stack.prometheus.on('GET', '/api/v1/status/config', configAnswer(yaml));
  return stack;
}

const asked = (stack: Stack) => stack.prometheus.sent('/api/v1/query').map((r) => decodeURIComponent(r.path.split('query=')[1]!));

describe('prometheus-query: the newest sample is recent', () => {
  it('passes a sample younger than three scrape intervals of the job, saying its age', async () => {
    const stack = newestAt(withConfig(await withQuery()), METRIC, 5);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('http_requests_total{job="kubernetes-pods"} returned 3 series from Prometheus, newest sample 5.0 s old');
    expect(outcome.details).toMatchObject({ newestSampleAgeMs: 5000, maxSampleAgeMs: 45_000, maxSampleAgeSource: '3 × scrape_interval 15s of job kubernetes-pods' });
    expect(asked(stack)).toEqual([METRIC, `max(timestamp(${METRIC}))`]);
    expect(stack.prometheus.sent('/api/v1/status/config')).toHaveLength(1);
  });

  it('fails a sample older than that, with its age, the limit, a typed reason and the likely causes', async () => {
    const stack = newestAt(withConfig(await withQuery()), METRIC, 151);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('http_requests_total{job="kubernetes-pods"} returned 3 series from Prometheus, but the newest sample is 2m31s old (limit 45 s: 3 × scrape_interval 15s of job kubernetes-pods)');
    expect(outcome.reason).toEqual({ code: 'query.stale', query: METRIC, selector: METRIC, ageMs: 151_000, limitMs: 45_000 });
    expect(outcome.hint).toContain('honor_timestamps');
    expect(outcome.hint).toContain('clock');
    expect(outcome.hint).toContain('out of order');
    expect(outcome.hint).toContain('max-sample-age');
  });

  it("takes the job's own scrape_interval over the global one", async () => {
    const yaml = TASKFLOW_PROMETHEUS_YML.replace("job_name: 'kubernetes-pods'", "job_name: 'kubernetes-pods'\n    scrape_interval: 1m");
    const stack = newestAt(withConfig(await withQuery(), yaml), METRIC, 151);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.details).toMatchObject({ maxSampleAgeMs: 180_000, maxSampleAgeSource: '3 × scrape_interval 1m of job kubernetes-pods' });
  });

  it('uses max-sample-age when given, without reading the configuration', async () => {
    const stack = newestAt(withConfig(await withQuery({ 'max-sample-age': '2m' })), METRIC, 151);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('is 2m31s old (limit 2m: max-sample-age 2m)');
    expect(stack.prometheus.sent('/api/v1/status/config')).toEqual([]);
  });

  it('max-sample-age 0 turns it off: no configuration, no timestamp query', async () => {
    const stack = newestAt(withConfig(await withQuery({ 'max-sample-age': '0' })), METRIC, 10_000);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('http_requests_total{job="kubernetes-pods"} returned 3 series from Prometheus');
    expect(outcome.details).toMatchObject({ freshness: 'not checked: max-sample-age is 0' });
    expect(asked(stack)).toEqual([METRIC]);
    expect(stack.prometheus.sent('/api/v1/status/config')).toEqual([]);
  });

  it('is not checked, saying why, when Prometheus does not serve its configuration', async () => {
    const stack = newestAt(await withQuery(), METRIC, 10_000);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(String(outcome.details?.freshness)).toMatch(/^not checked: Prometheus's configuration could not be read \(.*404.*\); set max-sample-age to check it$/);
    expect(asked(stack)).toEqual([METRIC]);
  });

  it("does not ask again of up and the scrape_* series (they carry the scrape's time), nor read the configuration", async () => {
    const stack = newestAt(withConfig(await taskflowStack()), UP, 10_000);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toBe('up{job="kubernetes-pods"} returned 3 series from Prometheus');
    expect(String(outcome.details?.freshness)).toMatch(/^not checked: the query reads only series Prometheus writes at each scrape/);
    expect(asked(stack)).toEqual([UP]);
    expect(stack.prometheus.sent('/api/v1/status/config')).toEqual([]);
  });

  it('judges each selector of the query and names the stale one', async () => {
    const errors = 'http_errors_total{job="kubernetes-pods"}';
    const query = `sum(rate(${errors}[5m])) / sum(rate(${METRIC}[5m])) and on() ${UP}`;
    const stack = newestAt(newestAt(withConfig(await taskflowStack({ query })), errors, 200), METRIC, 3);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain(`but the newest sample of ${errors} is 3m20s old`);
    expect(asked(stack).slice(1).sort()).toEqual([`max(timestamp(${METRIC}))`, `max(timestamp(${errors}))`].sort());
  });

  it('leaves out selectors with no sample now, and passes the query when none has one', async () => {
    const stack = newestAt(withConfig(await taskflowStack({ query: 'absent(nothing_here)' })), 'nothing_here', undefined);
    const outcome = await attempt(prometheusQuery, stack);
    expect(outcome.status).toBe('pass');
    expect(outcome.details).toMatchObject({ freshness: 'not checked: none of its selectors has a sample within the lookback window' });
  });
});

describe('selectorsOf (the Prometheus UI grammar)', () => {
  const texts = async (query: string) => (await selectorsOf(query))?.map((s) => s.text);

  it('finds every vector selector as written, once, with its metric name', async () => {
    expect(await selectorsOf('rate(http_requests_total{job="a"}[5m]) + {__name__="up", job="a"} + {job="a"}')).toEqual([
      { text: 'http_requests_total{job="a"}', metric: 'http_requests_total' },
      { text: '{__name__="up", job="a"}', metric: 'up' },
      { text: '{job="a"}' },
    ]);
    expect(await texts('sum by (job) (rate(http_requests_total{job="a", code=~"5.."}[5m])) / on(job) up{job="a"} + up{job="a"}')).toEqual([
      'http_requests_total{job="a", code=~"5.."}',
      'up{job="a"}',
    ]);
    expect(await texts('max_over_time(queue_depth[1h:1m])')).toEqual(['queue_depth']);
    expect(await texts('{__name__=~"node_.*"}')).toEqual(['{__name__=~"node_.*"}']);
  });

  it('leaves out what is read at another time (offset, @) and finds nothing in vector(1)', async () => {
    expect(await texts('up offset 1h')).toEqual([]);
    expect(await texts('up @ 1700000000')).toEqual([]);
    expect(await texts('vector(1)')).toEqual([]);
  });

  it('gives up on what does not parse', async () => {
    expect(await selectorsOf('up{job=')).toBeUndefined();
  });

  it('finds in each default query the selectors the action knows it wrote (the grammar is then not loaded)', async () => {
    const jobs = ['kubernetes-pods', 'node exporter', 'a"b\\c', 'tab\there', 'serviceMonitor/monitoring/kps-grafana/0', ''];
    expect(jobs.map((job) => defaultQuery(job).query)).toEqual(['up{job="kubernetes-pods"}', 'up{job="node exporter"}', 'up{job="a\\"b\\\\c"}', 'up{job="tab\\there"}', 'up', 'up']);
    for (const job of jobs) {
      const { query, selectors } = defaultQuery(job);
      expect(await selectorsOf(query)).toEqual(selectors);
    }
  });
});

it('formats ages as the summaries show them', () => {
  expect([formatAge(5000), formatAge(45_000), formatAge(151_000), formatAge(120_000), formatAge(3_725_000)]).toEqual(['5.0 s', '45 s', '2m31s', '2m', '1h2m5s']);
});
