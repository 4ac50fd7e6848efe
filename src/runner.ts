/**
 * Runs the checks: independent ones concurrently, each after its prerequisites; a check whose
 * prerequisite failed is skipped, naming it. A failing check is retried until `wait` expires
 * (a stack deployed seconds ago passes as soon as Prometheus has scraped), and the whole run
 * ends within `wait` + 3 × `request-timeout`: every attempt is cut off at that deadline.
 */
import type { Check, CheckContext } from './checks/check.js';
import { MfcError } from './errors.js';
import { explain } from './explain.js';
import { formatMs } from './http.js';
import type { CheckId, CheckOutcome, CheckResult } from './types.js';
import type { ClusterView } from './view.js';

export interface RunOptions {
  readonly checks: readonly Check[];
  /** The shared parts of every check's context; the runner adds the attempt's view and signal. */
  readonly context: Omit<CheckContext, 'signal' | 'view' | 'deadline'>;
  /** A fresh view of the cluster; attempt n of every check reads view n. */
  readonly newView: () => ClusterView;
  readonly waitMs: number;
  readonly requestTimeoutMs: number;
  readonly skip: readonly CheckId[];
  /** Pause between two attempts of a failing check; default 2 s. */
  readonly retryIntervalMs?: number;
  /** Called as each check ends (progress output). */
  readonly onResult?: (result: CheckResult) => void;
}

/** Attempts are limited to this many request timeouts each, and the run ends this many after `wait`. */
export const ATTEMPT_TIMEOUTS = 3;

interface Settled {
  readonly result: CheckResult;
  /** True when dependents must be skipped: the check failed or was skipped because of a failure. */
  readonly blocks: boolean;
}

export async function runChecks(opts: RunOptions): Promise<CheckResult[]> {
  const started = Date.now();
  const softDeadline = started + opts.waitMs;
  const hardDeadline = softDeadline + ATTEMPT_TIMEOUTS * opts.requestTimeoutMs;
  const interval = opts.retryIntervalMs ?? 2000;
  const byId = new Map(opts.checks.map((c) => [c.id, c]));
  const settled = new Map<CheckId, Promise<Settled>>();
  const views: ClusterView[] = [];
  const viewFor = (attempt: number): ClusterView => (views[attempt] ??= opts.newView());

  const settle = (check: Check): Promise<Settled> => {
    let p = settled.get(check.id);
    if (!p) {
      p = decide(check).then((s) => {
        opts.onResult?.(s.result);
        return s;
      });
      settled.set(check.id, p);
    }
    return p;
  };

  const decide = async (check: Check): Promise<Settled> => {
    if (opts.skip.includes(check.id)) return { result: skipped(check, 'skipped by the skip-checks input'), blocks: false };
    const prereqs = await Promise.all(check.needs.flatMap((id) => (byId.has(id) ? [settle(byId.get(id) as Check)] : [])));
    const blocker = prereqs.find((p) => p.blocks)?.result;
    if (blocker) {
      const why = blocker.status === 'fail' ? `skipped: ${blocker.id} failed` : `skipped: needs ${blocker.id}, which was skipped`;
      return { result: skipped(check, why), blocks: true };
    }
    const result = await attemptUntilDeadline(check);
    return { result, blocks: result.status === 'fail' };
  };

  const attemptUntilDeadline = async (check: Check): Promise<CheckResult> => {
    const t0 = Date.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      const budget = Math.min(ATTEMPT_TIMEOUTS * opts.requestTimeoutMs, hardDeadline - Date.now());
      const outcome =
        budget > 0
          ? await attempt(check, budget, viewFor(attempts))
          : ({
              status: 'fail',
              summary: `not run: the time budget (wait + ${ATTEMPT_TIMEOUTS} × request-timeout) ran out before its prerequisites passed`,
              hint: 'Raise the wait or request-timeout input.',
              reason: { code: 'error.timeout' },
            } as CheckOutcome);
      const retry = outcome.status === 'fail' && outcome.retryable !== false && Date.now() + interval < softDeadline;
      if (!retry) return toResult(check, outcome, Date.now() - t0, attempts);
      await new Promise((r) => setTimeout(r, interval));
    }
  };

  const attempt = async (check: Check, budgetMs: number, view: ClusterView): Promise<CheckOutcome> => {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({
          status: 'fail',
          summary: `no conclusion within ${formatMs(budgetMs)}: the cluster or the service did not answer in time`,
          hint: 'Check that the API server and the service answer quickly; raise request-timeout for slow clusters.',
          reason: { code: 'error.timeout' },
        });
      }, budgetMs);
    });
    try {
      return await Promise.race([check.run({ ...opts.context, view, signal: controller.signal, deadline: Date.now() + budgetMs }), timedOut]);
    } catch (err) {
      return failure(check, err);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  };

  const results = await Promise.all(opts.checks.map((c) => settle(c)));
  return results.map((s) => s.result);
}

/** An exception from a check becomes its failure: our errors carry a message and a hint; others are reported without a stack. */
function failure(check: Check, err: unknown): CheckOutcome {
  if (err instanceof MfcError) {
    const { hint, retryable, reason } = explain(check.id, err);
    return { status: 'fail', summary: err.message, hint, retryable, reason };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    status: 'fail',
    summary: `unexpected error: ${message.split('\n')[0]}`,
    hint: 'This is a defect of metrics-flow-check; please report it with the JSON report.',
    reason: { code: 'error.other' },
  };
}

function skipped(check: Check, summary: string): CheckResult {
  return { id: check.id, title: check.title, status: 'skip', summary, durationMs: 0, attempts: 0 };
}

function toResult(check: Check, o: CheckOutcome, durationMs: number, attempts: number): CheckResult {
  return {
    id: check.id,
    title: check.title,
    status: o.status,
    summary: o.summary,
    ...(o.hint ? { hint: o.hint } : {}),
    durationMs,
    attempts,
    ...(o.details ? { details: o.details } : {}),
    ...(o.downTargets?.length ? { downTargets: o.downTargets } : {}),
    ...(o.dashboards?.length ? { dashboards: o.dashboards } : {}),
    ...(o.reason && o.status !== 'pass' ? { reason: o.reason } : {}),
  };
}
