/**
 * urllib3 2.x `Retry` as the k8s-sidecar configures it (src/helpers.py REQ_RETRY_*): counters
 * for total, connect and read errors (status retries count against total only), exhausted when a
 * counter drops below zero (Retry.is_exhausted ignores counters at 0), and the back-off before
 * each retry: none after the first error, then `backoff_factor * 2^(errors-1)` seconds, at
 * most 120 (Retry.get_backoff_time).
 */

export interface RetrySettings {
  /** REQ_RETRY_TOTAL, default 5. */
  readonly total: number;
  /** REQ_RETRY_CONNECT, default 10. */
  readonly connect: number;
  /** REQ_RETRY_READ, default 5. */
  readonly read: number;
  /** REQ_RETRY_BACKOFF_FACTOR, default 1.1. */
  readonly backoffFactor: number;
}

const BACKOFF_MAX_SECONDS = 120;

/** Milliseconds to sleep after the `errors`-th consecutive error. */
export function retryBackoffMs(settings: RetrySettings, errors: number): number {
  if (errors <= 1) return 0;
  return Math.min(BACKOFF_MAX_SECONDS, settings.backoffFactor * 2 ** (errors - 1)) * 1000;
}

export class RetryState {
  private total: number;
  private connect: number;
  private read: number;
  /** Errors so far (the Retry's history). */
  errors = 0;

  constructor(settings: RetrySettings) {
    this.total = settings.total;
    this.connect = settings.connect;
    this.read = settings.read;
  }

  /** Counts a connection error; false when retries are exhausted. */
  connectError(): boolean {
    this.total--;
    this.connect--;
    return this.step();
  }

  /** Counts a read error (timeout, reset); false when retries are exhausted. */
  readError(): boolean {
    this.total--;
    this.read--;
    return this.step();
  }

  /** Counts a response whose status is in status_forcelist; false when retries are exhausted. */
  statusError(): boolean {
    this.total--;
    return this.step();
  }

  private step(): boolean {
    this.errors++;
    return ![this.total, this.connect, this.read].some((count) => count < 0);
  }

  /** `Retry(total=4, connect=9, read=5, redirect=None, status=None)`. */
  repr(): string {
    return `Retry(total=${this.total}, connect=${this.connect}, read=${this.read}, redirect=None, status=None)`;
  }
}

function intEnv(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : Number.parseInt(value, 10);
}

/** The retry settings from the container's environment. */
export function retrySettings(env: ReadonlyMap<string, string>): RetrySettings {
  const factor = env.get('REQ_RETRY_BACKOFF_FACTOR');
  return {
    total: intEnv(env.get('REQ_RETRY_TOTAL'), 5),
    connect: intEnv(env.get('REQ_RETRY_CONNECT'), 10),
    read: intEnv(env.get('REQ_RETRY_READ'), 5),
    backoffFactor: factor === undefined ? 1.1 : Number.parseFloat(factor),
  };
}
