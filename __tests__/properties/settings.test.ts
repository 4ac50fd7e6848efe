/**
 * Properties of the input parser: whatever the workflow passes, parseSettings returns frozen
 * settings or throws a SettingsError naming a contract input; it answers in bounded time; and no
 * password written into a URL comes back in a message.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SettingsError } from '../../src/errors.js';
import { DEFAULTS, parseDuration, parseSelector, parseServiceRef, parseSettings, type InputName } from '../../src/settings.js';
import { CHECK_IDS } from '../../src/types.js';
import { hostileString, hugeString, onlyOurErrors, params, secretValue, timed } from './arbitraries.js';

const INPUT_NAMES = Object.keys(DEFAULTS) as InputName[];
const inputName = fc.constantFrom(...INPUT_NAMES);

/** Valid values for every input, with direct access so that the URL inputs are read too. */
const VALID: Readonly<Record<InputName, string>> = {
  ...DEFAULTS,
  access: 'direct',
  'prometheus-url': 'https://prometheus.example.com',
  'grafana-url': 'https://grafana.example.com/grafana/',
  'datasource-url': 'http://prometheus.taskflow.svc.cluster.local:9090',
  'skip-checks': 'grafana-query, prometheus-query',
  wait: '1m30s',
  'grafana-password': 'pw',
};

/** Inputs whose value decides whether another input is valid. */
const DEPENDENTS: Partial<Record<InputName, InputName[]>> = {
  'prometheus-service': ['datasource-url'],
  namespace: ['datasource-url'],
  access: ['prometheus-url', 'grafana-url'],
};

/** Parses; returns the settings or the SettingsError, after checking it is well formed. */
function parse(values: Readonly<Record<string, string | undefined>>): ReturnType<typeof parseSettings> | SettingsError {
  // YAML parsing is linear but not fast: a 130 KB kubeconfig of nested brackets takes about 1.5 s.
  const limit = (values.kubeconfig?.length ?? 0) > 10_000 ? 4_000 : 1_000;
  const result = onlyOurErrors(() => timed(limit, () => parseSettings((name) => values[name])));
  if (result instanceof Error) {
    expect(result).toBeInstanceOf(SettingsError);
    const err = result as SettingsError;
    expect(INPUT_NAMES).toContain(err.input);
    expect(err.message.startsWith(`Input '${err.input}' is invalid: `)).toBe(true);
    return err;
  }
  expect(Object.isFrozen(result)).toBe(true);
  return result;
}

describe('parseSettings on arbitrary inputs', () => {
  it('returns settings or throws a SettingsError naming an input, for any map of inputs to strings', () => {
    fc.assert(
      fc.property(fc.dictionary(inputName, hostileString(40, 100), { maxKeys: INPUT_NAMES.length }), (values) => {
        parse(values);
      }),
      params(300),
    );
  });

  it('blames the input that was changed (or one that depends on it) when one valid input is replaced', () => {
    fc.assert(
      fc.property(inputName, hostileString(), (name, value) => {
        const result = parse({ ...VALID, [name]: value });
        if (result instanceof SettingsError) expect([name, ...(DEPENDENTS[name] ?? [])]).toContain(result.input);
      }),
      params(400),
    );
  });

  it('answers within a second for any input of up to ~130 KB (no quadratic pattern)', () => {
    const prefix = fc.oneof(fc.constantFrom('', '/', 'http://h/', 'https://h', 'app=a,', 'a:', '1h', 'true'), fc.constant('valid'));
    fc.assert(
      fc.property(inputName, prefix, hugeString(), fc.constantFrom('direct', 'proxy'), (name, head, body, access) => {
        parse({ ...VALID, access, [name]: (head === 'valid' ? VALID[name] : head) + body });
      }),
      params(150),
    );
  });

  it('never echoes a password written into a URL, whichever input it is given to', () => {
    const url = fc
      .tuple(fc.constantFrom('http', 'https', 'ftp', 'h', ''), fc.stringMatching(/^[a-z]{0,8}$/), secretValue(), fc.constantFrom('host', 'prometheus:9090', 'x y', ''))
      .map(([scheme, user, secret, host]) => ({ secret, text: `${scheme ? `${scheme}:` : ''}//${user}:${secret}@${host}` }));
    const affix = fc.oneof(fc.constant(''), fc.constantFrom('http://h/?q=', 'https://h/#', ' ', 'not a url ', 'prometheus:', 'app='), hostileString(8));
    fc.assert(
      fc.property(inputName, url, affix, affix, fc.constantFrom('direct', 'proxy'), (name, { secret, text }, prefix, suffix, access) => {
        const result = parse({ ...VALID, access, [name]: prefix + text + suffix });
        if (result instanceof SettingsError) {
          expect(result.message).not.toContain(secret);
          expect(result.hint ?? '').not.toContain(secret);
        }
      }),
      params(400),
    );
  });
});

