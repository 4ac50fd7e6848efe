/**
 * The demo: starts the simulated TaskFlow cluster (optionally broken by a scenario) and runs the
 * metrics-flow-check CLI against it, as a user would against a real cluster.
 *
 *   node lib/sim/demo.js [--scenario NAME] [--list] [--lang fr] [-- extra CLI flags]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cli } from '../src/cli.js';
import { startCluster } from './cluster.js';
import { SCENARIOS, scenario } from './scenarios.js';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { scenario: { type: 'string', default: 'healthy' }, list: { type: 'boolean' }, lang: { type: 'string', default: 'en' } },
    allowPositionals: true,
  });
  if (values.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(28)}${s.description}\n`);
    return 0;
  }
  const chosen = scenario(values.scenario ?? 'healthy');
  process.stdout.write(`Starting the simulated TaskFlow cluster — scenario ${chosen.name}: ${chosen.description}\n`);
  const cluster = await startCluster({ scenario: chosen, scrapeInterval: '2s', log: (line) => process.stdout.write(`  ${line}\n`) });
  // A stack deployed just now starts its apps a few seconds into the check; otherwise the check
  // starts once Prometheus has scraped, and a broken stack is reported after a short wait.
  if (chosen.holdApps) setTimeout(() => void cluster.startApps(), 5000);
  else await cluster.settle(20_000);
  const wait = chosen.name === 'healthy' || chosen.holdApps ? '30s' : '5s';
  const dir = mkdtempSync(join(tmpdir(), 'mfc-demo-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, cluster.kubeconfig, { mode: 0o600 });
  const args = ['--kubeconfig', kubeconfig, '--grafana-password', cluster.grafanaPassword, '--wait', wait, '--lang', values.lang ?? 'en'];
  for (const [name, value] of Object.entries(chosen.inputs ?? {})) args.push(`--${name}`, value);
  args.push(...positionals);
  process.stdout.write(`\n$ metrics-flow-check --kubeconfig ${kubeconfig} --grafana-password *** --wait ${wait}\n\n`);
  try {
    return await cli(args, {
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      isTTY: Boolean(process.stdout.isTTY),
      env: process.env,
    });
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
