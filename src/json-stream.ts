/**
 * A JSON document read as it arrives, for answers too large to hold whole: the elements of chosen
 * arrays (`data.activeTargets` of Prometheus's targets answer) are handed over one at a time, as
 * soon as each is complete, and the rest of the document is rebuilt around them, those arrays
 * left empty. Memory then holds one element at a time plus what the receiver keeps of each, not
 * the answer's text and its parsed tree.
 *
 * Only the structure is scanned here — the brackets, commas and colons of the objects on the way
 * to a chosen array, and the string and nesting boundaries of every other value. Each value's
 * bytes (an element, a key, the rest of the envelope) are decoded and parsed by `JSON.parse`
 * itself, so what is accepted and what a value becomes are JSON.parse's, byte for byte, and the
 * cost stays close to JSON.parse's: the JavaScript streaming parsers on npm tokenise every
 * character in JavaScript, 5 to 8 times slower on a 35 MiB targets answer (about 1.5 s for
 * @streamparser/json and stream-json against 0.25 s here).
 *
 * A document that does not parse (cut short, malformed, not JSON) throws a JsonStreamError of
 * kind `syntax`; a value above `maxValueBytes` (one element, or everything outside the arrays)
 * throws one of kind `too-large` at once, so the rest of the answer need not be read.
 */
import { MfcError } from './errors.js';

export class JsonStreamError extends MfcError {
  override name = 'JsonStreamError';
  constructor(
    message: string,
    readonly kind: 'syntax' | 'too-large',
  ) {
    super(message);
  }
}

/** Receives one streamed array's elements. */
export interface ArrayReceiver {
  /** The array begins (again, when a duplicate key repeats it: JSON.parse keeps the last). */
  start(): void;
  element(value: unknown): void;
}

export interface JsonStreamOptions {
  /** Arrays to stream, by path of keys from the root joined with `.` (`data.activeTargets`). */
  readonly arrays: Readonly<Record<string, ArrayReceiver>>;
  /** The largest element, and the most bytes outside the streamed arrays, that are read. */
  readonly maxValueBytes: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

type Frame =
  | { kind: 'object'; path: string; obj: Record<string, unknown>; key: string; state: 'first' | 'key' | 'colon' | 'value' | 'next' }
  | { kind: 'array'; path: string; receiver: ArrayReceiver; state: 'first' | 'value' | 'next' };

/** A value being captured: its bytes so far, and where its scan stands. */
interface Capture {
  readonly type: 'string' | 'container' | 'scalar';
  readonly pieces: Buffer[];
  size: number;
  depth: number;
  inString: boolean;
  /** The previous byte was a backslash inside a string. */
  escape: boolean;
  /** It is an object's key. */
  readonly isKey: boolean;
  /**
   * Where in the current chunk its bytes begin, until they are kept: the opening quote or bracket
   * is kept with what follows it, so a value within one chunk is one slice, parsed without a copy.
   */
  from: number;
}

export class JsonStream {
  private readonly arrays: Readonly<Record<string, ArrayReceiver>>;
  /** Paths of objects to descend into: the proper prefixes of the streamed arrays' paths. */
  private readonly prefixes = new Set<string>();
  private readonly max: number;
  private readonly stack: Frame[] = [];
  private capture: Capture | undefined;
  private rootState: 'before' | 'inside' | 'done' = 'before';
  private root: unknown;
  /** Bytes captured outside the streamed arrays so far. */
  private outside = 0;

  constructor(options: JsonStreamOptions) {
    this.arrays = options.arrays;
    this.max = options.maxValueBytes;
    for (const path of Object.keys(options.arrays)) {
      const keys = path.split('.');
      for (let i = 0; i < keys.length; i++) this.prefixes.add(keys.slice(0, i).join('.'));
    }
  }

