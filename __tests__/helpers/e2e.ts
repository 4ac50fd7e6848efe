/**
 * End-to-end harness: a simulated cluster of a stack in a given scenario, the bundled action run
 * against it as the GitHub runner runs it, and the invariants every run must keep — no credential
 * in anything the user sees, and no request that could change the cluster.
 */
import { expect } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startCluster, type SimulatedCluster } from '../../sim/cluster.js';
import { scenario, type Scenario } from '../../sim/scenarios.js';
import { stackManifests } from '../../sim/stacks.js';
import { runAction, type ActionRun } from './run-action.js';

export interface ScenarioRun extends ActionRun {
  readonly cluster: SimulatedCluster;
  /** With `manifests`: the files given to the action, by repository path. */
  readonly files: Record<string, string>;
  /** Each check's status from the JSON report: `id → pass|fail|warn|skip`. */
  readonly statuses: Record<string, string>;
}

export interface ScenarioOptions {
  /** Inputs added to (or replacing) the defaults: the kubeconfig, the Grafana password, wait 3s. */
  readonly inputs?: Record<string, string>;
  /** Wait until Prometheus has scraped before running the action (default true). */
  readonly settle?: boolean;
  /** Runs while the action runs (e.g. start the apps a few seconds in). */
  readonly during?: (cluster: SimulatedCluster) => void;
  /**
   * Gives the action the scenario's manifests as a repository would hold them (one file per
   * object under k8s/, exactly what the cluster was loaded with) through the `manifests` input.
   */
  readonly manifests?: boolean;
  /** The action's kubeconfig authenticates with a client certificate instead of a token. */
  readonly clientCert?: boolean;
  /** Grafana is reached with only this service-account token (no password): through a port-forward. */
  readonly grafanaToken?: string;
  /**
   * Only the kubeconfig (and the scenario's inputs): no Grafana password, no spare token; the
   * action reads Grafana's admin password from the cluster where the stack has a Secret for it.
   */
  readonly zeroConfig?: boolean;
  /** The Kubernetes version the simulated API server plays (default 1.32). */
  readonly kubeVersion?: string;
  /** The Grafana release the simulated Grafana plays (default 11.5.0). */
  readonly grafanaVersion?: string;
}

/** A Grafana token given to every run besides the password: unused in proxy access, it must still be masked. */
export const SPARE_GRAFANA_TOKEN = 'glsa_spareTokenNeverPrinted_0b1c2d3e';

