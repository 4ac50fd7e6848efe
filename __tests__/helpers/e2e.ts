/**
 * End-to-end harness: a simulated TaskFlow cluster in a given scenario, the bundled action run
 * against it as the GitHub runner runs it, and the invariants every run must keep — no credential
 * in anything the user sees, and no request that could change the cluster.
 */
import { expect } from '@jest/globals';
import { ACTION_ACCOUNT, NAMESPACE, startCluster, type SimulatedCluster } from '../../sim/cluster.js';
import { scenario } from '../../sim/scenarios.js';
import { runAction, type ActionRun } from './run-action.js';

export interface ScenarioRun extends ActionRun {
  readonly cluster: SimulatedCluster;
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
}

const ACTION_USER = `system:serviceaccount:${NAMESPACE}:${ACTION_ACCOUNT}`;

export async function runScenario(name: string, options: ScenarioOptions = {}): Promise<ScenarioRun> {
  const chosen = scenario(name);
  const cluster = await startCluster({ scenario: chosen });
  try {
    if (options.settle !== false) await cluster.settle(12_000);
    options.during?.(cluster);
    const run = await runAction({
      kubeconfig: Buffer.from(cluster.kubeconfig).toString('base64'),
      'grafana-password': cluster.grafanaPassword,
      wait: '3s',
      'request-timeout': '5s',
      ...chosen.inputs,
      ...options.inputs,
    });
    const checks = (run.report?.checks ?? []) as { id: string; status: string }[];
    const statuses = Object.fromEntries(checks.map((c) => [c.id, c.status]));
    assertInvariants(run, cluster, options.inputs?.['grafana-password'] ?? chosen.inputs?.['grafana-password'], !options.inputs?.kubeconfig);
    return { ...run, cluster, statuses };
  } finally {
    await cluster.stop();
  }
}

/** No credential anywhere the user can see; only reads (and the allowed exceptions) reached the cluster. */
function assertInvariants(run: ActionRun, cluster: SimulatedCluster, extraSecret: string | undefined, usedClusterToken: boolean): void {
  const secrets = [cluster.token, cluster.grafanaPassword, ...(extraSecret ? [extraSecret] : [])];
  const visible = { stdout: run.visibleStdout, stderr: run.stderr, summary: run.summary, report: run.reportText, outputs: JSON.stringify(run.outputs) };
  for (const secret of secrets) {
    for (const [where, text] of Object.entries(visible)) {
      expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
    }
  }
  if (usedClusterToken) expect(run.masked).toEqual(expect.arrayContaining([cluster.token]));
  const mutations = cluster.api.requestLog.filter((r) => r.user === ACTION_USER && !isReadOnly(r));
  expect(mutations).toEqual([]);
}

function isReadOnly(r: { method: string; verb: string; resource?: string; subresource?: string; websocket?: true }): boolean {
  if (r.verb === 'get' || r.verb === 'list' || r.verb === 'watch') return true;
  if (r.method === 'POST' && r.resource === 'selfsubjectaccessreviews') return true;
  // Grafana's /login and /api/ds/query are POSTs through the service proxy; they change nothing in the cluster.
  if (r.method === 'POST' && r.resource === 'services' && r.subresource === 'proxy') return true;
  return false;
}

/** The ids whose status in the summary is `status`, in the contract's order. */
export function idsWith(run: ScenarioRun, status: string): string[] {
  return Object.entries(run.statuses)
    .filter(([, s]) => s === status)
    .map(([id]) => id);
}
