/**
 * The command-line tool against the simulated TaskFlow cluster: the same engine, a readable
 * table, the seed guide's banner (in French with --lang fr), and exit codes 0 / 1 / 2.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../../src/cli.js';
import { startCluster } from '../../sim/cluster.js';
import { scenario } from '../../sim/scenarios.js';

const dir = mkdtempSync(join(tmpdir(), 'mfc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runCli(name: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const cluster = await startCluster({ scenario: scenario(name) });
  try {
    await cluster.settle(12_000);
    const kubeconfig = join(dir, `${name}.yaml`);
    writeFileSync(kubeconfig, cluster.kubeconfig);
    let stdout = '';
    let stderr = '';
    const code = await cli(['--kubeconfig', kubeconfig, '--grafana-password', cluster.grafanaPassword, '--wait', '3s', '--request-timeout', '5s', ...extra], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      isTTY: false,
      env: {},
    });
    expect(stdout + stderr).not.toContain(cluster.token);
    expect(stdout + stderr).not.toContain(cluster.grafanaPassword);
    return { code, stdout, stderr };
  } finally {
    await cluster.stop();
  }
}

describe('metrics-flow-check (CLI)', () => {
  it('prints every check and the banner, and exits 0 when metrics flow', async () => {
    const { code, stdout } = await runCli('healthy');
    expect(code).toBe(0);
    for (const id of ['cluster-access', 'prometheus-targets', 'grafana-query']) expect(stdout).toMatch(new RegExp(`✓  ${id}`));
    expect(stdout).toContain('✓ METRICS FLOW CORRECTLY');
  }, 60_000);

  it("speaks the seed guide's French with --lang fr", async () => {
    const { code, stdout } = await runCli('healthy', ['--lang', 'fr']);
    expect(code).toBe(0);
    expect(stdout).toContain('✓ LES DONNÉES CIRCULENT CORRECTEMENT');
  }, 60_000);

  it('exits 1 on the seed bug, with the root cause above the banner', async () => {
    const { code, stdout } = await runCli('seed-bug');
    expect(code).toBe(1);
    expect(stdout).toMatch(/ROOT CAUSE \(datasource-configmap\): ConfigMap taskflow\/grafana-datasources does\s+not exist/);
    expect(stdout).toContain('✗ METRICS DO NOT FLOW');
  }, 60_000);

  it('exits 2 on a bad flag without touching the cluster', async () => {
    const { code, stderr } = await runCli('healthy', ['--wait', 'soon']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Input 'wait' is invalid/);
  }, 60_000);
});
