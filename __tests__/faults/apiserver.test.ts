/**
 * Faults of the Kubernetes API server — slow, failing, resetting, answering garbage or far too
 * much, untrusted, refusing the token, dropping exec streams — each switched on for one run of the
 * engine against the simulated TaskFlow cluster. Every run ends within its time bound, the
 * affected checks fail (or warn) naming the cause, no stack trace reaches the report, and the
 * checks the fault does not touch still pass.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { SimulatedCluster } from '../../sim/cluster.js';
import type { Fault } from '../../sim/kube/faults.js';
import { kubeconfigYaml } from '../../sim/kube/kubeconfig.js';
import { CertificateAuthority } from '../../sim/kube/pki.js';
import { ALL_CHECKS, expectFailed, expectOthersPass, expectWellBehaved, idsWith, PROMETHEUS_CHAIN, report, runFaulty, settledCluster } from './harness.js';

type Match = NonNullable<Fault['match']>;
const on =
  (resource: string, verb?: string): Match =>
  ({ info }) =>
    info.resource === resource && !info.subresource && (verb === undefined || info.verb === verb);
/** The action's reads of the datasource ConfigMap (Prometheus's discovery never reads ConfigMaps). */
const configMaps = on('configmaps', 'get');
const CONFIGMAP_CHECKS = ['datasource-configmap', 'datasource-mounted'];

let cluster: SimulatedCluster;
beforeAll(async () => {
  cluster = await settledCluster();
}, 60_000);
afterEach(() => cluster.api.faults.clear());
afterAll(async () => {
  await cluster?.stop();
});

describe('a slow API server', () => {
  it('ConfigMap reads slower than request-timeout: the ConfigMap checks fail naming the timeout, the rest passes', async () => {
    cluster.api.faults.add({ match: configMaps, delayMs: 3000 });
    const run = await runFaulty(cluster);
    report('configmaps delayed 3 s', run);
    expectWellBehaved(run);
    expectFailed(run, CONFIGMAP_CHECKS, /get configmaps in namespace taskflow: the API server gave no answer within 1 s \(request-timeout\)/);
    expect(run.check('datasource-configmap').hint).toMatch(/raise request-timeout/);
    expectOthersPass(run, CONFIGMAP_CHECKS);
  }, 30_000);

  it('every request slower than request-timeout, retried for wait: cluster-access fails naming the timeout, the rest is skipped', async () => {
    cluster.api.faults.add({ delayMs: 2500 });
    const run = await runFaulty(cluster, { wait: '3s' });
    report('everything delayed 2.5 s, wait 3 s', run);
    expectWellBehaved(run);
    expectFailed(run, ['cluster-access'], /get version: the API server gave no answer within 1 s \(request-timeout\)/);
    expect(run.check('cluster-access').attempts).toBeGreaterThan(1);
    expect(idsWith(run, 'skip')).toEqual(ALL_CHECKS.filter((id) => id !== 'cluster-access'));
    for (const id of idsWith(run, 'skip')) expect(run.check(id).summary).toBe('skipped: cluster-access failed');
  }, 30_000);
});

describe('API server errors (a Kubernetes Status body)', () => {
  it.each([
    [500, 'configmaps', 'get', CONFIGMAP_CHECKS, /get configmaps in namespace taskflow: HTTP 500 InternalError: Internal Server Error/],
    // prometheus-service reads the Service's EndpointSlices (its Endpoints only when those are refused or not served).
    [502, 'endpointslices', 'list', ['prometheus-service'], /list endpointslices\.discovery\.k8s\.io in namespace taskflow: HTTP 502 Unknown: Bad Gateway/],
    // (A Service is read with the namespace's list discovery made: the first attempt reads no single Service.)
  ])('HTTP %i on %s (%s): the checks reading them fail naming the status and reason', async (status, resource, verb, failed, cause) => {
    cluster.api.faults.add({ match: on(resource, verb), status });
    const run = await runFaulty(cluster);
    report(`HTTP ${status} on ${resource}`, run);
    expectWellBehaved(run);
    expectFailed(run, failed, cause);
    expect(run.check(failed[0] as string).hint).toMatch(/API server/);
    // The Prometheus API checks need prometheus-service; when it fails they are skipped, naming it.
    const skipped = failed.includes('prometheus-service') ? PROMETHEUS_CHAIN : [];
    expect(idsWith(run, 'skip')).toEqual(skipped);
    for (const id of skipped) expect(run.check(id).summary).toBe('skipped: prometheus-service failed');
    expectOthersPass(run, [...failed, ...skipped]);
  }, 30_000);
});

describe('access reviews', () => {
  it('HTTP 503 on the rules review: cluster-access fails naming the status, the rest is skipped', async () => {
    cluster.api.faults.add({ match: on('selfsubjectrulesreviews', 'create'), status: 503 });
    const run = await runFaulty(cluster);
    report('HTTP 503 on selfsubjectrulesreviews', run);
    expectWellBehaved(run);
    expectFailed(run, ['cluster-access'], /create selfsubjectrulesreviews\.authorization\.k8s\.io: HTTP 503 ServiceUnavailable: Service Unavailable/);
    expect(idsWith(run, 'skip')).toEqual(ALL_CHECKS.filter((id) => id !== 'cluster-access'));
  }, 30_000);
});

