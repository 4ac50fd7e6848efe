/**
 * Benchmark: the bundled action (dist/index.js, run as the GitHub runner runs it) against the
 * yardstick — scripts/yardstick/test-metrics-flow.sh, the operations guide's eight checks in bash
 * and kubectl — on the same simulated clusters, measured the same way: wall time, requests the
 * API server received from the action's identity (proxied and exec requests included), and peak
 * resident memory (of the action's process; of the largest process of the script, kubectl
 * included, by /usr/bin/time). Runs alternate (action, script, action, script…) so that a
 * machine busy for a while weighs on both.
 *
 * Also: the exit on a bad input (cold start), the bundle's size, the action on 10,000 targets and
 * 5,000 more pods (over the healthy run), the healthy run of every stack, and kube-prometheus-stack
 * with 40 scrape pools against the yardstick. One table of figures against goals; it is a
 * measurement, so it exits 0 whether goals are met or not (2 on a usage error).
 *
 *   npm run bench
 *   node lib/scripts/bench.js [--runs 5] [--scale-runs 5] [--stack-runs 5] [--cold-runs 5] [--json PATH]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startCluster, type ClusterOptions, type SimulatedCluster } from '../sim/cluster.js';
import { actionEntry, runAction } from '../sim/github-runner.js';
import { STACK_NAMES, type StackName } from '../sim/stacks.js';

const YARDSTICK = join(ROOT, 'scripts/yardstick/test-metrics-flow.sh');
const YARDSTICK_KPS = join(ROOT, 'scripts/yardstick/kube-prometheus-stack.sh');
const GNU_TIME = '/usr/bin/time';
const RUN_TIMEOUT_MS = 120_000;

// ---- measurements ----------------------------------------------------------------------------

type Tool = 'action' | 'script';

interface Run {
  readonly section: string;
  readonly tool: Tool;
  readonly index: number;
  readonly ms: number;
  readonly requests: number;
  /** Of which discovery (/version, /api, /apis and each group version). */
  readonly discovery: number;
  /** Undefined when it could not be measured (no /usr/bin/time for the script). */
  readonly rssMiB: number | undefined;
  /** The verdict: the action's `result` output, the script's exit; with its exit code. */
  readonly verdict: string;
  readonly passed: boolean;
}

/**
 * What the action is given where it is compared with the kubectl script, or with itself under
 * load: the checks the script does (the operations guide's eight), so not the dashboards check,
 * which runs every panel of every dashboard (its cost is measured on its own, row "with the
 * dashboards check").
 */
const SAME_CHECKS = { dashboards: 'none' } as const;

const runs: Run[] = [];

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const DISCOVERY = /^\/(version|api(\/v1)?|apis(\/[^/]+\/[^/]+)?)\/?$/;

/**
 * Requests the API server received from the action's identity since `from` (an index into its
 * log), and how many of them were discovery. kubectl with an empty cache reads /api, /apis and,
 * from an API server that serves only legacy discovery as the simulated one does, every group
 * version (a real 1.30+ API server answers /api and /apis aggregated: two requests).
 */
function requestsSince(cluster: SimulatedCluster, from: number): { requests: number; discovery: number } {
  const mine = cluster.api.requestLog.slice(from).filter((e) => e.user === cluster.actionUser);
  return { requests: mine.length, discovery: mine.filter((e) => DISCOVERY.test(e.path)).length };
}

function record(run: Run): Run {
  runs.push(run);
  const rss = run.rssMiB === undefined ? 'n/a' : `${run.rssMiB} MiB`;
  process.stdout.write(
    `  ${run.section.padEnd(34)} ${run.tool.padEnd(6)} #${String(run.index).padEnd(2)} ${`${run.ms} ms`.padStart(9)}  ${String(run.requests).padStart(4)} requests ${`(${run.discovery} discovery)`.padEnd(15)} ${rss.padStart(8)}  ${run.verdict}\n`,
  );
  return run;
}

