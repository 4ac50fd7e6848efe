/**
 * The bundled action ends with its verdict, in every access mode. A Node process lives as long as
 * something holds it open — a WebSocket, a local server or socket, a timer — and the GitHub
 * runner waits for it; the simulated servers keep idle connections as the real ones do (the API
 * server 90 s, Grafana without limit, Prometheus minutes) and keep a port-forward open until the
 * client closes it. Each run must exit within 2 s of writing its verdict, and a refused
 * port-forward is reported with the API server's status and words and the rule to add.
 *
 * The bundle run is dist/index.js, or the one $MFC_ACTION_DIST names (a bundle built elsewhere
 * from the current sources).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type SimulatedCluster } from '../../sim/cluster.js';
import type { KubeObject } from '../../sim/kube/index.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';

const GRAFANA_TOKEN = 'glsa_exitTestToken_5f6e7d8c9b0a';
/** The most a run may live after its verdict. */
const EXIT_LAG_MS = 2000;
/** A run still alive this long is killed (a hang fails the test instead of stalling the suite). */
const KILL_AFTER_MS = 40_000;

let cluster: SimulatedCluster;
beforeAll(async () => {
  cluster = await startCluster({ grafanaTokens: [GRAFANA_TOKEN] });
  await cluster.settle(15_000);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

async function run(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction(
    { kubeconfig: Buffer.from(cluster.kubeconfig).toString('base64'), wait: '0s', 'request-timeout': '5s', ...inputs },
    {},
    { timeoutMs: KILL_AFTER_MS },
  );
}

function expectPromptExit(name: string, result: ActionRun): void {
  process.stdout.write(`${name}: exit code ${result.exitCode}, ${result.ms} ms, exited ${result.exitLagMs} ms after its verdict\n`);
  expect(result.timedOut).toBe(false);
  expect(result.report).toBeDefined();
  expect(result.exitLagMs).toBeLessThan(EXIT_LAG_MS);
}

describe('the process ends within 2 s of its verdict', () => {
  it('proxy access (Grafana with a password, through the service proxy)', async () => {
    const result = await run({ 'grafana-password': cluster.grafanaPassword });
    expectPromptExit('proxy', result);
    expect(result.exitCode).toBe(0);
  }, 60_000);

  it('port-forward access (Prometheus and Grafana through port-forwards)', async () => {
    const result = await run({ 'grafana-password': cluster.grafanaPassword, access: 'port-forward' });
    expectPromptExit('port-forward', result);
    expect(result.exitCode).toBe(0);
    expect(cluster.api.requestLog.filter((e) => e.subresource === 'portforward' && e.status === 101).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('only a grafana-token (Grafana through a port-forward, the rest through the service proxy)', async () => {
    const result = await run({ 'grafana-token': GRAFANA_TOKEN });
    expectPromptExit('token', result);
    expect(result.exitCode).toBe(0);
    expect(result.summary).toContain('through a port-forward');
  }, 60_000);
});

describe('a refused port-forward', () => {
  const ROLE = { kind: 'Role', namespace: 'taskflow', name: 'metrics-flow-check' };

  it('Kubernetes 1.35 and a Role granting only get on pods/portforward: 403 with the server’s words and the rule with both verbs, and a prompt exit', async () => {
    const role = cluster.api.store.get(ROLE.kind, ROLE.namespace, ROLE.name) as KubeObject;
    const rules = role.rules as { resources?: string[]; verbs?: string[] }[];
    const getOnly = rules.map((r) => (r.resources?.includes('pods/portforward') ? { ...r, verbs: ['get'] } : r));
    cluster.api.setVersion('1.35');
    cluster.api.store.apply({ ...role, rules: getOnly });
    try {
      // The access review would name the missing `create`; skipped, the stream itself is refused.
      const result = await run({ 'grafana-token': GRAFANA_TOKEN, 'skip-checks': 'cluster-access' });
      expectPromptExit('port-forward refused (1.35, get only)', result);
      expect(result.exitCode).toBe(1);
      const checks = (result.report?.checks ?? []) as { id: string; status: string; summary: string; hint?: string }[];
      // With only a token, all of Grafana's API is reached through the port-forward.
      const api = checks.find((c) => c.id === 'grafana-api');
      expect(api?.status).toBe('fail');
      expect(api?.summary).toMatch(/^port-forward to pod taskflow\/grafana-[\w-]+ port 3000: HTTP 403 Forbidden: pods "grafana-[\w-]+" is forbidden: \(no verb named: from Kubernetes 1\.35 a WebSocket stream must be allowed create as well as get\)$/);
      expect(api?.hint).toContain('Add this rule to the Role bound to them:\n- apiGroups: [""]\n  resources: ["pods/portforward"]\n  verbs: ["get", "create"]');
      expect(result.summary).toContain('HTTP 403 Forbidden');
      expect(result.annotations.find((a) => a.title === 'grafana-api')?.message).toContain('HTTP 403 Forbidden');
      const refused = cluster.api.requestLog.filter((e) => e.subresource === 'portforward' && e.user === cluster.actionUser).at(-1);
      expect(refused).toMatchObject({ verb: 'get', websocket: true, status: 403 });
    } finally {
      cluster.api.store.apply(role);
      cluster.api.setVersion('1.32');
    }
  }, 60_000);
});
