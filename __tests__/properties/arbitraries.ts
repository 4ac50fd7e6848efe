/**
 * Shared generators and assertions for the property tests: hostile text (unicode, control
 * characters, huge repeated patterns), hostile JSON (keys that shadow Object.prototype), mutations
 * of valid documents, and the checks every parser must pass: it only ever throws `MfcError`, and
 * it answers in bounded time.
 *
 * Runs are reproducible: a fixed seed unless FC_SEED is set; FC_RUNS scales every property's runs
 * (e.g. FC_RUNS=20 for a long exploratory run). fast-check prints the seed and the counterexample
 * on failure.
 */
import fc from 'fast-check';
import { MfcError } from '../../src/errors.js';
import type { Endpoint, EndpointRequest } from '../../src/endpoint.js';
import type { HttpResponse } from '../../src/http.js';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20250314;
const SCALE = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 1;

/** fast-check parameters: the fixed seed, and `numRuns` scaled by FC_RUNS. */
export function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) };
}

// ------------------------------------------------------------------------------------------------
// Text

const CONTROL = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
const SPECIAL = fc.constantFrom('/', ',', ':', '@', '=', '!', '(', ')', ' ', '\t', '\n', '\r', '\0', '.', '-', '_', '0', '9', 'a', 'Z', 'é', '\u202e', '\ufeff', '\ud83d\ude00', '\ud800');

/** One of the unit kinds fast-check knows, plus control characters and syntax characters. */
export const anyString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: CONTROL, maxLength }),
    fc.string({ unit: fc.oneof(SPECIAL, CONTROL, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength }),
  );

/** A short pattern of syntax characters repeated up to ~130 KB (the size of one environment variable). */
export const hugeString = (): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.oneof(fc.constantFrom('/', ',', ' ', ':', '@', '1', 'a', '(', '[', '{', '- ', '//', 'a,', '/a', 'a='), fc.string({ unit: SPECIAL, minLength: 1, maxLength: 4 })),
      fc.noBias(fc.integer({ min: 1_000, max: 130_000 })),
      fc.string({ unit: SPECIAL, maxLength: 3 }),
    )
    .map(([pattern, length, tail]) => pattern.repeat(Math.ceil(length / pattern.length)).slice(0, length) + tail);

/** Mostly short hostile strings, one in `oneIn` a huge one. */
export const hostileString = (maxLength = 40, oneIn = 10): fc.Arbitrary<string> =>
  fc.oneof({ arbitrary: anyString(maxLength), weight: oneIn - 1 }, { arbitrary: hugeString(), weight: 1 });

/** A value that looks like a credential and can be searched for in messages. */
export const secretValue = (): fc.Arbitrary<string> => fc.stringMatching(/^[A-Za-z0-9._~-]{10,24}$/).map((s) => `Sx${s}`);

/** Text-level mutations of a valid document: cut, delete, duplicate, swap lines, replace characters, insert junk. */
export function mutatedText(base: string): fc.Arbitrary<string> {
  const lines = base.split('\n');
  const line = fc.nat({ max: lines.length - 1 });
  const at = fc.nat({ max: base.length });
  const mutation: fc.Arbitrary<(text: string) => string> = fc.oneof(
    at.map((i) => (t: string) => t.slice(0, i)),
    line.map((i) => (t: string) => t.split('\n').filter((_, j) => j !== i).join('\n')),
    line.map((i) => (t: string) => t.split('\n').flatMap((l, j) => (j === i ? [l, l] : [l])).join('\n')),
    fc.tuple(line, line).map(([i, k]) => (t: string) => {
      const ls = t.split('\n');
      if (i < ls.length && k < ls.length) [ls[i], ls[k]] = [ls[k] as string, ls[i] as string];
      return ls.join('\n');
    }),
    fc.tuple(at, fc.nat({ max: 8 }), anyString(6)).map(([i, n, junk]) => (t: string) => t.slice(0, i) + junk + t.slice(i + n)),
    fc.tuple(line, fc.constantFrom('  ', '- ', '', '\t', '? ', '&a ', '*a', '!!set ', '!!binary ', '{', '[', '"', "'", '|', '>', '#')).map(
      ([i, prefix]) =>
        (t: string) =>
          t
            .split('\n')
            .map((l, j) => (j === i ? prefix + l : l))
            .join('\n'),
    ),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce((text, m) => m(text), base));
}

/** Text assembled from YAML syntax pieces, keys our parsers read, and arbitrary words. */
export function yamlishText(keys: readonly string[]): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(...keys.map((k) => `${k}: `)),
    fc.constantFrom('- ', '\n', '\n  ', '\n    ', '\n- ', ': ', ', ', '[', ']', '{', '}', '&a ', '*a', '&b ', '*b', '? ', '|\n  ', '>\n  '),
    fc.constantFrom('---\n', '...\n', '%YAML 1.1\n---\n', '%TAG ! tag:x,2000:\n---\n', '!!set ', '!!omap ', '!!binary ', '!!str ', '!!int ', '!!map ', '!!seq ', '!local '),
    fc.constantFrom('true', 'false', 'null', '~', '0x1F', '1e400', '.nan', '-.inf', '2001-12-14t21:59:43.10-05:00', '"\\u0000"', "'x''y'", '<<: *a', 'toString: 1', '__proto__: {a: 1}', 'valueOf: [1]'),
    anyString(12),
  );
  return fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));
}