/** Runs the action against the scenario named `name` (or given as an object: a variant built by a test). */
export async function runScenario(name: string | Scenario, options: ScenarioOptions = {}): Promise<ScenarioRun> {
  const chosen = typeof name === 'string' ? scenario(name) : name;
  const cluster = await startCluster({ scenario: chosen, grafanaTokens: options.grafanaToken ? [options.grafanaToken] : [], kubeVersion: options.kubeVersion, grafanaVersion: options.grafanaVersion });
  const workspace = mkdtempSync(join(tmpdir(), 'mfc-repo-'));
  try {
    const manifests = stackManifests(cluster.stack);
    const files = options.manifests ? writeRepository(workspace, chosen.manifests ? chosen.manifests(manifests) : manifests) : {};
    const cert = options.clientCert ? await cluster.clientCertKubeconfig() : undefined;
    if (options.settle !== false) await cluster.settle(12_000);
    options.during?.(cluster);
    const run = await runAction(
      {
        kubeconfig: Buffer.from(cert?.kubeconfig ?? cluster.kubeconfig).toString('base64'),
        ...(options.zeroConfig ? {} : options.grafanaToken ? { 'grafana-token': options.grafanaToken } : { 'grafana-password': cluster.grafanaPassword, 'grafana-token': SPARE_GRAFANA_TOKEN }),
        wait: '3s',
        'request-timeout': '5s',
        ...(options.manifests ? { manifests: 'k8s/**/*.yaml' } : {}),
        ...chosen.inputs,
        ...options.inputs,
      },
      { GITHUB_WORKSPACE: workspace },
    );
    const checks = (run.report?.checks ?? []) as { id: string; status: string }[];
    const statuses = Object.fromEntries(checks.map((c) => [c.id, c.status]));
    const secrets = [
      cluster.token,
      cluster.grafanaPassword,
      SPARE_GRAFANA_TOKEN,
      ...(options.grafanaToken ? [options.grafanaToken] : []),
      ...(cert ? keyLines(cert.keyPem) : []),
      ...[options.inputs?.['grafana-password'], chosen.inputs?.['grafana-password']].filter((v): v is string => Boolean(v)),
    ];
    assertInvariants(run, cluster, secrets, !options.inputs?.kubeconfig && !cert);
    return { ...run, cluster, statuses, files };
  } finally {
    await cluster.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** Writes each object to k8s/<kind>-<name>.yaml; returns the files' texts by repository path. */
function writeRepository(dir: string, objects: readonly { kind: string; metadata: { name: string } }[]): Record<string, string> {
  mkdirSync(join(dir, 'k8s'));
  const files: Record<string, string> = {};
  for (const obj of objects) {
    const path = `k8s/${obj.kind.toLowerCase()}-${obj.metadata.name}.yaml`;
    const text = stringify(obj, { lineWidth: 0 });
    writeFileSync(join(dir, path), text);
    files[path] = readFileSync(join(dir, path), 'utf8');
  }
  return files;
}

/** The 1-based line of the first line of `file` matching `pattern`. */
export function lineOf(run: ScenarioRun, file: string, pattern: RegExp): number {
  const index = (run.files[file] ?? '').split('\n').findIndex((line) => pattern.test(line));
  if (index < 0) throw new Error(`no line of ${file} matches ${pattern}`);
  return index + 1;
}

/** The base64 lines of a PEM private key: any of them printed would leak part of the key. */
function keyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

/**
 * No credential anywhere the user can see or the run left on disk; only reads (and the allowed
 * exceptions) reached the cluster.
 */
function assertInvariants(run: ActionRun, cluster: SimulatedCluster, secrets: readonly string[], usedClusterToken: boolean): void {
  const visible = {
    stdout: run.visibleStdout,
    stderr: run.stderr,
    summary: run.summary,
    report: run.reportText,
    outputs: JSON.stringify(run.outputs),
    disk: run.diskText,
  };
  for (const secret of secrets) {
    for (const [where, text] of Object.entries(visible)) {
      expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
    }
  }
  if (usedClusterToken) expect(run.masked).toEqual(expect.arrayContaining([cluster.token]));
  const mutations = cluster.api.requestLog.filter((r) => r.user === cluster.actionUser && !isReadOnly(r));
  expect(mutations).toEqual([]);
}

/** Commands the action may run inside a container: they read, and print. */
const READ_ONLY_PROGRAMS = new Set(['cat', 'ls', 'test', 'nslookup', 'wget']);

/**
 * What a read-only run may send: reads, access reviews, exec of read-only commands, and through
 * the service proxy GETs plus Grafana's login and query POSTs (which change nothing in the cluster).
 */
function isReadOnly(r: { method: string; path: string; query: string; verb: string; resource?: string; subresource?: string }): boolean {
  if (r.subresource === 'exec') {
    const program = new URLSearchParams(r.query).getAll('command')[0] ?? '';
    return r.verb === 'get' && READ_ONLY_PROGRAMS.has(program);
  }
  if (r.method === 'POST' && (r.resource === 'selfsubjectaccessreviews' || r.resource === 'selfsubjectrulesreviews' || r.resource === 'subjectaccessreviews')) return true;
  if (r.method === 'POST' && r.resource === 'services' && r.subresource === 'proxy') return /\/proxy\/(login|api\/ds\/query)$/.test(r.path);
  return r.method === 'GET' && (r.verb === 'get' || r.verb === 'list' || r.verb === 'watch');
}

/** The ids whose status in the summary is `status`, in the contract's order. */
export function idsWith(run: ScenarioRun, status: string): string[] {
  return Object.entries(run.statuses)
    .filter(([, s]) => s === status)
    .map(([id]) => id);
}

/**
 * The <testcase> element (its content included) named `name` in suite class `classname` of the
 * JUnit file a run wrote (found in what it left on disk); '' when there is none.
 */
export function junitCase(diskText: string, classname: string, title: string): string {
  const xml = /<testsuites[\s\S]*?<\/testsuites>/.exec(diskText)?.[0] ?? '';
  const escaped = (t: string) => t.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const cases = xml.split('<testcase ').slice(1).map((c) => `<testcase ${c.split('</testcase>')[0]}`);
  return cases.find((c) => c.includes(`classname="${escaped(classname)}"`) && c.includes(`name="${escaped(title)}`)) ?? '';
}
