/**
 * A JSON answer read as it arrives (json-stream.ts) by the request that gives it to consumingBody:
 * a success answer (2xx) is taken, every other one is left to be read whole.
 */
import { MfcError } from './errors.js';
import { DEFAULT_MAX_BYTES, describeBody, HttpError, type BodyConsumer, type HttpResponse } from './http.js';
import { JsonStreamError, type JsonStream } from './json-stream.js';

/** The first bytes of an answer, which describe it when it is not JSON. */
const HEAD_BYTES = 16 * 1024;

/**
 * Reads a success answer as it arrives into a JsonStream, keeping its first bytes to describe it;
 * a document that does not parse, or too large a part of it, fails as a whole answer would.
 */
export class JsonAnswerReader implements BodyConsumer {
  taken = false;
  document: unknown;
  private status = 0;
  private headers: Readonly<Record<string, string>> = {};
  private readonly head: Buffer[] = [];
  private headSize = 0;

  constructor(
    readonly what: string,
    private readonly stream: JsonStream,
  ) {}

  accepts(status: number, headers: Readonly<Record<string, string>>): boolean {
    if (status < 200 || status >= 300) return false;
    this.status = status;
    this.headers = headers;
    return true;
  }

  write(chunk: Buffer): void {
    if (this.headSize < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.headSize);
      this.head.push(part);
      this.headSize += part.length;
    }
    try {
      this.stream.write(chunk);
    } catch (err) {
      throw this.explain(err);
    }
  }

  end(): void {
    try {
      this.document = this.stream.end();
    } catch (err) {
      throw this.explain(err);
    }
  }

  private explain(err: unknown): unknown {
    if (!(err instanceof JsonStreamError)) return err;
    if (err.kind === 'too-large') {
      const limit = `${DEFAULT_MAX_BYTES / 1048576} MiB`;
      return new HttpError(`${this.what}: the answer is larger than ${limit}; refusing to read it (only its list is read past that, one entry of at most ${limit} at a time)`, 'TOO_LARGE');
    }
    const seen: HttpResponse = { status: this.status, headers: this.headers, text: Buffer.concat(this.head).toString('utf8'), ms: 0 };
    return new MfcError(`${this.what} answered HTTP ${this.status} with ${describeBody(seen)} instead of JSON`);
  }
}