  write(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.capture) {
        i = this.scanCapture(chunk, i);
        continue;
      }
      const b = chunk[i] as number;
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
        i++;
        continue;
      }
      i = this.structural(chunk, i, b);
    }
    // The chunk ends right after a value's opening byte.
    const c = this.capture;
    if (c && c.from >= 0) {
      this.keep(chunk, c.from, n);
      c.from = -1;
    }
  }

  /** The document, each streamed array in it left empty; throws if it is incomplete. */
  end(): unknown {
    const c = this.capture;
    if (c?.type === 'scalar' && !this.stack.length) {
      this.capture = undefined;
      this.deliver(this.parse(c), c);
    }
    if (this.rootState !== 'done' || this.capture || this.stack.length) throw this.syntax('the document is cut short');
    return this.root;
  }

  private syntax(what: string): JsonStreamError {
    return new JsonStreamError(what, 'syntax');
  }

  private get top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** One structural byte outside any captured value; returns where to go on. */
  private structural(chunk: Buffer, i: number, b: number): number {
    const top = this.top;
    if (!top) {
      if (this.rootState === 'done') throw this.syntax(`unexpected ${describeByte(b)} after the document`);
      this.rootState = 'inside';
      return this.startValue(chunk, i, b, '', undefined);
    }
    if (top.kind === 'object') {
      switch (top.state) {
        case 'first':
        case 'key':
          if (b === 0x7d && top.state === 'first') return this.close(i);
          if (b !== QUOTE) throw this.syntax(`expected a key, found ${describeByte(b)}`);
          return this.begin(chunk, i, 'string', true);
        case 'colon':
          if (b !== 0x3a) throw this.syntax(`expected ':', found ${describeByte(b)}`);
          top.state = 'value';
          return i + 1;
        case 'value':
          top.state = 'next';
          return this.startValue(chunk, i, b, top.path ? `${top.path}.${top.key}` : top.key, top);
        case 'next':
          if (b === 0x2c) {
            top.state = 'key';
            return i + 1;
          }
          if (b === 0x7d) return this.close(i);
          throw this.syntax(`expected ',' or '}', found ${describeByte(b)}`);
      }
    }
    switch (top.state) {
      case 'first':
      case 'value':
        if (b === 0x5d && top.state === 'first') return this.close(i);
        top.state = 'next';
        return this.begin(chunk, i, kindOf(b), false);
      case 'next':
        if (b === 0x2c) {
          top.state = 'value';
          return i + 1;
        }
        if (b === 0x5d) return this.close(i);
        throw this.syntax(`expected ',' or ']', found ${describeByte(b)}`);
    }
  }

  /** A value at `path` begins: an object or array to descend into, else a value to capture. */
  private startValue(chunk: Buffer, i: number, b: number, path: string, parent: Frame | undefined): number {
    const receiver = Object.hasOwn(this.arrays, path) ? this.arrays[path] : undefined;
    if (b === 0x5b && receiver) {
      receiver.start();
      this.place(parent, []);
      this.stack.push({ kind: 'array', path, receiver, state: 'first' });
      return i + 1;
    }
    if (b === 0x7b && this.prefixes.has(path)) {
      const obj: Record<string, unknown> = {};
      this.place(parent, obj);
      this.stack.push({ kind: 'object', path, obj, key: '', state: 'first' });
      return i + 1;
    }
    return this.begin(chunk, i, kindOf(b), false);
  }

  /** Puts a value where it belongs in the rebuilt document (an array's elements are handed over instead). */
  private place(parent: Frame | undefined, value: unknown): void {
    if (!parent) {
      this.root = value;
      this.rootState = 'done';
    } else if (parent.kind === 'object') {
      // As JSON.parse does: `__proto__` is an own key, not the prototype.
      Object.defineProperty(parent.obj, parent.key, { value, writable: true, enumerable: true, configurable: true });
    }
  }

  private close(i: number): number {
    this.stack.pop();
    return i + 1;
  }

  private begin(chunk: Buffer, i: number, type: Capture['type'], isKey: boolean): number {
    this.capture = { type, pieces: [], size: 0, depth: 0, inString: type === 'string', escape: false, isKey, from: -1 };
    if (type === 'string' || type === 'container') {
      // The opening quote or bracket is part of the value: kept with the bytes that follow it.
      if (type === 'container') this.capture.depth = 1;
      this.capture.from = i;
      return i + 1;
    }
    return i;
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    const c = this.capture as Capture;
    if (to <= from) return;
    c.pieces.push(chunk.subarray(from, to));
    c.size += to - from;
    const inArray = this.top?.kind === 'array';
    if (!inArray) this.outside += to - from;
    if (c.size > this.max || this.outside > this.max) {
      throw new JsonStreamError(`a value is larger than ${Math.round(this.max / 1048576)} MiB`, 'too-large');
    }
  }

  /** Scans the captured value from `i`; when it ends, parses and delivers it. Returns where to go on. */
  private scanCapture(chunk: Buffer, start: number): number {
    const c = this.capture as Capture;
    const n = chunk.length;
    let i = start;
    if (c.from >= 0) {
      start = c.from;
      c.from = -1;
    }
    if (c.type === 'scalar') {
      while (i < n) {
        const b = chunk[i] as number;
        if (b === 0x2c || b === 0x7d || b === 0x5d || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x3a) break;
        i++;
      }
      this.keep(chunk, start, i);
      if (i === n) return n;
      if (i === start && c.size === 0) throw this.syntax(`unexpected ${describeByte(chunk[i] as number)}`);
      return this.finish(i);
    }
    while (i < n) {
      if (c.inString) {
        if (c.escape) {
          c.escape = false;
          i++;
          continue;
        }
        const q = chunk.indexOf(QUOTE, i);
        if (q === -1) {
          // The chunk ends inside the string: does it end on an escaping backslash?
          let k = n - 1;
          while (k >= i && chunk[k] === BACKSLASH) k--;
          c.escape = (n - 1 - k) % 2 === 1;
          i = n;
          break;
        }
        let k = q - 1;
        while (k >= i && chunk[k] === BACKSLASH) k--;
        i = q + 1;
        if ((q - 1 - k) % 2 === 1) continue;
        c.inString = false;
        if (c.type === 'string') {
          this.keep(chunk, start, i);
          return this.finish(i);
        }
        continue;
      }
      const b = chunk[i] as number;
      i++;
      if (b === QUOTE) c.inString = true;
      else if (b === 0x7b || b === 0x5b) c.depth++;
      else if (b === 0x7d || b === 0x5d) {
        if (--c.depth === 0) {
          this.keep(chunk, start, i);
          return this.finish(i);
        }
      }
    }
    this.keep(chunk, start, i);
    return i;
  }

  private finish(i: number): number {
    const c = this.capture as Capture;
    this.capture = undefined;
    this.deliver(this.parse(c), c);
    return i;
  }

  private parse(c: Capture): unknown {
    const bytes = c.pieces.length === 1 ? (c.pieces[0] as Buffer) : Buffer.concat(c.pieces, c.size);
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw this.syntax((err as Error).message.split('\n')[0] ?? 'malformed JSON');
    }
  }

  private deliver(value: unknown, c: Capture): void {
    const top = this.top;
    if (c.isKey && top?.kind === 'object') {
      top.key = value as string;
      top.state = 'colon';
      return;
    }
    if (top?.kind === 'array') {
      top.receiver.element(value);
      return;
    }
    this.place(top, value);
  }
}

function kindOf(b: number): Capture['type'] {
  if (b === QUOTE) return 'string';
  if (b === 0x7b || b === 0x5b) return 'container';
  return 'scalar';
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