describe('connections broken by the API server', () => {
  // kube-apiserver speaks HTTP/2: an aborted exchange resets that request's stream, not the connection.
  it('reset mid-body (headers sent, half the JSON, then the stream reset)', async () => {
    cluster.api.faults.add({ match: configMaps, truncate: true });
    const run = await runFaulty(cluster);
    report('configmaps reset mid-body', run);
    expectWellBehaved(run);
    expectFailed(run, CONFIGMAP_CHECKS, /get configmaps in namespace taskflow: the API server https:\/\/127\.0\.0\.1:\d+: the server reset the HTTP\/2 stream of the request before the answer was complete \(NGHTTP2_INTERNAL_ERROR\)/);
    expectOthersPass(run, CONFIGMAP_CHECKS);
  }, 30_000);

  it('reset before any answer', async () => {
    cluster.api.faults.add({ match: on('endpointslices', 'list'), reset: true });
    const run = await runFaulty(cluster);
    report('endpointslices reset', run);
    expectWellBehaved(run);
    expectFailed(run, ['prometheus-service'], /list endpointslices\.discovery\.k8s\.io in namespace taskflow: the API server https:\/\/127\.0\.0\.1:\d+: the server reset the HTTP\/2 stream of the request before the answer was complete \(NGHTTP2_INTERNAL_ERROR\)/);
    expectOthersPass(run, ['prometheus-service', ...PROMETHEUS_CHAIN]);
  }, 30_000);
});

