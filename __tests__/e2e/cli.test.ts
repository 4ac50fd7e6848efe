/**
 * The command-line tool against the simulated TaskFlow cluster: the same engine, a readable
 * table, the seed guide's banner (in French with --lang fr), and exit codes 0 / 1 / 2.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
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
    const cluster = await startCluster({ scenario: scenario('healthy') });
    try {
      const kubeconfig = join(dir, 'bad-flag.yaml');
      writeFileSync(kubeconfig, cluster.kubeconfig);
      // The cluster's own components (Prometheus, the sidecar) keep talking to the API server:
      // only requests made with the CLI's credentials, or with none, count.
      const fromCli = () => cluster.api.requestLog.filter((r) => r.user === cluster.actionUser || r.user === undefined);
      expect(fromCli()).toEqual([]);
      let stdout = '';
      let stderr = '';
      const code = await cli(['--kubeconfig', kubeconfig, '--wait', 'soon'], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false, env: {} });
      expect(code).toBe(2);
      expect(stderr).toMatch(/Input 'wait' is invalid/);
      expect(stdout).toBe('');
      expect(stderr).not.toContain(cluster.token);
      expect(fromCli()).toEqual([]);
      // The same kubeconfig with a valid flag does reach the cluster, as the CLI's user.
      await cli(['--kubeconfig', kubeconfig, '--wait', '0', '--request-timeout', '5s'], { stdout: () => undefined, stderr: () => undefined, isTTY: false, env: {} });
      expect(fromCli().map((r) => r.user)).toContain(cluster.actionUser);
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});

describe('metrics-flow-check --kubeconfig FILE', () => {
  it('loads the file as kubectl does: its tokenFile and certificate files relative to its directory, from another directory', async () => {
    const cluster = await startCluster({ scenario: scenario('healthy') });
    const cwd = process.cwd();
    try {
      await cluster.settle(12_000);
      const doc = parse(cluster.kubeconfig) as {
        clusters: { cluster: Record<string, unknown> }[];
        users: { user: Record<string, unknown> }[];
      };
      const home = join(dir, 'files', 'kube');
      mkdirSync(join(home, 'pki'), { recursive: true });
      mkdirSync(join(dir, 'files', 'secrets'), { recursive: true });
      writeFileSync(join(home, 'pki', 'ca.crt'), cluster.api.caPem);
      writeFileSync(join(dir, 'files', 'secrets', 'token'), `${cluster.token}\n`);
      for (const c of doc.clusters) {
        delete c.cluster['certificate-authority-data'];
        c.cluster['certificate-authority'] = 'pki/ca.crt';
      }
      for (const u of doc.users) u.user = { tokenFile: '../secrets/token' };
      writeFileSync(join(home, 'config'), stringify(doc));
      const cert = await cluster.clientCertKubeconfig();
      const certDoc = parse(cert.kubeconfig) as typeof doc;
      const keyPem = cert.keyPem;
      for (const c of certDoc.clusters) {
        delete c.cluster['certificate-authority-data'];
        c.cluster['certificate-authority'] = 'pki/ca.crt';
      }
      for (const u of certDoc.users) {
        writeFileSync(join(home, 'pki', 'client.crt'), Buffer.from(String(u.user['client-certificate-data']), 'base64'));
        writeFileSync(join(home, 'pki', 'client.key'), keyPem);
        u.user = { 'client-certificate': 'pki/client.crt', 'client-key': 'pki/client.key' };
      }
      writeFileSync(join(home, 'cert-config'), stringify(certDoc));

      const elsewhere = join(dir, 'elsewhere');
      mkdirSync(elsewhere, { recursive: true });
      process.chdir(elsewhere);
      for (const file of ['config', 'cert-config']) {
        let stdout = '';
        let stderr = '';
        const code = await cli(['--kubeconfig', relative(elsewhere, join(home, file)), '--grafana-password', cluster.grafanaPassword, '--wait', '3s', '--request-timeout', '5s'], {
          stdout: (t) => (stdout += t),
          stderr: (t) => (stderr += t),
          isTTY: false,
          env: {},
        });
        expect({ file, code, stderr }).toEqual({ file, code: 0, stderr: '' });
        expect(stdout).toContain('✓ METRICS FLOW CORRECTLY');
        expect(stdout + stderr).not.toContain(cluster.token);
        for (const line of keyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) expect(stdout + stderr).not.toContain(line);
      }
    } finally {
      process.chdir(cwd);
      await cluster.stop();
    }
  }, 90_000);

  it('exits 2 naming the tokenFile it cannot read, relative to the kubeconfig file', async () => {
    const home = join(dir, 'broken');
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, 'config'),
      stringify({
        apiVersion: 'v1',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { tokenFile: 'tokens/ci' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    let stderr = '';
    const code = await cli(['--kubeconfig', join(home, 'config'), '--wait', '0'], { stdout: () => undefined, stderr: (t) => (stderr += t), isTTY: false, env: {} });
    expect(code).toBe(2);
    expect(stderr).toContain(`Input 'kubeconfig' is invalid: the tokenFile ${join(home, 'tokens/ci')} of user "u" in the kubeconfig file ${join(home, 'config')} cannot be read (ENOENT)`);
  });
});
