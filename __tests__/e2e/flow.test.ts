/**
 * End to end, the bundled action against the simulated TaskFlow cluster (real Prometheus behind a
 * simulated API server and Grafana): stacks where metrics flow, and the ways they come to flow.
 */
import { describe, expect, it } from '@jest/globals';
import { idsWith, runScenario } from '../helpers/e2e.js';

describe('metrics flow', () => {
  it('passes on the healthy TaskFlow stack: every check, outputs, summary, banner-free annotations', async () => {
    const run = await runScenario('healthy');
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', passed: '13', failed: '0', warnings: '0', skipped: '0', 'failed-checks': '' });
    expect(Object.keys(run.statuses)).toHaveLength(13);
    expect(idsWith(run, 'pass')).toEqual(Object.keys(run.statuses));
    expect(run.summary).toMatch(/^## ✅ Metrics flow Prometheus → Grafana/);
    expect(run.summary).toContain('Grafana\'s test of "Prometheus" passed');
    expect(run.summary).toMatch(/job kubernetes-pods: 3 of 3 targets UP/);
    expect(run.annotations).toEqual([]);
  }, 90_000);

  it('warns but passes when the token may not exec: the datasource file is checked from the pod spec', async () => {
    const run = await runScenario('token-no-exec');
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ result: 'passed', warnings: '1', 'failed-checks': '' });
    expect(run.statuses['datasource-mounted']).toBe('warn');
    expect(run.annotations).toEqual([expect.objectContaining({ level: 'warning', title: 'datasource-mounted', message: expect.stringContaining('exec') })]);
  }, 90_000);

  it('fails on warnings too with fail-on-warning', async () => {
    const run = await runScenario('token-no-exec', { inputs: { 'fail-on-warning': 'true' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ result: 'failed', passed: '12', failed: '0', warnings: '1', 'failed-checks': '' });
    expect(run.statuses['datasource-mounted']).toBe('warn');
    // The step fails because of the warning, and says so.
    expect(run.annotations.filter((a) => !a.title)).toEqual([expect.objectContaining({ level: 'error', message: 'Metrics do not flow Prometheus → Grafana: warnings (fail-on-warning)' })]);
  }, 90_000);

  it('passes a stack deployed just now once Prometheus has scraped it, within wait', async () => {
    const run = await runScenario('just-deployed', {
      settle: false,
      inputs: { wait: '45s' },
      during: (cluster) => void setTimeout(() => void cluster.startApps(), 4000),
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe('passed');
    // It passed by retrying: the first attempts saw no target yet.
    const targets = (run.report?.checks as { id: string; status: string; attempts: number }[]).find((c) => c.id === 'prometheus-targets');
    expect(targets).toMatchObject({ status: 'pass', attempts: expect.any(Number) });
    expect(targets?.attempts).toBeGreaterThan(1);
  }, 90_000);

  it('fails the same just-deployed stack with wait 0, pointing at the wait input', async () => {
    const run = await runScenario('just-deployed', { settle: false, inputs: { wait: '0' } });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']?.split(',')).toContain('prometheus-targets');
    const rootCause = run.report?.rootCause as { checkId: string; cause: string; fix: string } | undefined;
    expect(rootCause?.checkId).toBe('prometheus-targets');
    // The summary gives the same cause and its fix, pointing at the wait input.
    expect(run.summary).toContain(`**Root cause** (\`prometheus-targets\`): ${rootCause?.cause}`);
    expect(run.summary).toContain(`**Fix:** ${rootCause?.fix}`);
    expect(rootCause?.cause).toMatch(/^Prometheus started \d+ s ago and has not discovered its targets yet: the first samples are expected within \d+ s/);
    expect(rootCause?.fix).toMatch(/^Raise the wait input/);
  }, 90_000);
});