/** Anchors that expand exponentially when resolved ("billion laughs"). */
export const aliasBomb = (key: string): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 })).map(([depth, width]) => {
    const lines = [`a0: &a0 [${Array(width).fill('x').join(', ')}]`];
    for (let d = 1; d < depth; d++) lines.push(`a${d}: &a${d} [${Array(width).fill(`*a${d - 1}`).join(', ')}]`);
    lines.push(`${key}: [*a${depth - 1}]`);
    return lines.join('\n');
  });

// ------------------------------------------------------------------------------------------------
// JSON

/** Keys that shadow Object.prototype (`{"toString": 1}` breaks `String(value)`), and envelope keys. */
const PROTO_KEYS = ['toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty', 'length', 'then'];

/** Any JSON value, with keys drawn from `keys`, Object.prototype's names and arbitrary strings. */
export function hostileJson(keys: readonly string[]): fc.Arbitrary<unknown> {
  const key = fc.oneof(fc.constantFrom(...keys, ...PROTO_KEYS), fc.string({ maxLength: 8 }));
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, '', 'success', 'error', 'up', 'OK', 'vector', 'scalar', 'string', 'matrix'),
      fc.string({ maxLength: 12 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    ),
  }));
  return value;
}

/** Every node's path in a JSON value (the root is `[]`). */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

function replaceAt(value: unknown, path: readonly (string | number)[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) {
    const copy = [...value];
    if (remove && rest.length === 0) copy.splice(head as number, 1);
    else copy[head as number] = replaceAt(copy[head as number], rest, replacement, remove);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === head && remove && rest.length === 0) continue;
    Object.defineProperty(copy, k, { value: k === head ? replaceAt(v, rest, replacement, remove) : v, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** A real answer with one to three of its nodes replaced by hostile JSON or removed. */
export function mutatedJson(base: unknown, keys: readonly string[]): fc.Arbitrary<unknown> {
  const step = fc.tuple(fc.nat(), hostileJson(keys), fc.boolean());
  return fc.array(step, { minLength: 1, maxLength: 3 }).map((steps) =>
    steps.reduce((value, [n, replacement, remove]) => {
      const paths = pathsOf(value);
      return replaceAt(value, paths[n % paths.length] as (string | number)[], replacement, remove);
    }, base),
  );
}

// ------------------------------------------------------------------------------------------------
// Endpoints and assertions

export interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly text: string;
}

/** An endpoint that gives `answer` to every request. */
export function constantEndpoint(answer: Answer | ((req: EndpointRequest) => Answer)): Endpoint {
  return {
    description: 'a fake service',
    mode: 'proxy',
    request: async (req): Promise<HttpResponse> => {
      const a = typeof answer === 'function' ? answer(req) : answer;
      return { status: a.status, headers: { ...a.headers }, text: a.text, ms: 1 };
    },
    close: async () => undefined,
  };
}

/** HTTP statuses our clients treat differently, and arbitrary ones. */
export const anyStatus = (): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(200, 201, 204, 207, 301, 400, 401, 403, 404, 422, 500, 502, 503), fc.integer({ min: 100, max: 599 }));

/** A JSON answer's text, or that text cut or corrupted, or arbitrary text. */
export function answerText(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: value.map((v) => JSON.stringify(v) ?? 'null'), weight: 6 },
    { arbitrary: fc.tuple(value, fc.nat()).map(([v, n]) => (JSON.stringify(v) ?? '').slice(0, n % 200)), weight: 1 },
    { arbitrary: anyString(60), weight: 1 },
  );
}

/** Calls `fn`; passes when it returns or throws an `MfcError`, fails on anything else. */
export function onlyOurErrors<T>(fn: () => T): T | MfcError {
  try {
    return fn();
  } catch (err) {
    expectOurError(err);
    return err as MfcError;
  }
}

export function expectOurError(err: unknown): void {
  if (!(err instanceof MfcError)) {
    throw new Error(`threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)} instead of an MfcError`, { cause: err });
  }
}

/** Awaits `fn` for at most `ms`; passes when it settles in time with a value or an `MfcError`. */
export async function settlesWithOurErrors<T>(fn: () => Promise<T>, ms = 2_000): Promise<T | MfcError> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), hang]);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('did not settle')) throw err;
    expectOurError(err);
    return err as MfcError;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a synchronous parser and fails when one call takes longer than `ms` (a quadratic regex, a loop). */
export function timed<T>(ms: number, fn: () => T): T {
  const started = performance.now();
  try {
    return fn();
  } finally {
    const took = performance.now() - started;
    if (took > ms) throw new Error(`took ${Math.round(took)} ms, more than ${ms} ms`);
  }
}

/**
 * An HTTP answer: one of the `real` answers with its JSON body mutated (and sometimes another
 * status), or any JSON with any status and one of `headers`.
 */
export function answers(real: readonly Answer[], keys: readonly string[], headers: readonly Record<string, string>[]): fc.Arbitrary<Answer> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...real), fc.option(anyStatus(), { freq: 3 })).chain(([answer, status]) => {
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        return fc.constant({ ...answer, status: status ?? answer.status });
      }
      return answerText(mutatedJson(body, keys)).map((text) => ({ status: status ?? answer.status, headers: answer.headers, text }));
    }),
    fc.tuple(anyStatus(), answerText(hostileJson(keys)), fc.constantFrom(...headers)).map(([status, text, h]) => ({ status, headers: h, text })),
  );
}
