/**
 * Under load — a Prometheus with 10,000 active targets, a namespace with 5,000 more pods — the
 * verdict stays right and the action's memory stays bounded. The figures are printed; the
 * benchmark (npm run bench) measures them against the plain TaskFlow cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type SimulatedCluster } from '../../sim/cluster.js';
import { runAction } from '../helpers/run-action.js';

/** Well above what the action needs here (about 250 MiB), well below a runner's 7 GiB. */
const MEMORY_BOUND_MIB = 600;

describe('load: 10,000 targets and 5,000 pods', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ syntheticTargets: 10_000, extraPods: 5_000 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('passes, counts every target, and stays within bounded memory', async () => {
    const run = await runAction({ kubeconfig: cluster.kubeconfig, 'grafana-password': cluster.grafanaPassword, wait: '0', 'request-timeout': '30s' });
    process.stdout.write(`load: ${run.outputs.result} in ${(run.ms / 1000).toFixed(1)} s, peak RSS ${run.peakRssMiB} MiB\n`);
    expect(run.outputs).toMatchObject({ result: 'passed', 'failed-checks': '' });
    expect(run.summary).toContain('job kubernetes-pods: 10000 of 10000 targets UP');
    expect(run.summary).toMatch(/returned 10000 series from Prometheus/);
    expect(run.peakRssMiB).toBeGreaterThan(0);
    expect(run.peakRssMiB).toBeLessThan(MEMORY_BOUND_MIB);
  }, 120_000);

  it('still finds a broken flow under load: the datasource ConfigMap deleted', async () => {
    cluster.api.store.delete('ConfigMap', 'taskflow', 'grafana-datasources');
    const run = await runAction({ kubeconfig: cluster.kubeconfig, 'grafana-password': cluster.grafanaPassword, wait: '0', 'request-timeout': '30s' });
    process.stdout.write(`load (broken): ${run.outputs.result} in ${(run.ms / 1000).toFixed(1)} s, peak RSS ${run.peakRssMiB} MiB\n`);
    expect(run.outputs.result).toBe('failed');
    expect(run.outputs['failed-checks']).toContain('datasource-configmap');
    expect(run.peakRssMiB).toBeLessThan(MEMORY_BOUND_MIB);
  }, 120_000);
});
