/**
 * The demo: starts a simulated cluster of a stack (optionally broken by a scenario) and runs the
 * metrics-flow-check CLI against it with only a kubeconfig, as a user would against a real
 * cluster (plus Grafana's built-in admin password on kube-prometheus, which has no admin Secret).
 *
 *   node lib/sim/demo.js [--stack NAME] [--scenario NAME] [--list] [--lang fr] [-- extra CLI flags]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cli } from '../src/cli.js';
import { startCluster } from './cluster.js';
import { ALL_SCENARIOS, scenario } from './scenarios.js';
import { STACK_NAMES, STACKS, type StackName } from './stacks.js';

/** The healthy scenario of a stack. */
function healthyOf(stack: StackName): string {
  return stack === 'taskflow' ? 'healthy' : `${stack}-healthy`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { stack: { type: 'string' }, scenario: { type: 'string' }, list: { type: 'boolean' }, lang: { type: 'string', default: 'en' } },
    allowPositionals: true,
  });
  if (values.list) {
    for (const s of ALL_SCENARIOS) process.stdout.write(`${s.name.padEnd(46)}${(s.stack ?? 'taskflow').padEnd(27)}${s.description}\n`);
    return 0;
  }
  if (values.stack && !(STACK_NAMES as readonly string[]).includes(values.stack)) {
    process.stderr.write(`demo: --stack must be one of ${STACK_NAMES.join(', ')}, not "${values.stack}"\n`);
    return 2;
  }
  const chosen = scenario(values.scenario ?? healthyOf((values.stack as StackName | undefined) ?? 'taskflow'));
  const stack = chosen.stack ?? 'taskflow';
  if (values.stack && values.stack !== stack) {
    process.stderr.write(`demo: scenario ${chosen.name} runs on ${stack}, not ${values.stack} (see --list)\n`);
    return 2;
  }
  process.stdout.write(`Starting a simulated ${stack} cluster — scenario ${chosen.name}: ${chosen.description}\n`);
  const cluster = await startCluster({ scenario: chosen, scrapeInterval: '2s', log: (line) => process.stdout.write(`  ${line}\n`) });
  // A stack deployed just now starts its apps a few seconds into the check; otherwise the check
  // starts once Prometheus has scraped, and a broken stack is reported after a short wait.
  if (chosen.holdApps) setTimeout(() => void cluster.startApps(), 5000);
  else await cluster.settle(20_000);
  const wait = chosen.name === healthyOf(stack) || chosen.holdApps ? '30s' : '5s';
  const dir = mkdtempSync(join(tmpdir(), 'mfc-demo-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, cluster.kubeconfig, { mode: 0o600 });
  // Only a kubeconfig: the password comes from the stack's admin Secret, where it has one.
  const password = STACKS[stack].adminSecret ? [] : ['--grafana-password', cluster.grafanaPassword];
  const args = ['--kubeconfig', kubeconfig, ...password, '--wait', wait, '--lang', values.lang ?? 'en'];
  for (const [name, value] of Object.entries(chosen.inputs ?? {})) args.push(`--${name}`, value);
  args.push(...positionals);
  process.stdout.write(`\n$ metrics-flow-check --kubeconfig ${kubeconfig}${password.length ? ' --grafana-password ***' : ''} --wait ${wait}${Object.entries(chosen.inputs ?? {}).map(([k, v]) => ` --${k} ${v}`).join('')}\n\n`);
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
