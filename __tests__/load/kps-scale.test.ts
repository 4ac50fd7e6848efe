/**
 * At the scale of a real kube-prometheus-stack — 40 scrape pools of ServiceMonitors, 2,000 active
 * targets with the label sets Kubernetes discovery gives them — the action finds the stack, its
 * datasource and its query results, counts every pool's targets, and stays within bounded memory.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type SimulatedCluster } from '../../sim/cluster.js';
import { runAction } from '../helpers/run-action.js';

/** Well above what the action needs here (about 200 MiB), well below a runner's 7 GiB. */
const MEMORY_BOUND_MIB = 500;
const POOL = 'serviceMonitor/monitoring/shop-app-07/0';

describe('scale: kube-prometheus-stack with 40 scrape pools and 2,000 targets', () => {
  let cluster: SimulatedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ stack: 'kube-prometheus-stack', scale: { pools: 40, targets: 2000 } });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  // Its Prometheus answers as one with 2,000 targets (sim/prometheus/synthetic.ts): the targets and
  // `up`, not the label and series APIs the dashboards' variables read, so not the dashboards check.
  const inputs = { kubeconfig: '', 'grafana-password': '', wait: '0', 'request-timeout': '30s', dashboards: 'none' };

  it('passes, counting 2,000 targets in 40 pools, the stack found with its datasource', async () => {
    const run = await runAction({ ...inputs, kubeconfig: cluster.kubeconfig, 'grafana-password': cluster.grafanaPassword });
    process.stdout.write(`kps scale: ${run.outputs.result} in ${(run.ms / 1000).toFixed(1)} s, peak RSS ${run.peakRssMiB} MiB\n`);
    expect(run.outputs).toMatchObject({ result: 'passed', 'failed-checks': '' });
    expect(run.summary).toContain('Found kube-prometheus-stack');
    expect(run.summary).toContain('2000 of 2000 targets UP in 40 scrape pools');
    expect(run.summary).toMatch(/up returned 2000 series from Prometheus/);
    expect(run.summary).toMatch(/up through Grafana returned 2000 series/);
    expect(run.peakRssMiB).toBeGreaterThan(0);
    expect(run.peakRssMiB).toBeLessThan(MEMORY_BOUND_MIB);
  }, 120_000);

  it("counts one pool's targets when the job names it, and the stack's own pools are among them, UP", async () => {
    const run = await runAction({ ...inputs, kubeconfig: cluster.kubeconfig, 'grafana-password': cluster.grafanaPassword, 'scrape-job': POOL });
    expect(run.outputs.result).toBe('passed');
    // 1,994 generated targets over 34 pools: the first 22 pools have 59, the others 58.
    expect(run.summary).toContain(`job ${POOL}: 59 of 59 targets UP`);
    const own = await runAction({ ...inputs, kubeconfig: cluster.kubeconfig, 'grafana-password': cluster.grafanaPassword, 'scrape-job': 'serviceMonitor/monitoring/kps-prometheus-node-exporter/0' });
    expect(own.outputs.result).toBe('passed');
    expect(own.summary).toContain('job serviceMonitor/monitoring/kps-prometheus-node-exporter/0: 1 of 1 target');
  }, 120_000);
});