/** One run of the bundled action against `cluster`. */
async function actionRun(section: string, index: number, cluster: SimulatedCluster, inputs: Record<string, string>): Promise<Run> {
  const from = cluster.api.requestLog.length;
  const run = await runAction({ kubeconfig: Buffer.from(cluster.kubeconfig).toString('base64'), ...inputs }, {}, { timeoutMs: RUN_TIMEOUT_MS });
  const error = run.annotations.find((a) => a.level === 'error')?.message.split('\n')[0]?.slice(0, 70);
  const result = run.outputs.result ?? (run.timedOut ? 'timed out' : `no result${error ? ` (${error})` : ''}`);
  const failed = run.outputs['failed-checks'] ? ` (${run.outputs['failed-checks']})` : '';
  return record({
    section,
    tool: 'action',
    index,
    ms: run.ms,
    ...requestsSince(cluster, from),
    rssMiB: run.peakRssMiB || undefined,
    verdict: `${result}${failed}, exit ${run.exitCode}`,
    passed: run.exitCode === 0 && result === 'passed',
  });
}

/** A YAML kubeconfig of the action's identity on disk, for kubectl (as scripts/sim-cluster.ts writes one). */
function writeKubeconfig(work: string, cluster: SimulatedCluster): string {
  const path = join(mkdtempSync(join(work, 'cluster-')), 'kubeconfig.yaml');
  writeFileSync(path, cluster.kubeconfig, { mode: 0o600 });
  return path;
}

/**
 * Where kubectl keeps its discovery cache ($HOME/.kube/cache): `cold`, an empty HOME for each run,
 * as in a fresh CI job; `warm`, one HOME per cluster filled before the first run, as at an
 * operator's desk.
 */
let kubectlCache: 'cold' | 'warm' = 'cold';

/** The HOME a script run gets: a new one when cold; when warm, the cluster's (beside its kubeconfig), primed once. */
async function kubectlHome(kubeconfig: string): Promise<{ home: string; dispose: () => void }> {
  if (kubectlCache === 'cold') {
    const home = mkdtempSync(join(tmpdir(), 'mfc-bench-home-'));
    return { home, dispose: () => rmSync(home, { recursive: true, force: true }) };
  }
  const home = join(dirname(kubeconfig), 'home');
  if (!existsSync(home)) {
    mkdirSync(home);
    await new Promise<void>((resolve) => {
      const child = spawn('kubectl', ['api-resources'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig }, stdio: 'ignore' });
      child.on('error', () => resolve());
      child.on('close', () => resolve());
    });
  }
  return { home, dispose: () => undefined };
}

/** One run of a yardstick script with KUBECONFIG pointing at the action's identity. */
async function scriptRun(section: string, index: number, cluster: SimulatedCluster, script: string, kubeconfig: string, env: Record<string, string>): Promise<Run> {
  const { home, dispose } = await kubectlHome(kubeconfig);
  const rssFile = join(home, 'peak-rss-kb');
  const timed = existsSync(GNU_TIME);
  const [command, args] = timed ? [GNU_TIME, ['-f', '%M', '-o', rssFile, 'bash', script]] : ['bash', [script]];
  const from = cluster.api.requestLog.length;
  const started = performance.now();
  try {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      const child = spawn(command, args, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
      child.on('error', reject);
      child.on('close', (c) => {
        clearTimeout(killer);
        resolve({ code: c ?? -1, stdout: out });
      });
    });
    const ms = Math.round(performance.now() - started);
    const kb = timed ? Number(/^(\d+)\s*$/m.exec(readFileSync(rssFile, 'utf8'))?.[1] ?? 0) : 0;
    const failedChecks = stdout
      .split('\n')
      .filter((l) => l.startsWith('FAIL'))
      .map((l) => /^FAIL\s+(\d)\/8/.exec(l)?.[1])
      .join(',');
    return record({
      section,
      tool: 'script',
      index,
      ms,
      ...requestsSince(cluster, from),
      rssMiB: kb ? Math.round(kb / 1024) : undefined,
      verdict: `${code === 0 ? 'passed' : `failed (checks ${failedChecks || '?'})`}, exit ${code}`,
      passed: code === 0,
    });
  } finally {
    rmSync(rssFile, { force: true });
    dispose();
  }
}

