/**
 * Faults the tests can inject into the simulated API server: a delay, an error status instead of
 * the answer, a reset connection, or a JSON body cut short.
 */
import type { RequestInfo } from './request-info.js';

export interface Fault {
  /** Which requests it hits (default: every request). */
  match?: (request: { method: string; info: RequestInfo }) => boolean;
  /** Waits this long before handling the request. */
  delayMs?: number;
  /** Answers a Status with this code instead (and `message`, default the HTTP reason). */
  status?: number;
  message?: string;
  /** Destroys the connection without an answer. */
  reset?: boolean;
  /** Sends half of a JSON body, then drops the connection. */
  truncate?: boolean;
  /** How many requests it hits before it is spent (default: no limit). */
  times?: number;
}

export class FaultInjector {
  private faults: Fault[] = [];

  /** Adds a fault; returns the function that removes it. */
  add(fault: Fault): () => void {
    const entry = { ...fault };
    this.faults.push(entry);
    return () => {
      this.faults = this.faults.filter((f) => f !== entry);
    };
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault hitting this request, counting it against its `times`. */
  take(method: string, info: RequestInfo): Fault | undefined {
    const fault = this.faults.find((f) => !f.match || f.match({ method, info }));
    if (fault?.times !== undefined && --fault.times <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }
}
