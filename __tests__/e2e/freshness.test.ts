/**
 * Freshness end to end, through the bundle against the real Prometheus 2.42: a series whose
 * samples carry explicit timestamps 2.5 minutes old is returned by the query (it is within the
 * 5-minute lookback) while its target is UP; prometheus-query fails it with its age, by default
 * against three scrape intervals of the job as the running configuration has them (the
 * simulator runs TaskFlow's prometheus.yml with every scrape_interval set to 1s).
 */
import { describe, expect, it } from '@jest/globals';
import { junitCase, runScenario } from '../helpers/e2e.js';

type Check = { id: string; status: string; summary: string; hint?: string; reason?: Record<string, unknown>; details?: Record<string, unknown> };
const checkOf = (report: Record<string, unknown> | undefined, id: string): Check => (report?.checks as Check[]).find((c) => c.id === id)!;

describe('max-sample-age', () => {
  it('fails a stale series whose target is UP, naming its age and the limit from the scrape interval', async () => {
    const run = await runScenario('stale-series', { inputs: { 'junit-path': 'junit.xml' } });
    expect(run.exitCode).toBe(1);
    expect(run.statuses['prometheus-targets']).toBe('pass');
    expect(run.outputs['failed-checks']).toBe('prometheus-query');
    const query = checkOf(run.report, 'prometheus-query');
    expect(query.summary).toMatch(
      /^taskflow_worker_tasks_processed_total\{job="kubernetes-pods"\} returned 1 series from Prometheus, but the newest sample is 2m3\ds old \(limit 3\.0 s: 3 × scrape_interval 1s of job kubernetes-pods\)$/,
    );
    expect(query.reason).toMatchObject({ code: 'query.stale', limitMs: 3000, selector: 'taskflow_worker_tasks_processed_total{job="kubernetes-pods"}' });
    expect(query.reason?.ageMs as number).toBeGreaterThanOrEqual(150_000);
    expect(query.hint).toContain('honor_timestamps');
    expect(run.annotations).toContainEqual(expect.objectContaining({ level: 'error', title: 'prometheus-query', message: expect.stringContaining('2m3') }));
    // In the JUnit file: prometheus-query a failure of type query.stale, its age in the message.
    const testCase = junitCase(run.diskText, 'metrics-flow-check', 'prometheus-query');
    expect(testCase).toMatch(/<failure message="taskflow_worker_tasks_processed_total\{job=&quot;kubernetes-pods&quot;\} returned 1 series from Prometheus, but the newest sample is 2m3\ds old [^"]*" type="query.stale">/);
    expect(testCase).toContain('honor_timestamps');
    expect(junitCase(run.diskText, 'metrics-flow-check', 'prometheus-targets')).not.toContain('<failure');
  }, 120_000);

  it('passes the healthy stack, saying how old the newest sample is', async () => {
    const run = await runScenario('healthy', { inputs: { query: 'http_requests_total{job="kubernetes-pods"}' } });
    expect(run.exitCode).toBe(0);
    const query = checkOf(run.report, 'prometheus-query');
    expect(query.summary).toMatch(/^http_requests_total\{job="kubernetes-pods"\} returned 8 series from Prometheus, newest sample \d+(\.\d)? s old$/);
    expect(query.details).toMatchObject({ maxSampleAgeMs: 3000, maxSampleAgeSource: '3 × scrape_interval 1s of job kubernetes-pods' });
    expect(query.details?.newestSampleAgeMs as number).toBeLessThan(3000);
  }, 120_000);

  it('max-sample-age 0 turns it off: the stale series passes', async () => {
    const run = await runScenario('stale-series', { inputs: { 'max-sample-age': '0' } });
    expect(run.exitCode).toBe(0);
    const query = checkOf(run.report, 'prometheus-query');
    expect(query.status).toBe('pass');
    expect(query.details).toMatchObject({ freshness: 'not checked: max-sample-age is 0' });
  }, 120_000);
});