interface Summary {
  readonly n: number;
  readonly ms: number;
  readonly requests: number;
  readonly rssMiB: number | undefined;
  readonly allPassed: boolean;
}

function summarize(list: readonly Run[]): Summary {
  const rss = list.map((r) => r.rssMiB).filter((v): v is number => v !== undefined);
  return {
    n: list.length,
    ms: median(list.map((r) => r.ms)),
    requests: median(list.map((r) => r.requests)),
    rssMiB: rss.length ? median(rss) : undefined,
    allPassed: list.every((r) => r.passed),
  };
}

// ---- clusters --------------------------------------------------------------------------------

const live = new Set<SimulatedCluster>();

/** Starts a cluster, settles it, runs `body`, and stops the cluster whatever happens. */
async function withCluster<T>(what: string, options: ClusterOptions, settleMs: number, body: (cluster: SimulatedCluster) => Promise<T>): Promise<T> {
  const started = performance.now();
  const cluster = await startCluster(options);
  live.add(cluster);
  try {
    await cluster.settle(settleMs);
    log(`${what}: cluster ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return await body(cluster);
  } finally {
    live.delete(cluster);
    await cluster.stop();
  }
}

async function stopAll(): Promise<void> {
  for (const cluster of [...live]) {
    live.delete(cluster);
    await cluster.stop().catch(() => undefined);
  }
}

/** The inputs each stack needs besides the kubeconfig (kube-prometheus has no admin Secret). */
function stackInputs(stack: StackName, cluster: SimulatedCluster): Record<string, string> {
  return stack === 'kube-prometheus' ? { 'grafana-password': cluster.grafanaPassword } : {};
}

/**
 * Distinct scrape pools of the Prometheus pods of the cluster (`app.kubernetes.io/name=prometheus`),
 * asked on their pod addresses, not through the API server: whatever serves there, real or synthetic.
 */
async function scrapePools(cluster: SimulatedCluster): Promise<number> {
  const pools = new Set<string>();
  const pods = cluster.api.store.list('Pod', cluster.namespace, 'app.kubernetes.io/name=prometheus') as { status?: { podIP?: string } }[];
  for (const ip of pods.map((p) => p.status?.podIP).filter((v): v is string => Boolean(v))) {
    const res = await fetch(`http://${ip}:9090/api/v1/targets?state=active`);
    const body = (await res.json()) as { data?: { activeTargets?: { scrapePool?: string }[] } };
    for (const t of body.data?.activeTargets ?? []) if (t.scrapePool) pools.add(t.scrapePool);
  }
  return pools.size;
}

/**
 * The bytes of the bundle a run may load: the entry and every file it imports, statically or
 * with import(), relative to it, transitively (a bundler that splits the code into chunks), and
 * the sidecars those require on first use.
 */
function bundleBytes(entryFile: string): { entry: number; total: number; files: number } {
  const seen = new Set<string>([entryFile]);
  const queue = [entryFile];
  let total = 0;
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const text = readFileSync(file, 'utf8');
    total += Buffer.byteLength(text);
    // Chunks it imports, and the sidecars (CommonJS files a chunk requires on first use: "./lazy-….cjs").
    for (const m of text.matchAll(/(?:(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["'])|["'](\.\/[\w.-]+\.cjs)["']/g)) {
      const target = join(dirname(file), (m[1] ?? m[2]) as string);
      if (!seen.has(target) && existsSync(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return { entry: statSync(entryFile).size, total, files: seen.size };
}

// ---- the table -------------------------------------------------------------------------------

interface Figure {
  readonly figure: string;
  readonly baseline: string;
  readonly goal: string;
  readonly measured: string;
  /** yes / no; — where there is no goal or nothing was measured. */
  readonly met: string;
  readonly value?: Record<string, number | string | boolean | undefined>;
}

const yesNo = (ok: boolean) => (ok ? 'yes' : 'no');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const signed = (n: number, unit: string, digits = 0) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(digits)}${unit}`;
const mib = (v: number | undefined) => (v === undefined ? 'n/a' : `${v} MiB`);
const verdictNote = (s: Summary) => (s.allPassed ? '' : ' [not every run passed]');

function printTable(figures: readonly Figure[]): void {
  const header = ['figure', 'baseline', 'goal', 'measured', 'met'];
  const rows = [header, ...figures.map((f) => [f.figure, f.baseline, f.goal, f.measured, f.met])];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |\n`;
  process.stdout.write(line(header));
  process.stdout.write(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows.slice(1)) process.stdout.write(line(r));
}

// ---- main ------------------------------------------------------------------------------------

const USAGE = 'usage: bench [--runs N] [--scale-runs N] [--stack-runs N] [--cold-runs N] [--kubectl-cache cold|warm] [--json PATH]';

function positive(values: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not "${raw}"`);
  return n;
}

async function main(): Promise<number> {
  let opts: { runs: number; scaleRuns: number; stackRuns: number; coldRuns: number; json: string | undefined };
  try {
    const { values } = parseArgs({
      options: {
        runs: { type: 'string' },
        'scale-runs': { type: 'string' },
        'stack-runs': { type: 'string' },
        'cold-runs': { type: 'string' },
        'kubectl-cache': { type: 'string' },
        json: { type: 'string' },
      },
      allowPositionals: false,
    });
    opts = {
      runs: positive(values, 'runs', 5),
      scaleRuns: positive(values, 'scale-runs', 5),
      stackRuns: positive(values, 'stack-runs', 5),
      coldRuns: positive(values, 'cold-runs', 5),
      json: values.json,
    };
    const cache = values['kubectl-cache'] ?? 'cold';
    if (cache !== 'cold' && cache !== 'warm') throw new Error(`--kubectl-cache must be cold or warm, not "${cache}"`);
    kubectlCache = cache;
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const entry = actionEntry();
  if (!existsSync(entry)) {
    process.stderr.write(`bench: ${entry} does not exist: run npm run bundle first\n`);
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), 'mfc-bench-'));
  const started = performance.now();
  const figures: Figure[] = [];
  const stackRows: Figure[] = [];
  const failure = (err: unknown) => `error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;

  let healthy: { action: Summary; script: Summary } | undefined;
  /** The action as a workflow runs it by default (the dashboards check too), on the same cluster. */
  let dashboardsRun: Summary | undefined;
  let cold: Summary | undefined;
  let bareNodeMs: number | undefined;
  let healthyError = '';
  let coldError = '';
  process.stdout.write(
    [
      'On TaskFlow the action and the kubectl script are given the same: the kubeconfig and the Grafana password. On the other stacks the action gets the',
      `kubeconfig only (it reads the password from the stack's admin Secret; kube-prometheus, which has none: grafana-password), as the script's kube-prometheus-stack wrapper does; kubectl's discovery cache: ${kubectlCache}.`,
      'Runs (wall, API-server requests from the action\'s identity, peak RSS, verdict):',
      '',
    ].join('\n'),
  );
  try {
    // 1. TaskFlow, healthy: action and script alternately; the bad-input exit on the side.
    await withCluster('TaskFlow healthy', {}, 20_000, async (cluster) => {
      const kubeconfig = writeKubeconfig(work, cluster);
      const env = { GRAFANA_PASSWORD: cluster.grafanaPassword };
      const actions: Run[] = [];
      const scripts: Run[] = [];
      const withDashboards: Run[] = [];
      for (let i = 1; i <= opts.runs; i++) {
        // Given what the script is given: the kubeconfig and the Grafana password (the README's pull-request gate).
        actions.push(await actionRun('TaskFlow healthy', i, cluster, { 'grafana-password': cluster.grafanaPassword, ...SAME_CHECKS }));
        scripts.push(await scriptRun('TaskFlow healthy', i, cluster, YARDSTICK, kubeconfig, env));
        withDashboards.push(await actionRun('TaskFlow healthy, dashboards: all', i, cluster, { 'grafana-password': cluster.grafanaPassword }));
      }
      healthy = { action: summarize(actions), script: summarize(scripts) };
      dashboardsRun = summarize(withDashboards);
      try {
        const colds: Run[] = [];
        // The floor: a script that does nothing, started the same way (the runner's environment, the memory hook).
        const empty = join(work, 'empty.mjs');
        writeFileSync(empty, '');
        const floors: number[] = [];
        for (let i = 1; i <= opts.coldRuns; i++) {
          colds.push(await actionRun('bad input (wait: banana)', i, cluster, { wait: 'banana' }));
          floors.push((await runAction({}, {}, { dist: empty, timeoutMs: RUN_TIMEOUT_MS })).ms);
        }
        cold = summarize(colds);
        bareNodeMs = median(floors);
        log(`bare Node started the same way: ${floors.join(', ')} ms`);
      } catch (err) {
        coldError = failure(err);
      }
    });
  } catch (err) {
    healthyError = failure(err);
    log(`TaskFlow healthy: ${healthyError}`);
  }

  // 2. Load: 10,000 targets and 5,000 more pods.
  let scale: Summary | undefined;
  let scaleError = '';
  try {
    await withCluster('10,000 targets + 5,000 pods', { syntheticTargets: 10_000, extraPods: 5_000 }, 20_000, async (cluster) => {
      const list: Run[] = [];
      for (let i = 1; i <= opts.scaleRuns; i++) list.push(await actionRun('10k targets + 5k pods', i, cluster, { 'grafana-password': cluster.grafanaPassword, ...SAME_CHECKS }));
      scale = summarize(list);
    });
  } catch (err) {
    scaleError = failure(err);
    log(`load: ${scaleError}`);
  }

  // 3. Every stack, healthy (TaskFlow's are the runs of 1).
  for (const stack of STACK_NAMES) {
    if (stack === 'taskflow') {
      stackRows.push({
        figure: 'healthy taskflow: wall, requests, peak RSS',
        baseline: '—',
        goal: '—',
        measured: healthy ? `${seconds(healthy.action.ms)}, ${healthy.action.requests} req, ${mib(healthy.action.rssMiB)} (the runs of row 1)${verdictNote(healthy.action)}` : healthyError || 'not measured',
        met: '—',
        ...(healthy ? { value: { stack, ms: healthy.action.ms, requests: healthy.action.requests, rssMiB: healthy.action.rssMiB, allPassed: healthy.action.allPassed } } : {}),
      });
      continue;
    }
    try {
      const summary = await withCluster(`${stack} healthy`, { stack }, 20_000, async (cluster) => {
        const list: Run[] = [];
        for (let i = 1; i <= opts.stackRuns; i++) list.push(await actionRun(`${stack} healthy`, i, cluster, stackInputs(stack, cluster)));
        return summarize(list);
      });
      stackRows.push({
        figure: `healthy ${stack}: wall, requests, peak RSS`,
        baseline: '—',
        goal: '—',
        measured: `${seconds(summary.ms)}, ${summary.requests} req, ${mib(summary.rssMiB)}${verdictNote(summary)}`,
        met: '—',
        value: { stack, ms: summary.ms, requests: summary.requests, rssMiB: summary.rssMiB, allPassed: summary.allPassed },
      });
    } catch (err) {
      stackRows.push({ figure: `healthy ${stack}: wall, requests, peak RSS`, baseline: '—', goal: '—', measured: failure(err), met: '—' });
    }
  }

  // 4. kube-prometheus-stack with 40 scrape pools: action and script alternately.
  let pools: { action: Summary; script: Summary } | undefined;
  let poolsNote = '';
  // `scale` is cast so that this compiles, and reports "not available", on a simulator without it.
  const poolsOptions = { stack: 'kube-prometheus-stack', scale: { pools: 40, targets: 2000 } } as ClusterOptions & { scale?: { pools: number; targets: number } };
  try {
    await withCluster('kube-prometheus-stack, 40 scrape pools', poolsOptions, 30_000, async (cluster) => {
      const found = await scrapePools(cluster);
      if (found < 40) {
        poolsNote = `not available (the cluster has ${found} scrape pools: startCluster's scale option is missing or not applied)`;
        return;
      }
      const kubeconfig = writeKubeconfig(work, cluster);
      const actions: Run[] = [];
      const scripts: Run[] = [];
      for (let i = 1; i <= opts.scaleRuns; i++) {
        actions.push(await actionRun('kps, 40 scrape pools', i, cluster, { ...SAME_CHECKS }));
        scripts.push(await scriptRun('kps, 40 scrape pools', i, cluster, YARDSTICK_KPS, kubeconfig, {}));
      }
      pools = { action: summarize(actions), script: summarize(scripts) };
    });
  } catch (err) {
    poolsNote = `not available (${failure(err)})`;
  }
  await stopAll();
  rmSync(work, { recursive: true, force: true });

  // ---- figures -------------------------------------------------------------------------------
  const bundle = bundleBytes(entry);
  const none = (why: string) => ({ measured: why || 'not measured', met: '—' });
  if (healthy) {
    const ratio = healthy.action.ms / healthy.script.ms;
    figures.push({
      figure: 'healthy TaskFlow run / kubectl script on the same cluster',
      baseline: '~1.1',
      goal: '≤ 0.33',
      measured: `${ratio.toFixed(2)} (${seconds(healthy.action.ms)} / ${seconds(healthy.script.ms)})${verdictNote(healthy.action)}`,
      met: yesNo(ratio <= 0.33),
      value: { ratio, actionMs: healthy.action.ms, scriptMs: healthy.script.ms },
    });
    figures.push({
      figure: 'API-server requests, healthy TaskFlow run',
      baseline: '27',
      goal: '≤ 14',
      measured: `${healthy.action.requests} (kubectl script: ${healthy.script.requests})`,
      met: yesNo(healthy.action.requests <= 14),
      value: { action: healthy.action.requests, script: healthy.script.requests },
    });
  } else {
    figures.push({ figure: 'healthy TaskFlow run / kubectl script on the same cluster', baseline: '~1.1', goal: '≤ 0.33', ...none(healthyError) });
    figures.push({ figure: 'API-server requests, healthy TaskFlow run', baseline: '27', goal: '≤ 14', ...none(healthyError) });
  }
  figures.push(
    cold
      ? {
          figure: 'bad-input exit, wall',
          baseline: '~330 ms',
          goal: '≤ 100 ms',
          measured: `${Math.round(cold.ms)} ms${bareNodeMs !== undefined ? ` (an empty script started the same way: ${Math.round(bareNodeMs)} ms)` : ''}`,
          met: yesNo(cold.ms <= 100),
          value: { ms: cold.ms, bareNodeMs },
        }
      : { figure: 'bad-input exit, wall', baseline: '~330 ms', goal: '≤ 100 ms', ...none(coldError || healthyError) },
  );
  figures.push(
    healthy?.action.rssMiB !== undefined
      ? { figure: 'peak RSS, healthy run', baseline: '~310 MiB', goal: '≤ 90 MiB', measured: `${healthy.action.rssMiB} MiB (kubectl script: ${mib(healthy.script.rssMiB)})`, met: yesNo(healthy.action.rssMiB <= 90), value: { action: healthy.action.rssMiB, script: healthy.script.rssMiB } }
      : { figure: 'peak RSS, healthy run', baseline: '~310 MiB', goal: '≤ 90 MiB', ...none(healthyError) },
  );
  figures.push({
    figure: 'dist/index.js',
    baseline: '5.9 MB',
    goal: '≤ 1.5 MB',
    measured:
      bundle.files > 1
        ? `${(bundle.total / 1e6).toFixed(2)} MB with the ${bundle.files - 1} chunks it imports (index.js alone ${(bundle.entry / 1e6).toFixed(2)} MB)`
        : `${(bundle.total / 1e6).toFixed(2)} MB (${bundle.total.toLocaleString('en-US')} bytes)`,
    met: yesNo(bundle.total <= 1.5e6),
    value: { entryBytes: bundle.entry, totalBytes: bundle.total, files: bundle.files },
  });
  if (scale && healthy && healthy.action.rssMiB !== undefined && scale.rssMiB !== undefined) {
    const dMs = scale.ms - healthy.action.ms;
    const dRss = scale.rssMiB - healthy.action.rssMiB;
    figures.push({
      figure: '10,000 targets + 5,000 pods, over the healthy run',
      baseline: '+2.3 s, +95 MiB',
      goal: '≤ +0.5 s, ≤ +60 MiB',
      measured: `${signed(dMs / 1000, ' s', 2)}, ${signed(dRss, ' MiB')} (${seconds(scale.ms)}, ${scale.rssMiB} MiB)${verdictNote(scale)}`,
      met: yesNo(dMs <= 500 && dRss <= 60),
      value: { deltaMs: dMs, deltaRssMiB: dRss, ms: scale.ms, rssMiB: scale.rssMiB },
    });
  } else {
    figures.push({ figure: '10,000 targets + 5,000 pods, over the healthy run', baseline: '+2.3 s, +95 MiB', goal: '≤ +0.5 s, ≤ +60 MiB', ...none(scaleError || healthyError) });
  }
  if (pools) {
    const ratio = pools.action.ms / pools.script.ms;
    figures.push({
      figure: 'kube-prometheus-stack with 40 scrape pools, healthy, action / kubectl script',
      baseline: '—',
      goal: '≤ 0.4',
      measured: `${ratio.toFixed(2)} (${seconds(pools.action.ms)} / ${seconds(pools.script.ms)}; ${pools.action.requests} / ${pools.script.requests} req)${verdictNote(pools.action)}`,
      met: yesNo(ratio <= 0.4),
      value: { ratio, actionMs: pools.action.ms, scriptMs: pools.script.ms, actionRequests: pools.action.requests, scriptRequests: pools.script.requests },
    });
  } else {
    figures.push({ figure: 'kube-prometheus-stack with 40 scrape pools, healthy, action / kubectl script', baseline: '—', goal: '≤ 0.4', ...none(poolsNote) });
  }
  if (healthy) {
    figures.push({
      figure: 'kubectl script (yardstick), healthy TaskFlow: wall, requests, peak RSS',
      baseline: '—',
      goal: '—',
      measured: `${seconds(healthy.script.ms)}, ${healthy.script.requests} req, ${mib(healthy.script.rssMiB)}${verdictNote(healthy.script)}`,
      met: '—',
      value: { ms: healthy.script.ms, requests: healthy.script.requests, rssMiB: healthy.script.rssMiB, allPassed: healthy.script.allPassed },
    });
  }
  if (dashboardsRun) {
    figures.push({
      figure: 'healthy TaskFlow with the dashboards check (default inputs): wall, requests, peak RSS',
      baseline: '—',
      goal: '—',
      measured: `${seconds(dashboardsRun.ms)}, ${dashboardsRun.requests} req, ${mib(dashboardsRun.rssMiB)}${verdictNote(dashboardsRun)}`,
      met: '—',
      value: { ms: dashboardsRun.ms, requests: dashboardsRun.requests, rssMiB: dashboardsRun.rssMiB, allPassed: dashboardsRun.allPassed },
    });
  }
  figures.push(...stackRows);

  process.stdout.write(
    `\nMedians: ${opts.runs} alternating runs of each on TaskFlow, ${opts.coldRuns} bad-input exits, ${opts.scaleRuns} under load and on 40 scrape pools, ${opts.stackRuns} per stack; bench took ${seconds(performance.now() - started)}.\n\n`,
  );
  printTable(figures);
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ when: new Date().toISOString(), options: opts, figures, runs }, null, 2)}\n`);
    log(`figures written to ${opts.json}`);
  }
  return 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the clusters`);
    void stopAll().finally(() => process.exit(130));
  });
}
try {
  process.exitCode = await main();
} finally {
  await stopAll();
}
