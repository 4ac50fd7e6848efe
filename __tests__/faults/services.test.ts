/**
 * Faults between the action and Prometheus or Grafana — an ingress's HTML error page on the
 * service proxy, a 50 MB answer, a reset mid-answer, Prometheus answering 503 while it starts
 * (lasting, or recovering within `wait`), Grafana's datasource health check failing with 502 —
 * each switched on for one run of the engine against the simulated TaskFlow cluster.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { SimulatedCluster } from '../../sim/cluster.js';
import type { Fault } from '../../sim/kube/faults.js';
import { ALL_CHECKS, expectFailed, expectOthersPass, expectWellBehaved, idsWith, PROMETHEUS_CHAIN, report, runFaulty, settledCluster } from './harness.js';

type Match = NonNullable<Fault['match']>;
/** Requests through the API server's service proxy to Prometheus, optionally for one API path. */
const prometheusProxy =
  (path?: string): Match =>
  ({ info }) =>
    info.resource === 'services' && info.subresource === 'proxy' && (info.name ?? '').startsWith('prometheus') && (path === undefined || info.rest === path);

let cluster: SimulatedCluster;
beforeAll(async () => {
  cluster = await settledCluster();
}, 60_000);
afterEach(() => {
  cluster.api.faults.clear();
  if (cluster.grafana) {
    cluster.grafana.faults.datasourceHealthStatus = undefined;
    cluster.grafana.faults.databaseFailing = undefined;
  }
});
afterAll(async () => {
  await cluster?.stop();
});

describe('the service proxy path to Prometheus', () => {
  it("an ingress's HTML 502 page: the Prometheus checks fail naming the HTML page and its title, Grafana's pass", async () => {
    cluster.api.faults.add({ match: prometheusProxy(), respond: { status: 502, contentType: 'text/html', body: BAD_GATEWAY_PAGE } });
    const run = await runFaulty(cluster);
    report('Prometheus proxy 502 HTML page', run);
    expectWellBehaved(run);
    expectFailed(run, PROMETHEUS_CHAIN, /Prometheus GET \/api\/v1\/(targets|query): HTTP 502 \(an HTML page "502 Bad Gateway": a proxy or ingress answered, not the service\)/);
    expect(run.check('prometheus-api').hint).toMatch(/proxy, ingress or load balancer/);
    for (const id of PROMETHEUS_CHAIN) expect(run.check(id).summary).not.toContain('<html');
    expectOthersPass(run, PROMETHEUS_CHAIN);
  }, 30_000);

  it('a 50 MB /api/v1/targets answer: refused at the 20 MiB limit and not read further; the query still passes', async () => {
    const sent: { bytes: number; complete: boolean }[] = [];
    cluster.api.faults.add({
      match: prometheusProxy('api/v1/targets'),
      respond: { contentType: 'application/json', size: 50_000_000, onSent: (bytes, complete) => sent.push({ bytes, complete }) },
    });
    const before = process.memoryUsage();
    const run = await runFaulty(cluster, { 'request-timeout': '5s' });
    const after = process.memoryUsage();
    report('Prometheus /api/v1/targets 50 MB', run);
    expectWellBehaved(run);
    expectFailed(run, ['prometheus-api', 'prometheus-targets'], /Prometheus GET \/api\/v1\/targets: the answer is larger than 20 MiB; refusing to read it/);
    expect(run.check('prometheus-api').hint).toMatch(/at most 20 MiB/);
    expectOthersPass(run, ['prometheus-api', 'prometheus-targets']);
    // prometheus-api and prometheus-targets share one read of the targets per attempt.
    const attempts = run.check('prometheus-api').attempts;
    await until(() => sent.length >= attempts);
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(sent.length).toBe(attempts);
    for (const s of sent) {
      expect(s.complete).toBe(false);
      expect(s.bytes).toBeLessThan(24 * 1048576);
    }
    // What the run kept is bounded by the limit, not by the answer's size.
    expect((after.rss - before.rss) / 1048576).toBeLessThan(150);
  }, 40_000);

  // Over HTTP/2 (kube-apiserver's), the API server resets that request's stream, not the connection.
  it('a reset mid-answer (headers sent, then the stream reset): the Prometheus checks fail saying the answer was reset', async () => {
    cluster.api.faults.add({ match: prometheusProxy(), truncate: true, respond: { contentType: 'application/json', body: JSON.stringify({ status: 'success', data: { activeTargets: [], droppedTargets: [] } }) } });
    const run = await runFaulty(cluster);
    report('Prometheus proxy reset mid-answer', run);
    expectWellBehaved(run);
    expectFailed(run, PROMETHEUS_CHAIN, /Prometheus GET \/api\/v1\/(targets|query): the server reset the HTTP\/2 stream of the request before the answer was complete \(NGHTTP2_INTERNAL_ERROR\)/);
    expect(run.check('prometheus-api').hint).toMatch(/closed it/);
    expectOthersPass(run, PROMETHEUS_CHAIN);
  }, 30_000);

  it('Prometheus slower than request-timeout: the Prometheus checks fail naming the timeout', async () => {
    cluster.api.faults.add({ match: prometheusProxy(), delayMs: 3000 });
    const run = await runFaulty(cluster);
    report('Prometheus proxy delayed 3 s', run);
    expectWellBehaved(run);
    expectFailed(run, PROMETHEUS_CHAIN, /Prometheus GET \/api\/v1\/(targets|query): no answer within 1 s \(request-timeout\)/);
    expect(run.check('prometheus-api').hint).toMatch(/raise wait or request-timeout/);
    expectOthersPass(run, PROMETHEUS_CHAIN);
  }, 30_000);

  it('a 200 answer that is plain text: the Prometheus checks fail quoting it', async () => {
    cluster.api.faults.add({ match: prometheusProxy(), respond: { body: 'Prometheus Server is Healthy.\n' } });
    const run = await runFaulty(cluster);
    report('Prometheus proxy 200 plain text', run);
    expectWellBehaved(run);
    expectFailed(run, PROMETHEUS_CHAIN, /answered HTTP 200 with text "Prometheus Server is Healthy\." instead of JSON/);
    expectOthersPass(run, PROMETHEUS_CHAIN);
  }, 30_000);
});

