/** The bundled action, run as the GitHub runner runs it, on inputs that end before any check passes. */
import { describe, expect, it } from '@jest/globals';
import { runAction } from './helpers/run-action.js';

const TOKEN = 'action-token-5c3e9d1f7a2b';
const PASSWORD = 'grafana-pw-8e4a1c6b';

/** Each of `parts` is in `text` (indexOf is -1 for a missing one), in this order. */
function expectInOrder(text: string, parts: readonly string[]): void {
  const at = parts.map((part) => ({ part, index: text.indexOf(part) }));
  expect({ missing: at.filter((p) => p.index < 0).map((p) => p.part) }).toEqual({ missing: [] });
  const inText = [...at].sort((a, b) => a.index - b.index).map((p) => p.part);
  expect(inText).toEqual(parts);
}

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
    expect(run.outputs).toEqual({});
    expect(run.summary).toBe('');
    // Nothing was attempted: no check ran, so nothing was reported.
    expect(run.stdout).not.toContain('cluster-access');
  });

  it('fails at once on an unreadable kubeconfig without printing it', async () => {
    const run = await runAction({ kubeconfig: `clusters: [\n  token: ${TOKEN}` });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/::error::Input 'kubeconfig' is invalid/);
    expect(run.outputs).toEqual({});
    for (const text of [run.visibleStdout, run.stderr, run.diskText]) expect(text).not.toContain(TOKEN);
  });

  it('reports an unreachable API server: outputs, summary, annotation, JSON report, and no credential anywhere', async () => {
    const run = await runAction({
      kubeconfig: Buffer.from(unreachable).toString('base64'),
      'grafana-password': PASSWORD,
      wait: '0',
      'request-timeout': '2s',
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ result: 'failed', passed: '0', failed: '1', warnings: '0', skipped: '13', 'failed-checks': 'cluster-access' });
    expect(run.report).toMatchObject({ result: 'failed' });
    // The verdict first, then the root cause (the failed check and what was seen), then the table.
    expectInOrder(run.summary, ['## ❌ Metrics do not flow', '**Root cause** (`cluster-access`)', 'connection refused', '| ❌ fail | `cluster-access` |']);
    expect(run.summary.startsWith('## ❌ Metrics do not flow')).toBe(true);
    // The check's annotation, then the step's failure naming it.
    expectInOrder(run.stdout, ['::error title=cluster-access::', '::error::Metrics do not flow Prometheus → Grafana: cluster-access']);
    // One annotation per failed check, titled with its id; then core.setFailed's own line.
    expect(run.annotations.filter((a) => a.title)).toEqual([expect.objectContaining({ level: 'error', title: 'cluster-access' })]);
    expect(run.annotations.filter((a) => !a.title)).toEqual([expect.objectContaining({ message: expect.stringContaining('cluster-access') })]);
    expect(run.masked).toEqual(expect.arrayContaining([TOKEN, PASSWORD]));
    expect(run.reportText).toContain('cluster-access');
    for (const text of [run.visibleStdout, run.stderr, run.summary, run.reportText, JSON.stringify(run.outputs), run.diskText]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PASSWORD);
    }
  });
});
