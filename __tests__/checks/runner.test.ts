import { describe, expect, it } from '@jest/globals';
import type { Check, CheckContext } from '../../src/checks/check.js';
import { statusError } from '../../src/cluster.js';
import { MfcError } from '../../src/errors.js';
import { ATTEMPT_TIMEOUTS, runChecks, type RunOptions } from '../../src/runner.js';
import type { CheckId, CheckOutcome, CheckResult } from '../../src/types.js';
import type { ClusterView } from '../../src/view.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A check with the given prerequisites and attempt logic. */
function check(id: CheckId, run: (ctx: CheckContext) => Promise<CheckOutcome>, needs: CheckId[] = []): Check {
  return { id, title: `title of ${id}`, needs, run };
}

const passes = (id: CheckId, needs: CheckId[] = []) => check(id, async () => ({ status: 'pass', summary: `${id} ok` }), needs);
const fails = (id: CheckId, needs: CheckId[] = []) => check(id, async () => ({ status: 'fail', summary: `${id} broken`, hint: 'fix it' }), needs);

/** The fake checks use no cluster or client. */
const context = {} as RunOptions['context'];

/** Each attempt's view, as the checks were given it (fake: a numbered object). */
let viewsMade = 0;
const newView = () => ({ number: ++viewsMade }) as unknown as ClusterView;

function run(checks: Check[], opts: Partial<RunOptions> = {}): Promise<CheckResult[]> {
  return runChecks({ checks, context, newView, waitMs: 0, requestTimeoutMs: 1000, skip: [], retryIntervalMs: 50, ...opts });
}

function byId(results: CheckResult[], id: CheckId): CheckResult {
  const r = results.find((x) => x.id === id);
  if (!r) throw new Error(`no result for ${id}`);
  return r;
}

describe('runner: order and concurrency', () => {
  it('runs independent checks concurrently, each after its prerequisites', async () => {
    const spans = new Map<CheckId, { start: number; end: number }>();
    const timed = (id: CheckId, needs: CheckId[]) =>
      check(
        id,
        async () => {
          const start = performance.now();
          await sleep(120);
          spans.set(id, { start, end: performance.now() });
          return { status: 'pass', summary: 'ok' };
        },
        needs,
      );
    const results = await run([timed('cluster-access', []), timed('prometheus-pod', ['cluster-access']), timed('grafana-pod', ['cluster-access'])]);
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass', 'pass']);
    const access = spans.get('cluster-access')!;
    const prom = spans.get('prometheus-pod')!;
    const graf = spans.get('grafana-pod')!;
    // The two pod checks overlap…
    expect(prom.start).toBeLessThan(graf.end);
    expect(graf.start).toBeLessThan(prom.end);
    // …and neither started before its prerequisite ended.
    expect(prom.start).toBeGreaterThanOrEqual(access.end - 1);
    expect(graf.start).toBeGreaterThanOrEqual(access.end - 1);
  });

  it('reports in the order of the checks given, whatever order they end in, and tells each result as it ends', async () => {
    const seen: CheckId[] = [];
    const slow = check('prometheus-pod', async () => {
      await sleep(80);
      return { status: 'pass', summary: 'slow' };
    });
    const results = await run([slow, passes('grafana-pod')], { onResult: (r) => seen.push(r.id) });
    expect(results.map((r) => r.id)).toEqual(['prometheus-pod', 'grafana-pod']);
    expect(seen).toEqual(['grafana-pod', 'prometheus-pod']);
    expect(results[0]).toMatchObject({ title: 'title of prometheus-pod', summary: 'slow', attempts: 1 });
  });
});

describe('runner: prerequisites and skip-checks', () => {
  it('skips the dependents of a failed check, naming it, transitively, and runs the others', async () => {
    const ran: CheckId[] = [];
    const tracked = (c: Check): Check => ({ ...c, run: (ctx) => (ran.push(c.id), c.run(ctx)) });
    const results = await run([
      tracked(passes('cluster-access')),
      tracked(fails('prometheus-service', ['cluster-access'])),
      tracked(passes('prometheus-api', ['cluster-access', 'prometheus-service'])),
      tracked(passes('prometheus-targets', ['prometheus-api'])),
      tracked(passes('grafana-api', ['cluster-access'])),
    ]);
    expect(byId(results, 'prometheus-service')).toMatchObject({ status: 'fail', summary: 'prometheus-service broken', hint: 'fix it' });
    expect(byId(results, 'prometheus-api')).toMatchObject({ status: 'skip', summary: 'skipped: prometheus-service failed', attempts: 0 });
    expect(byId(results, 'prometheus-targets')).toMatchObject({ status: 'skip', summary: 'skipped: needs prometheus-api, which was skipped' });
    expect(byId(results, 'grafana-api').status).toBe('pass');
    expect(ran.sort()).toEqual(['cluster-access', 'grafana-api', 'prometheus-service']);
  });

  it('does not block dependents on a warning', async () => {
    const warns = check('cluster-access', async () => ({ status: 'warn', summary: 'not verified', hint: 'allow reviews' }));
    const results = await run([warns, passes('prometheus-pod', ['cluster-access'])]);
    expect(results.map((r) => r.status)).toEqual(['warn', 'pass']);
    expect(results[0]?.hint).toBe('allow reviews');
  });

  it('reports a check named in skip-checks as skipped without running it, and runs its dependents', async () => {
    let ran = false;
    const skippedCheck = check('prometheus-service', async () => {
      ran = true;
      return { status: 'fail', summary: 'would fail', hint: '' };
    });
    const results = await run([passes('cluster-access'), skippedCheck, passes('prometheus-api', ['cluster-access', 'prometheus-service'])], {
      skip: ['prometheus-service'],
    });
    expect(byId(results, 'prometheus-service')).toMatchObject({ status: 'skip', summary: 'skipped by the skip-checks input', attempts: 0 });
    expect(byId(results, 'prometheus-api').status).toBe('pass');
    expect(ran).toBe(false);
  });
});

