/**
 * The yardstick the benchmark measures the action against — scripts/yardstick/test-metrics-flow.sh,
 * the operations guide's eight checks in bash and real kubectl — must itself tell a working flow
 * from a broken one: it passes on the healthy TaskFlow cluster, and on the guide's original bug
 * (no datasource ConfigMap, nothing mounted) it fails exactly the checks downstream of it.
 * kubectl is looked up on the PATH; without it the suite is skipped, saying so.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startCluster, type SimulatedCluster } from '../sim/cluster.js';
import { scenario } from '../sim/scenarios.js';
import { findOnPath } from './helpers/path.js';

const KUBECTL = findOnPath('kubectl');
if (!KUBECTL) process.stdout.write('yardstick tests skipped: no kubectl on the PATH\n');
const suite = KUBECTL ? describe : describe.skip;
const SCRIPT = join(ROOT, 'scripts/yardstick/test-metrics-flow.sh');

/** Runs the script with the action's identity, as the benchmark does; its exit code and the PASS/FAIL check numbers. */
async function yardstick(cluster: SimulatedCluster): Promise<{ code: number; output: string; passed: string[]; failed: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'mfc-yardstick-'));
  try {
    const kubeconfig = join(home, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, cluster.kubeconfig, { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfig, GRAFANA_PASSWORD: cluster.grafanaPassword };
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile('bash', [SCRIPT], { env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, output: `${stdout}${stderr}` });
      });
    });
    const numbers = (status: string) => [...output.matchAll(new RegExp(`^${status}\\s+(\\d)/8`, 'gm'))].map((m) => m[1] as string);
    return { code, output, passed: numbers('PASS'), failed: numbers('FAIL') };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

suite('the kubectl yardstick (scripts/yardstick/test-metrics-flow.sh)', () => {
  it('passes all eight checks on the healthy TaskFlow cluster', async () => {
    const cluster = await startCluster();
    try {
      await cluster.settle(20_000);
      const run = await yardstick(cluster);
      expect({ code: run.code, passed: run.passed, failed: run.failed }).toEqual({ code: 0, passed: ['1', '2', '3', '4', '5', '6', '7', '8'], failed: [] });
      expect(run.output).toContain('8 of 8 checks passed');
    } finally {
      await cluster.stop();
    }
  }, 120_000);

  it("fails the datasource checks on the guide's original bug (no grafana-datasources ConfigMap, nothing mounted)", async () => {
    const cluster = await startCluster({ scenario: scenario('seed-bug') });
    try {
      await cluster.settle(20_000);
      const run = await yardstick(cluster);
      expect({ code: run.code, passed: run.passed, failed: run.failed }).toEqual({ code: 1, passed: ['1', '2', '3', '4'], failed: ['5', '6', '7', '8'] });
      expect(run.output).toMatch(/FAIL\s+5\/8 ConfigMap grafana-datasources .*NotFound/);
      expect(run.output).toMatch(/FAIL\s+6\/8 .*No such file or directory/);
      expect(run.output).toContain('BROKEN: 4 of 8 checks failed');
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