describe('Prometheus not ready (503 "Service Unavailable", as while it starts)', () => {
  const notReady = { status: 503, body: 'Service Unavailable' };

  it('lasting past wait: prometheus-api fails naming HTTP 503 after retrying', async () => {
    cluster.api.faults.add({ match: prometheusProxy(), respond: notReady });
    const run = await runFaulty(cluster, { wait: '2s' });
    report('Prometheus 503 lasting, wait 2 s', run);
    expectWellBehaved(run);
    expectFailed(run, PROMETHEUS_CHAIN, /Prometheus GET \/api\/v1\/(targets|query): HTTP 503: Service Unavailable/);
    expect(run.check('prometheus-api').attempts).toBeGreaterThan(1);
    expect(run.check('prometheus-api').hint).toMatch(/503 while it starts/);
    expectOthersPass(run, PROMETHEUS_CHAIN);
  }, 30_000);

  it('recovering within wait: every check passes, prometheus-api after more than one attempt', async () => {
    // The first four /api/v1/targets requests (two attempts each of prometheus-api and prometheus-targets) fail.
    cluster.api.faults.add({ match: prometheusProxy('api/v1/targets'), respond: notReady, times: 4 });
    const run = await runFaulty(cluster, { wait: '5s' });
    report('Prometheus 503 × 4 then ready, wait 5 s', run);
    expectWellBehaved(run);
    expect(idsWith(run, 'pass')).toEqual([...ALL_CHECKS]);
    expect(run.check('prometheus-api').attempts).toBeGreaterThan(1);
    expect(run.report.result).toBe('passed');
  }, 30_000);
});

describe('Grafana faults', () => {
  it('502 on the datasource health check: grafana-datasource-health fails naming HTTP 502, the query still passes', async () => {
    (cluster.grafana as NonNullable<typeof cluster.grafana>).faults.datasourceHealthStatus = 502;
    const run = await runFaulty(cluster);
    report('Grafana datasource health 502', run);
    expectWellBehaved(run);
    expectFailed(run, ['grafana-datasource-health'], /Grafana GET \/api\/datasources\/uid\/[\w-]+\/health: HTTP 502: Plugin health check failed/);
    expectOthersPass(run, ['grafana-datasource-health']);
  }, 30_000);

  it("Grafana's database failing: grafana-api fails naming it", async () => {
    (cluster.grafana as NonNullable<typeof cluster.grafana>).faults.databaseFailing = true;
    const run = await runFaulty(cluster);
    report('Grafana database failing', run);
    expectWellBehaved(run);
    expectFailed(run, ['grafana-api'], /database/);
    expect(idsWith(run, 'fail')).toEqual(['grafana-api']);
  }, 30_000);
});

const BAD_GATEWAY_PAGE = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`;

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
