/**
 * Fault-test harness: a simulated TaskFlow cluster whose faults each test switches on, the engine
 * run in-process against it with small timeouts, and the assertions every faulty run must keep —
 * bounded time, a message naming the cause, no stack trace, and the other checks still reported.
 */
import { expect } from '@jest/globals';
import { runEngine } from '../../src/engine.js';
import { parseSettings } from '../../src/settings.js';
import { CHECK_IDS, type CheckResult, type Report } from '../../src/types.js';
import { startCluster, type SimulatedCluster } from '../../sim/cluster.js';

export interface FaultRun {
  readonly report: Report;
  readonly ms: number;
  /** `id → status`. */
  readonly statuses: Record<string, string>;
  check(id: string): CheckResult;
  /** The time bound of the run: wait + 6 × request-timeout + 3 s of start-up slack. */
  readonly boundMs: number;
}

/** Every check id, in the contract's order. */
export const ALL_CHECKS = CHECK_IDS;

/** A cluster that Prometheus has scraped once, with no fault switched on. */
export async function settledCluster(): Promise<SimulatedCluster> {
  const cluster = await startCluster();
  await cluster.settle(15_000);
  return cluster;
}

/** Milliseconds of a duration input (`1s`, `500ms` is not an input form: seconds only here). */
const seconds = (s: string): number => Number(s.replace(/s$/, '')) * 1000;

/** Runs the engine in-process against the cluster; `wait` 0 s and request-timeout 1 s unless told. */
export async function runFaulty(cluster: SimulatedCluster, inputs: Record<string, string> = {}, retryIntervalMs = 500): Promise<FaultRun> {
  const all: Record<string, string> = {
    kubeconfig: cluster.kubeconfig,
    'grafana-password': cluster.grafanaPassword,
    wait: '0s',
    'request-timeout': '1s',
    ...inputs,
  };
  const settings = parseSettings((name) => all[name]);
  const started = Date.now();
  const report = await runEngine(settings, { retryIntervalMs });
  const ms = Date.now() - started;
  const statuses = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
  return {
    report,
    ms,
    statuses,
    boundMs: seconds(all.wait ?? '0s') + 6 * seconds(all['request-timeout'] ?? '1s') + 3000,
    check: (id) => {
      const found = report.checks.find((c) => c.id === id);
      if (!found) throw new Error(`no result for ${id}`);
      return found;
    },
  };
}

/** A stack trace line (`    at fn (file.js:1:2)`). */
const STACK = /^\s+at \S/m;
/**
 * An error object dumped as is: a JavaScript error class and its message (`TypeError: fetch failed`,
 * `SocketError: other side closed`, the action's own error classes), client-node's ApiException
 * text, or an object printed without being described. Kubernetes reasons such as `InternalError`
 * are the API server's words and are allowed.
 */
const ERROR_DUMP =
  /\b(Error|TypeError|RangeError|SyntaxError|ReferenceError|AggregateError|AbortError|DOMException|FetchError|SocketError|ConnectTimeoutError|HeadersTimeoutError|BodyTimeoutError|ApiException|MfcError|KubeError|HttpError|HttpStatusError|GrafanaAuthError|SettingsError): |HTTP-Code: \d|\[object Object\]|\bUnexpected token\b|\bundefined\b/;

/** Fails when any text the user sees carries a stack trace or an error-class dump. */
export function expectNoStackTrace(texts: Record<string, string>): void {
  for (const [where, text] of Object.entries(texts)) {
    expect({ where, stack: STACK.exec(text)?.[0] }).toEqual({ where, stack: undefined });
    expect({ where, dump: ERROR_DUMP.exec(text)?.[0] }).toEqual({ where, dump: undefined });
  }
}

/** Every string of the report (summaries, hints, diagnoses) checked for stack traces. */
export function expectCleanReport(run: FaultRun): void {
  expectNoStackTrace({ report: JSON.stringify(run.report, null, 2).replace(/\\n/g, '\n') });
}

/** The invariants of every faulty run: within the bound, every check reported, no stack trace. */
export function expectWellBehaved(run: FaultRun): void {
  expect(run.ms).toBeLessThanOrEqual(run.boundMs);
  expect(run.report.checks.map((c) => c.id)).toEqual([...ALL_CHECKS]);
  expectCleanReport(run);
}

/** The ids with a given status, in the contract's order. */
export function idsWith(run: FaultRun, status: string): string[] {
  return run.report.checks.filter((c) => c.status === status).map((c) => c.id);
}

/** The action's checks that Prometheus's API answers. */
export const PROMETHEUS_CHAIN = ['prometheus-api', 'prometheus-targets', 'prometheus-query'];

/** Every check but `except` passed. */
export function expectOthersPass(run: FaultRun, except: readonly string[]): void {
  expect(idsWith(run, 'pass')).toEqual(ALL_CHECKS.filter((id) => !except.includes(id)));
}

/** Each check in `ids` failed, its summary matching `cause`. */
export function expectFailed(run: FaultRun, ids: readonly string[], cause: RegExp): void {
  for (const id of ids) {
    expect({ id, status: run.check(id).status }).toEqual({ id, status: 'fail' });
    expect(run.check(id).summary).toMatch(cause);
  }
}

/** Prints a fault run's time against its bound. */
export function report(name: string, run: FaultRun): void {
  process.stdout.write(`fault ${name}: ${run.ms} ms (bound ${run.boundMs} ms)\n`);
}
