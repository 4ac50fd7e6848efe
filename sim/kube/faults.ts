/**
 * Faults the tests can inject into the simulated API server: a delay, an error status instead of
 * the answer, a reset connection, a JSON body cut short, a raw answer of any status, type and size
 * (an ingress's HTML error page, plain text, a body far larger than any client should read), or an
 * exec session that ends without its exit status.
 */
import type { RequestInfo } from './request-info.js';

/** An answer sent as is, in place of the API server's (as a proxy or ingress in front of it would). */
export interface RawAnswer {
  /** Default 200. */
  status?: number;
  /** Default `text/plain; charset=utf-8`. */
  contentType?: string;
  /** The body; default empty. */
  body?: string;
  /**
   * Instead of `body`: a JSON-looking body of this many bytes, streamed in chunks as fast as the
   * client reads it (a huge answer).
   */
  size?: number;
  /** Told how many bytes were written when the answer ends, and whether it was sent whole. */
  onSent?: (bytes: number, complete: boolean) => void;
}

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
  /**
   * Sends half of the body (with the whole body's Content-Length), then drops the connection.
   * Applies to JSON answers and to `respond`.
   */
  truncate?: boolean;
  /** Answers this instead, before authentication. */
  respond?: RawAnswer;
  /** Exec sessions send their output, then close normally without the status frame. */
  execWithoutStatus?: boolean;
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