describe('runner: waiting', () => {
  it('retries a failing check until wait runs out, then reports the last failure', async () => {
    let n = 0;
    const flaky = check('prometheus-targets', async () => ({ status: 'fail', summary: `attempt ${++n}`, hint: 'wait' }));
    const started = performance.now();
    const [result] = await run([flaky], { waitMs: 300, requestTimeoutMs: 100, retryIntervalMs: 50 });
    const elapsed = performance.now() - started;
    expect(result?.status).toBe('fail');
    expect(result?.attempts).toBeGreaterThan(2);
    expect(result?.summary).toBe(`attempt ${n}`);
    expect(result?.attempts).toBe(n);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(300 + ATTEMPT_TIMEOUTS * 100 + 200);
  });

  it('passes a check that starts passing on its third attempt', async () => {
    let n = 0;
    const warming = check('prometheus-query', async () =>
      ++n < 3 ? { status: 'fail', summary: 'no series yet', hint: 'wait' } : { status: 'pass', summary: '3 series' },
    );
    const [result] = await run([warming], { waitMs: 2000, retryIntervalMs: 20 });
    expect(result).toMatchObject({ status: 'pass', summary: '3 series', attempts: 3 });
    expect(result?.hint).toBeUndefined();
  });

  it("gives each attempt its deadline: ATTEMPT_TIMEOUTS request timeouts, or what is left of the run's budget", async () => {
    const left = new Map<CheckId, number>();
    const timed = (id: CheckId, needs: CheckId[], holdMs: number) =>
      check(
        id,
        async ({ deadline }) => {
          left.set(id, deadline - Date.now());
          await sleep(holdMs);
          return { status: 'pass', summary: 'ok' };
        },
        needs,
      );
    // wait 0, request-timeout 1 s: the run's budget ends 3 s in; the dependent starts 1.5 s in.
    await run([timed('cluster-access', [], 1500), timed('prometheus-pod', ['cluster-access'], 0)]);
    expect(left.get('cluster-access')).toBeGreaterThan(ATTEMPT_TIMEOUTS * 1000 - 100);
    expect(left.get('cluster-access')).toBeLessThanOrEqual(ATTEMPT_TIMEOUTS * 1000);
    expect(left.get('prometheus-pod')).toBeGreaterThan(1200);
    expect(left.get('prometheus-pod')).toBeLessThan(1600);
  });

  it('checks once when wait is 0', async () => {
    let n = 0;
    const [result] = await run([check('prometheus-query', async () => ({ status: 'fail', summary: `attempt ${++n}`, hint: '' }))], { waitMs: 0 });
    expect(result?.attempts).toBe(1);
  });

  it('stops retrying an outcome marked retryable: false', async () => {
    let n = 0;
    const final = check('datasource-mounted', async () => ({ status: 'fail', summary: `attempt ${++n}`, hint: 'fix the spec', retryable: false }));
    const started = performance.now();
    const [result] = await run([final], { waitMs: 2000 });
    expect(result).toMatchObject({ status: 'fail', attempts: 1, hint: 'fix the spec' });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('stops retrying an RBAC refusal', async () => {
    let n = 0;
    const refused = check('prometheus-pod', async () => {
      n++;
      throw statusError(403, 'Forbidden', 'pods is forbidden', { verb: 'list', resource: 'pods', namespace: 'taskflow' });
    });
    const [result] = await run([refused], { waitMs: 2000 });
    expect(result).toMatchObject({ status: 'fail', attempts: 1 });
    expect(result?.hint).toContain('resources: ["pods"]');
    expect(n).toBe(1);
  });

  it('cuts off an attempt that hangs and ends the run within wait + 3 × request-timeout', async () => {
    let aborted = 0;
    const hangs = check(
      'prometheus-api',
      (ctx) =>
        new Promise<CheckOutcome>(() => {
          ctx.signal.addEventListener('abort', () => aborted++);
        }),
      ['cluster-access'],
    );
    const slowPrereq = check('cluster-access', async () => {
      await sleep(150);
      return { status: 'pass', summary: 'ok' };
    });
    const started = performance.now();
    const results = await run([slowPrereq, hangs], { waitMs: 300, requestTimeoutMs: 100, retryIntervalMs: 50 });
    const elapsed = performance.now() - started;
    const result = byId(results, 'prometheus-api');
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('no conclusion within 300 ms');
    expect(result.hint).toContain('request-timeout');
    expect(aborted).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeLessThan(300 + ATTEMPT_TIMEOUTS * 100 + 150);
  });

  it('shortens the last attempts so that the run still ends within wait + 3 × request-timeout', async () => {
    // The prerequisite fails fast until wait is nearly over, then its last attempt passes late;
    // its dependent hangs and may only use what is left of the run's budget.
    const prereq = check('cluster-access', async () => {
      if (performance.now() - started < 240) return { status: 'fail', summary: 'not yet', hint: 'wait' };
      await sleep(200);
      return { status: 'pass', summary: 'ok' };
    });
    const hangs = check('prometheus-pod', () => new Promise<CheckOutcome>(() => undefined), ['cluster-access']);
    const started = performance.now();
    const results = await run([prereq, hangs], { waitMs: 300, requestTimeoutMs: 100, retryIntervalMs: 50 });
    const elapsed = performance.now() - started;
    expect(byId(results, 'cluster-access')).toMatchObject({ status: 'pass' });
    expect(byId(results, 'cluster-access').attempts).toBeGreaterThan(1);
    const dependent = byId(results, 'prometheus-pod');
    expect(dependent.status).toBe('fail');
    // Less than the full 3 × request-timeout was left for it.
    expect(dependent.summary).toMatch(/^no conclusion within (\d+) ms/);
    expect(Number(/within (\d+) ms/.exec(dependent.summary)?.[1])).toBeLessThan(ATTEMPT_TIMEOUTS * 100);
    expect(elapsed).toBeLessThan(300 + ATTEMPT_TIMEOUTS * 100 + 100);
  });
});

describe('runner: errors', () => {
  it('reports an unexpected exception as a failure on one line, without a stack trace', async () => {
    const buggy = check('grafana-datasource', async () => {
      const list = undefined as unknown as { items: unknown[] };
      return { status: 'pass', summary: String(list.items.length) };
    });
    const [result] = await run([buggy]);
    expect(result?.status).toBe('fail');
    expect(result?.summary).toMatch(/^unexpected error: Cannot read properties of undefined \(reading 'items'\)$/);
    expect(result?.summary).not.toContain('\n');
    expect(result?.hint).toContain('defect');
    expect(JSON.stringify(result)).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('keeps only the first line of a multi-line message, and reports thrown non-errors', async () => {
    const multi = check('grafana-query', async () => {
      throw new Error('first line\n    at secret/stack.ts:1:1');
    });
    const str = check('grafana-api', async () => {
      throw 'plain string';
    });
    const results = await run([multi, str]);
    expect(results[0]?.summary).toBe('unexpected error: first line');
    expect(results[1]?.summary).toBe('unexpected error: plain string');
  });

  it("reports an MfcError's message and hint as they are", async () => {
    const known = check('prometheus-query', async () => {
      throw new MfcError('Prometheus GET /api/v1/query: status "error"', 'Check the query.');
    });
    const [result] = await run([known]);
    expect(result).toMatchObject({ status: 'fail', summary: 'Prometheus GET /api/v1/query: status "error"', hint: 'Check the query.' });
  });
});

describe('runner: one view of the cluster per attempt', () => {
  it('gives every check the same view on its first attempt, and a fresh one to a retry', async () => {
    const seen: { id: CheckId; view: unknown }[] = [];
    let calls = 0;
    const a = check('prometheus-api', async ({ view }) => {
      seen.push({ id: 'prometheus-api', view });
      calls++;
      return calls < 2 ? { status: 'fail', summary: 'not yet', hint: 'wait' } : { status: 'pass', summary: 'ok' };
    });
    const b = check('grafana-api', async ({ view }) => {
      seen.push({ id: 'grafana-api', view });
      return { status: 'pass', summary: 'ok' };
    });
    const results = await run([a, b], { waitMs: 1000, retryIntervalMs: 10 });
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass']);
    const [first, other, retry] = [seen[0]?.view, seen.find((s) => s.id === 'grafana-api')?.view, seen.filter((s) => s.id === 'prometheus-api')[1]?.view];
    expect(first).toBe(other);
    expect(retry).toBeDefined();
    expect(retry).not.toBe(first);
  });

  it("reports an error's reason with the failure (a refused Kubernetes read)", async () => {
    const refused = check('prometheus-pod', async () => {
      throw statusError(403, 'Forbidden', 'pods is forbidden', { verb: 'list', resource: 'pods', namespace: 'monitoring' });
    });
    const [result] = await run([refused]);
    expect(result?.reason).toEqual({ code: 'error.kube', status: 403, reason: 'Forbidden' });
  });
});
