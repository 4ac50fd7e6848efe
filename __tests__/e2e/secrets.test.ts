/**
 * Credentials never leak: runs with a client certificate (its key), a Grafana service-account
 * token reached through a port-forward, and failing scenarios whose messages quote URLs and
 * errors — none of the values appears in stdout, stderr, the summary, the outputs, the JSON
 * report, or any file the run left on disk (asserted by the harness for every run).
 */
import { describe, expect, it } from '@jest/globals';
import { runScenario } from '../helpers/e2e.js';

const GRAFANA_TOKEN = 'glsa_recognisableGrafanaToken_7f3a9c21';

describe('credentials', () => {
  it('a client certificate and a Grafana token only: the flow passes (Grafana through a port-forward), nothing leaks', async () => {
    const run = await runScenario('healthy', { clientCert: true, grafanaToken: GRAFANA_TOKEN });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe('passed');
    expect(run.summary).toContain('through a port-forward');
    expect(run.masked).toEqual(expect.arrayContaining([GRAFANA_TOKEN]));
  }, 90_000);

  it('a rejected Grafana token is named as "the grafana-token", never printed', async () => {
    const run = await runScenario('healthy', { grafanaToken: GRAFANA_TOKEN, inputs: { 'grafana-token': 'glsa_wrongTokenNeverPrinted_55aa' } });
    expect(run.outputs['failed-checks']).toBe('grafana-datasource');
    expect(run.summary).toContain('Grafana rejected the grafana-token');
    expect(run.visibleStdout + run.summary + run.reportText).not.toContain('glsa_wrongTokenNeverPrinted_55aa');
  }, 90_000);

  it('failing scenarios with a client certificate leak nothing either', async () => {
    for (const name of ['wrong-grafana-password', 'token-no-configmaps', 'prometheus-service-missing']) {
      const run = await runScenario(name, { clientCert: true, settle: false });
      expect(run.outputs.result).toBe('failed');
    }
  }, 120_000);
});
