/**
 * Load benchmark: the bundled action against a TaskFlow cluster whose Prometheus has 10,000
 * active targets and whose namespace holds 5,000 more pods, next to the plain TaskFlow cluster.
 * Prints, for each, the verdict, the run time and the action's peak resident memory.
 *
 *   npm run bench            (after npm run build)
 *   node lib/scripts/bench-load.js --targets 20000 --pods 8000
 */
import { parseArgs } from 'node:util';
import { startCluster } from '../sim/cluster.js';
import { runAction } from '../sim/github-runner.js';

interface Row {
  readonly name: string;
  readonly result: string;
  readonly failed: string;
  readonly seconds: string;
  readonly peakRssMiB: number;
}

async function measure(name: string, options: { syntheticTargets?: number; extraPods?: number }): Promise<Row> {
  const started = Date.now();
  const cluster = await startCluster(options);
  const setup = ((Date.now() - started) / 1000).toFixed(1);
  try {
    await cluster.settle(20_000);
    const run = await runAction({
      kubeconfig: cluster.kubeconfig,
      'grafana-password': cluster.grafanaPassword,
      wait: '30s',
      'request-timeout': '20s',
    });
    process.stderr.write(`${name}: cluster ready in ${setup} s\n`);
    return {
      name,
      result: run.outputs.result ?? `exit ${run.exitCode}`,
      failed: run.outputs['failed-checks'] || '—',
      seconds: (run.ms / 1000).toFixed(1),
      peakRssMiB: run.peakRssMiB,
    };
  } finally {
    await cluster.stop();
  }
}

const { values } = parseArgs({ options: { targets: { type: 'string', default: '10000' }, pods: { type: 'string', default: '5000' } } });
const targets = Number(values.targets);
const pods = Number(values.pods);
const rows = [
  await measure('TaskFlow (3 targets, real Prometheus)', {}),
  await measure(`${targets} targets, ${pods} extra pods`, { syntheticTargets: targets, extraPods: pods }),
];
const header = ['scenario', 'result', 'failed checks', 'run time (s)', 'peak RSS (MiB)'];
const table = [header, ...rows.map((r) => [r.name, r.result, r.failed, r.seconds, String(r.peakRssMiB)])];
const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
for (const row of table) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}\n`);