describe('the value parsers', () => {
  it('parseDuration reads every h/m/s/ms combination exactly, and anything else as a bounded duration or a SettingsError', () => {
    const parts = fc.record({ h: fc.option(fc.nat({ max: 2 })), m: fc.option(fc.nat({ max: 90 })), s: fc.option(fc.nat({ max: 5400 })), ms: fc.option(fc.nat({ max: 5000 })) });
    fc.assert(
      fc.property(parts, ({ h, m, s, ms }) => {
        const text = `${h === null ? '' : `${h}h`}${m === null ? '' : `${m}m`}${s === null ? '' : `${s}s`}${ms === null ? '' : `${ms}ms`}`;
        const total = (h ?? 0) * 3_600_000 + (m ?? 0) * 60_000 + (s ?? 0) * 1000 + (ms ?? 0);
        const result = onlyOurErrors(() => parseDuration(text, 'wait'));
        if (text !== '' && total <= 3_600_000) expect(result).toBe(total);
        else expect(result).toBeInstanceOf(SettingsError);
      }),
      params(300),
    );
    fc.assert(
      fc.property(hostileString(), (text) => {
        const result = onlyOurErrors(() => timed(1_000, () => parseDuration(text, 'wait')));
        if (typeof result === 'number') {
          expect(Number.isSafeInteger(result) && result >= 0 && result <= 3_600_000).toBe(true);
        } else {
          expect(result).toBeInstanceOf(SettingsError);
          expect((result as SettingsError).input).toBe('wait');
          expect(result.message).toContain('expected e.g. 90, 90s, 2m or 1m30s');
        }
      }),
      params(300),
    );
  });

  it('parseServiceRef accepts exactly a DNS-1035 name and a port number or name', () => {
    fc.assert(
      fc.property(hostileString(), (text) => {
        const result = onlyOurErrors(() => timed(1_000, () => parseServiceRef(text, 'prometheus-service')));
        if (result instanceof SettingsError) return;
        expect(result).not.toBeInstanceOf(Error);
        const ref = result as { name: string; port: string };
        expect(`${ref.name}:${ref.port}`).toBe(text);
        expect(ref.name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
        expect(/^[1-9]\d{0,4}$/.test(ref.port) ? Number(ref.port) <= 65535 : /^(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/.test(ref.port) && ref.port.length <= 15).toBe(true);
      }),
      params(300),
    );
  });

  it('parseSelector is idempotent: a normalized selector parses to itself', () => {
    const word = fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,6}[a-z0-9])?$/);
    const requirement = fc.oneof(
      fc.tuple(word, fc.constantFrom('=', '==', '!=', ' = ', ' != '), fc.oneof(word, fc.constant(''))).map(([k, op, v]) => `${k}${op}${v}`),
      fc.tuple(word, fc.constantFrom(' in ', ' notin ', ' in'), fc.array(word, { minLength: 1, maxLength: 3 })).map(([k, op, vs]) => `${k}${op}(${vs.join(', ')})`),
      fc.tuple(fc.constantFrom('', '!', '! '), word).map(([not, k]) => `${not}${k}`),
    );
    const selector = fc.oneof(fc.array(requirement, { minLength: 1, maxLength: 4 }).map((rs) => rs.join(' , ')), hostileString());
    fc.assert(
      fc.property(selector, (text) => {
        const result = onlyOurErrors(() => timed(1_000, () => parseSelector(text, 'prometheus-selector')));
        if (typeof result !== 'string') {
          expect(result).toBeInstanceOf(SettingsError);
          return;
        }
        expect(parseSelector(result, 'prometheus-selector')).toBe(result);
      }),
      params(300),
    );
  });

  it('skip-checks takes exactly the check ids, in any order, case and spacing of the list', () => {
    fc.assert(
      fc.property(fc.subarray([...CHECK_IDS]), fc.constantFrom(',', ', ', '\n', ' ,\r\n'), (ids, sep) => {
        const settings = parse({ ...VALID, 'skip-checks': [...ids].reverse().join(sep) });
        expect(settings).not.toBeInstanceOf(Error);
        expect((settings as { skipChecks: readonly string[] }).skipChecks).toEqual(ids);
      }),
      params(100),
    );
  });
});