describe('answers that are not what the API server sends', () => {
  it('200 with half a JSON document (a complete answer, cut short by whoever sent it)', async () => {
    cluster.api.faults.add({ match: configMaps, respond: { contentType: 'application/json', body: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"grafana-datas' } });
    const run = await runFaulty(cluster);
    report('configmaps 200 half JSON', run);
    expectWellBehaved(run);
    expectFailed(run, CONFIGMAP_CHECKS, /get configmaps in namespace taskflow: the API server https:\/\/127\.0\.0\.1:\d+ answered HTTP 200 with JSON that does not parse, cut short or malformed/);
    expectOthersPass(run, CONFIGMAP_CHECKS);
  }, 30_000);

  it('200 with plain text', async () => {
    cluster.api.faults.add({ match: configMaps, respond: { body: 'upstream connect error or disconnect/reset before headers' } });
    const run = await runFaulty(cluster);
    report('configmaps 200 plain text', run);
    expectWellBehaved(run);
    expectFailed(run, CONFIGMAP_CHECKS, /answered HTTP 200 with text "upstream connect error or disconnect\/reset before headers" instead of a JSON object/);
    expect(run.check('datasource-configmap').hint).toMatch(/a proxy, an ingress, a load balancer/);
    expectOthersPass(run, CONFIGMAP_CHECKS);
  }, 30_000);

  it("502 with an ingress's HTML error page", async () => {
    cluster.api.faults.add({ match: configMaps, respond: { status: 502, contentType: 'text/html', body: BAD_GATEWAY_PAGE } });
    const run = await runFaulty(cluster);
    report('configmaps 502 HTML page', run);
    expectWellBehaved(run);
    expectFailed(run, CONFIGMAP_CHECKS, /get configmaps in namespace taskflow: HTTP 502: an HTML page \("502 Bad Gateway"\) instead of a Kubernetes Status/);
    expect(run.check('datasource-configmap').summary).not.toContain('<html');
    expectOthersPass(run, CONFIGMAP_CHECKS);
  }, 30_000);

  it('a 50 MB answer: refused at the size limit, not read to the end', async () => {
    const sent: { bytes: number; complete: boolean }[] = [];
    cluster.api.faults.add({ match: configMaps, respond: { contentType: 'application/json', size: 50_000_000, onSent: (bytes, complete) => sent.push({ bytes, complete }) } });
    const run = await runFaulty(cluster, { 'request-timeout': '5s' });
    report('configmaps 50 MB answer', run);
    expectWellBehaved(run);
    expectFailed(run, CONFIGMAP_CHECKS, /get configmaps in namespace taskflow: the answer of the API server https:\/\/127\.0\.0\.1:\d+ is larger than 20 MiB; refusing to read it/);
    expectOthersPass(run, CONFIGMAP_CHECKS);
    await until(() => sent.length > 0, 'the API server to report how much of the 50 MB answer it sent');
    expect(sent.length).toBeGreaterThan(0);
    for (const s of sent) {
      expect(s.complete).toBe(false);
      // The action stopped reading at its limit; what is left in socket buffers is small.
      expect(s.bytes).toBeLessThan(24 * 1048576);
    }
  }, 30_000);
});

describe('credentials and trust', () => {
  it('a kubeconfig whose certificate-authority-data is another CA: cluster-access fails with the TLS reason, the rest is skipped', async () => {
    const other = await CertificateAuthority.create('another-cluster');
    const run = await runFaulty(cluster, { kubeconfig: kubeconfigYaml(cluster.api.url, other.certPem, { token: cluster.token, context: 'wrong-ca' }), wait: '3s' });
    report('TLS with another CA', run);
    expectWellBehaved(run);
    expectFailed(run, ['cluster-access'], /get version: cannot reach the API server https:\/\/127\.0\.0\.1:\d+: TLS: the server's certificate is not signed by the kubeconfig's certificate authority/);
    expect(run.check('cluster-access').hint).toMatch(/certificate-authority-data/);
    // Waiting cannot make the certificate trusted: one attempt.
    expect(run.check('cluster-access').attempts).toBe(1);
    expect(idsWith(run, 'skip')).toEqual(ALL_CHECKS.filter((id) => id !== 'cluster-access'));
  }, 30_000);

  it('an expired token (401): cluster-access fails saying the credentials were rejected, with the fix, without waiting', async () => {
    const kubeconfig = cluster.api.kubeconfig({ token: 'eyJhbGciOiJSUzI1NiJ9.expired.signature', context: 'expired', namespace: 'taskflow' });
    const run = await runFaulty(cluster, { kubeconfig, wait: '5s' });
    report('expired token, wait 5 s', run);
    expectWellBehaved(run);
    expectFailed(run, ['cluster-access'], /get version: HTTP 401 Unauthorized — the API server rejected the kubeconfig's credentials/);
    expect(run.check('cluster-access').hint).toMatch(/kubectl create token/);
    // Waiting cannot make a rejected token valid: one attempt, no retries until wait expires.
    expect(run.check('cluster-access').attempts).toBe(1);
    expect(run.ms).toBeLessThan(3000);
    expect(idsWith(run, 'skip')).toEqual(ALL_CHECKS.filter((id) => id !== 'cluster-access'));
  }, 30_000);
});

describe('streams', () => {
  it('port-forwards refused by an admission webhook (the access review allows them): the checks through them fail with HTTP 403, its words and the policy, at once', async () => {
    const webhook = 'admission webhook "validate.kyverno.svc-fail" denied the request: port-forwarding is not allowed in namespace taskflow';
    cluster.api.faults.add({ match: ({ info }) => info.subresource === 'portforward', status: 403, message: webhook });
    const run = await runFaulty(cluster, { access: 'port-forward', wait: '3s' });
    report('port-forward refused by a webhook', run);
    expectWellBehaved(run);
    const refused = ['prometheus-api', 'grafana-api'];
    expectFailed(run, refused, /^port-forward to pod taskflow\/(prometheus|grafana)-[\w-]+ port (9090|3000): HTTP 403 Forbidden: admission webhook "validate\.kyverno\.svc-fail" denied the request: port-forwarding is not allowed in namespace taskflow$/);
    for (const id of refused) {
      // RBAC allows them: the hint names the policy, not a rule to add.
      expect(run.check(id).hint).toBe(
        'A policy refuses pods/portforward streams in namespace taskflow (the admission webhook "validate.kyverno.svc-fail"), whatever RBAC allows: ask its owners for an exception for the action\'s account, or use access: proxy (with a Grafana password).',
      );
      // Waiting cannot lift a refusal: one attempt.
      expect(run.check(id).attempts).toBe(1);
    }
    expect(run.ms).toBeLessThan(3000);
  }, 30_000);


  it('the exec socket closes without a status frame: datasource-mounted warns that the content was not verified, naming why', async () => {
    cluster.api.faults.add({ match: ({ info }) => info.subresource === 'exec', execWithoutStatus: true });
    // The ConfigMap changed since Grafana started (editable no longer true): Grafana's list does not vouch for the file, so it is read.
    const cm = cluster.api.store.get('ConfigMap', 'taskflow', 'grafana-datasources') as unknown as { data: Record<string, string> };
    cluster.api.store.apply({ ...cm, data: { ...cm.data, 'datasources.yaml': (cm.data['datasources.yaml'] ?? '').replace('editable: true', 'editable: false') } } as never);
    const run = await runFaulty(cluster).finally(() => cluster.api.store.apply(cm as never));
    report('exec without status', run);
    expectWellBehaved(run);
    const mounted = run.check('datasource-mounted');
    expect(mounted.status).toBe('warn');
    expect(mounted.summary).toMatch(/the file's content was not verified: exec in pod grafana-[\w-]+: the connection closed before the command reported its exit status/);
    expect(idsWith(run, 'warn')).toEqual(['datasource-mounted']);
    expectOthersPass(run, ['datasource-mounted']);
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

/** Waits until `cond` holds; throws, naming what was awaited, when it does not within `timeoutMs`. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
