/**
 * Faults through the bundled action, run as the GitHub runner runs it: the step ends within its
 * time bound (process start-up included), fails naming the cause in the summary and the
 * annotations, and no stack trace reaches stdout, stderr or the summary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { SimulatedCluster } from '../../sim/cluster.js';
import { kubeconfigYaml } from '../../sim/kube/kubeconfig.js';
import { CertificateAuthority } from '../../sim/kube/pki.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';
import { expectNoStackTrace, settledCluster } from './harness.js';

/**
 * How much more memory than a healthy run a run refusing 50 MB answers may take: the two
 * answers read to the end would cost several hundred MiB (buffers, then strings).
 */
const EXTRA_MEMORY_MIB = 150;

let cluster: SimulatedCluster;
beforeAll(async () => {
  cluster = await settledCluster();
}, 60_000);
afterEach(() => cluster.api.faults.clear());
afterAll(async () => {
  await cluster?.stop();
});

async function run(inputs: Record<string, string>): Promise<ActionRun & { boundMs: number }> {
  const wait = 2;
  const timeout = 1;
  const result = await runAction({
    kubeconfig: Buffer.from(cluster.kubeconfig).toString('base64'),
    'grafana-password': cluster.grafanaPassword,
    wait: `${wait}s`,
    'request-timeout': `${timeout}s`,
    ...inputs,
  });
  return { ...result, boundMs: (wait + 6 * timeout + 3) * 1000 };
}

function expectCleanStep(name: string, result: ActionRun & { boundMs: number }): void {
  process.stdout.write(`fault ${name} (bundled action): ${result.ms} ms (bound ${result.boundMs} ms), peak RSS ${result.peakRssMiB} MiB\n`);
  expect(result.exitCode).toBe(1);
  expect(result.ms).toBeLessThanOrEqual(result.boundMs);
  expectNoStackTrace({ stdout: result.visibleStdout, stderr: result.stderr, summary: result.summary });
}

describe('faults through the bundled action', () => {
  it('ConfigMap reads slower than request-timeout', async () => {
    cluster.api.faults.add({ match: ({ info }) => info.resource === 'configmaps' && info.verb === 'get', delayMs: 4000 });
    const result = await run({});
    expectCleanStep('configmaps delayed 4 s', result);
    expect(result.outputs['failed-checks']).toBe('datasource-configmap,datasource-mounted');
    expect(result.summary).toContain('get configmaps in namespace taskflow: the API server gave no answer within 1 s (request-timeout)');
    expect(result.annotations.filter((a) => a.level === 'error' && a.title).map((a) => a.title)).toEqual(['datasource-configmap', 'datasource-mounted']);
    expect(result.outputs.passed).toBe('12');
  }, 60_000);

  it('a 50 MB /api/v1/targets answer: refused at the limit, the process stays small', async () => {
    cluster.api.faults.add({
      match: ({ info }) => info.subresource === 'proxy' && (info.name ?? '').startsWith('prometheus') && info.rest === 'api/v1/targets',
      respond: { contentType: 'application/json', size: 50_000_000 },
    });
    const result = await run({ 'request-timeout': '5s' });
    expectCleanStep('Prometheus /api/v1/targets 50 MB', { ...result, boundMs: (2 + 6 * 5 + 3) * 1000 });
    expect(result.outputs['failed-checks']).toBe('prometheus-api,prometheus-targets');
    expect(result.summary).toContain('Prometheus GET /api/v1/targets: the answer is larger than 20 MiB; refusing to read it');
    cluster.api.faults.clear();
    const healthy = await run({});
    process.stdout.write(`healthy run (bundled action): peak RSS ${healthy.peakRssMiB} MiB\n`);
    expect(healthy.exitCode).toBe(0);
    expect(result.peakRssMiB).toBeGreaterThan(0);
    expect(result.peakRssMiB).toBeLessThan(healthy.peakRssMiB + EXTRA_MEMORY_MIB);
  }, 60_000);

  it("a kubeconfig trusting another CA: cluster-access fails with the TLS reason, everything else is skipped", async () => {
    const other = await CertificateAuthority.create('another-cluster');
    const kubeconfig = kubeconfigYaml(cluster.api.url, other.certPem, { token: cluster.token, context: 'wrong-ca' });
    const result = await run({ kubeconfig: Buffer.from(kubeconfig).toString('base64') });
    expectCleanStep('TLS with another CA', result);
    expect(result.outputs['failed-checks']).toBe('cluster-access');
    expect(result.outputs.skipped).toBe('13');
    expect(result.summary).toContain("TLS: the server's certificate is not signed by the kubeconfig's certificate authority");
    expect(result.visibleStdout).not.toContain(cluster.token);
  }, 60_000);
});
