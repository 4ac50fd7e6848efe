/**
 * A simulated cluster that keeps running until it is told to stop: the healthy scenario of a
 * stack (kube-prometheus-stack unless --stack says), started and settled (every Prometheus has
 * scraped its targets once), its action kubeconfig written to disk, then "ready" on stdout. It
 * stops — every server and Prometheus it started, and the files it wrote — on SIGTERM or SIGINT.
 * CI starts it in the background and runs the action itself (`uses: ./`) against it.
 *
 *   node lib/scripts/sim-cluster.js --kubeconfig PATH [--kubeconfig-yaml PATH] [--stack NAME] [--scenario NAME]
 *
 * --kubeconfig receives the kubeconfig base64-encoded on one line (what the action's `kubeconfig`
 * input takes from a step output); --kubeconfig-yaml the same as YAML (for the CLI's --kubeconfig
 * or $KUBECONFIG). Both are written only once the cluster is ready, so their existence is the
 * readiness signal for a shell that polls.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startCluster, type SimulatedCluster } from '../sim/cluster.js';
import { scenario } from '../sim/scenarios.js';
import { STACK_NAMES, STACKS, type StackName } from '../sim/stacks.js';

const USAGE = 'usage: sim-cluster --kubeconfig PATH [--kubeconfig-yaml PATH] [--stack NAME] [--scenario NAME]';

/** Writes `text` next to `path` first, then renames it: a poller never sees half a file. */
function writeAtomically(path: string, text: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, text, { mode: 0o600 });
  renameSync(partial, path);
}

async function main(): Promise<number> {
  let values: { kubeconfig?: string; 'kubeconfig-yaml'?: string; stack?: string; scenario?: string };
  try {
    ({ values } = parseArgs({
      options: { kubeconfig: { type: 'string' }, 'kubeconfig-yaml': { type: 'string' }, stack: { type: 'string' }, scenario: { type: 'string' } },
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`sim-cluster: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (!values.kubeconfig) {
    process.stderr.write(`sim-cluster: --kubeconfig is required\n${USAGE}\n`);
    return 2;
  }
  const stack = (values.stack ?? 'kube-prometheus-stack') as StackName;
  if (!(STACK_NAMES as readonly string[]).includes(stack)) {
    process.stderr.write(`sim-cluster: --stack must be one of ${STACK_NAMES.join(', ')}, not "${stack}"\n`);
    return 2;
  }
  let chosen;
  try {
    chosen = scenario(values.scenario ?? (stack === 'taskflow' ? 'healthy' : `${stack}-healthy`));
  } catch (err) {
    process.stderr.write(`sim-cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if ((chosen.stack ?? 'taskflow') !== stack) {
    process.stderr.write(`sim-cluster: scenario ${chosen.name} runs on ${chosen.stack ?? 'taskflow'}, not ${stack}\n`);
    return 2;
  }

  const files = [values.kubeconfig, values['kubeconfig-yaml']].filter((f): f is string => Boolean(f));
  let cluster: SimulatedCluster | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const file of files) rmSync(file, { force: true });
      await cluster?.stop();
    })());
  // A signal during start-up stops what has started so far (startCluster cleans up after itself on failure).
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });

  process.stdout.write(`sim-cluster: starting ${stack} (scenario ${chosen.name}: ${chosen.description})\n`);
  const starting = startCluster({ scenario: chosen, scrapeInterval: '2s', log: (line) => process.stdout.write(`  ${line}\n`) });
  const first = await Promise.race([
    starting.then(
      (c) => ({ cluster: c }),
      (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
    ),
    stopped.then((signal) => ({ signal })),
  ]);
  if ('error' in first) {
    process.stderr.write(`sim-cluster: the cluster did not start: ${first.error}\n`);
    return 1;
  }
  if ('signal' in first) {
    process.stdout.write(`sim-cluster: ${first.signal} while starting; stopping\n`);
    cluster = await starting.catch(() => undefined);
    await stop();
    return 0;
  }
  cluster = first.cluster;
  try {
    await cluster.settle(30_000);
    writeAtomically(values.kubeconfig, `${Buffer.from(cluster.kubeconfig).toString('base64')}\n`);
    if (values['kubeconfig-yaml']) writeAtomically(values['kubeconfig-yaml'], cluster.kubeconfig);
  } catch (err) {
    process.stderr.write(`sim-cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop();
    return 1;
  }
  const password = STACKS[stack].adminSecret ? 'read by the action from its admin Secret' : `not in a Secret: give grafana-password ${cluster.grafanaPassword}`;
  process.stdout.write(`sim-cluster: ready — ${stack} at ${cluster.api.url}, kubeconfig in ${files.join(' and ')}, Grafana password ${password}\n`);

  const signal = await stopped;
  process.stdout.write(`sim-cluster: ${signal}; stopping\n`);
  await stop();
  process.stdout.write('sim-cluster: stopped\n');
  return 0;
}

process.exitCode = await main();
