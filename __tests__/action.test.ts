/** The bundled action, run as the GitHub runner runs it, on inputs that end before any check passes. */
import { describe, expect, it } from '@jest/globals';
import { runAction } from './helpers/run-action.js';

const TOKEN = 'action-token-5c3e9d1f7a2b';
const PASSWORD = 'grafana-pw-8e4a1c6b';

const unreachable = [
  'apiVersion: v1',
  'clusters: [{name: c, cluster: {server: "https://127.0.0.1:59998"}}]',
  `users: [{name: u, user: {token: ${TOKEN}}}]`,
  'contexts: [{name: x, context: {cluster: c, user: u}}]',
  'current-context: x',
].join('\n');

describe('the action (dist/index.js)', () => {
  it('fails at once on a bad input, naming it and the expected form', async () => {
    const run = await runAction({ kubeconfig: unreachable, 'request-timeout': '10x' });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/::error::Input 'request-timeout' is invalid: .*10x.*expected/);
    expect(run.outputs.result).toBeUndefined();
  });

  it('fails at once on an unreadable kubeconfig without printing it', async () => {
    const run = await runAction({ kubeconfig: `clusters: [\n  token: ${TOKEN}` });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/::error::Input 'kubeconfig' is invalid/);
    expect(run.visibleStdout).not.toContain(TOKEN);
  });

  it('reports an unreachable API server: outputs, summary, annotation, JSON report, and no credential anywhere', async () => {
    const run = await runAction({
      kubeconfig: Buffer.from(unreachable).toString('base64'),
      'grafana-password': PASSWORD,
      wait: '0',
      'request-timeout': '2s',
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ result: 'failed', passed: '0', failed: '1', warnings: '0', skipped: '12', 'failed-checks': 'cluster-access' });
    expect(run.report).toMatchObject({ result: 'failed' });
    expect(run.summary.indexOf('not flow')).toBeLessThan(run.summary.indexOf('cluster-access'));
    expect(run.summary).toContain('connection refused');
    // One annotation per failed check, titled with its id; then core.setFailed's own line.
    expect(run.annotations.filter((a) => a.title)).toEqual([expect.objectContaining({ level: 'error', title: 'cluster-access' })]);
    expect(run.annotations.filter((a) => !a.title)).toEqual([expect.objectContaining({ message: expect.stringContaining('cluster-access') })]);
    expect(run.masked).toEqual(expect.arrayContaining([TOKEN, PASSWORD]));
    for (const text of [run.visibleStdout, run.stderr, run.summary, run.reportText, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PASSWORD);
    }
  });
});
