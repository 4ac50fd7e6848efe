/**
 * Properties of kubeconfig decoding and loading: whatever the kubeconfig input holds (text, base64
 * of any bytes, a valid kubeconfig damaged in any way), the settings and loadKubeConfig either
 * accept it or throw a SettingsError, in bounded time, and never quote a credential it contains;
 * a file is read as the input is; and the environment's proxy is decided for any server and
 * NO_PROXY.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SettingsError } from '../../src/errors.js';
import { loadKubeConfig } from '../../src/kubeconfig.js';
import { environmentProxy } from '../../src/proxy.js';
import { parseSettings } from '../../src/settings.js';
import { isMap, parseDocument } from 'yaml';
import { anyString, hostileString, mutatedText, onlyOurErrors, params, secretValue, timed } from './arbitraries.js';

/** No $KUBECONFIG, an empty home and no service account: only the input counts. */
const ENV: NodeJS.ProcessEnv = { HOME: mkdtempSync(join(tmpdir(), 'mfc-prop-home-')) };

interface Secrets {
  token: string;
  password: string;
  key: string;
  serverPassword: string;
  providerSecret: string;
  execSecret: string;
}

const secrets: fc.Arbitrary<Secrets> = fc.record({
  token: secretValue(),
  password: secretValue(),
  key: secretValue(),
  serverPassword: secretValue(),
  providerSecret: secretValue(),
  execSecret: secretValue(),
});

/** A valid kubeconfig holding every kind of credential, in block or flow style. */
function kubeconfig(s: Secrets, flow: boolean): string {
  const pem = `-----BEGIN EC PRIVATE KEY-----\n${s.key}\n-----END EC PRIVATE KEY-----\n`;
  if (flow) {
    return [
      'apiVersion: v1',
      `clusters: [{name: c, cluster: {server: "https://admin:${s.serverPassword}@127.0.0.1:6443"}}]`,
      `users: [{name: u, user: {token: ${s.token}}}, {name: b, user: {username: admin, password: "${s.password}"}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: c, user: b}}]',
      'current-context: x',
    ].join('\n');
  }
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sim',
    '  cluster:',
    `    server: https://admin:${s.serverPassword}@127.0.0.1:6443`,
    '    certificate-authority-data: ""',
    'users:',
    '- name: ci',
    '  user:',
    `    token: ${s.token}`,
    '- name: basic',
    '  user:',
    '    username: admin',
    `    password: ${s.password}`,
    '- name: cert',
    '  user:',
    '    client-certificate-data: Y2VydA==',
    `    client-key-data: ${Buffer.from(pem).toString('base64')}`,
    '- name: oidc',
    '  user:',
    '    auth-provider:',
    '      name: oidc',
    '      config:',
    `        id-token: ${s.providerSecret}`,
    '- name: exec',
    '  user:',
    '    exec:',
    '      command: aws',
    '      env:',
    '      - name: AWS_SECRET_ACCESS_KEY',
    `        value: ${s.execSecret}`,
    'contexts:',
    '- name: ci@sim',
    '  context:',
    '    cluster: sim',
    '    user: ci',
    '- name: basic@sim',
    '  context: {cluster: sim, user: basic}',
    '- name: cert@sim',
    '  context: {cluster: sim, user: cert}',
    'current-context: ci@sim',
  ].join('\n');
}

const CONTEXTS = ['', 'ci@sim', 'basic@sim', 'cert@sim', 'x', 'y', 'prod'];

/** The kubeconfig input through the settings, then loaded; every error checked to be ours and well formed. */
function decodeAndLoad(input: string, context: string): SettingsError[] {
  const errors: SettingsError[] = [];
  const settings = onlyOurErrors(() => timed(4_000, () => parseSettings((name) => (name === 'kubeconfig' ? input : name === 'context' ? context : undefined))));
  if (settings instanceof Error) {
    errors.push(settings as SettingsError);
  } else {
    const loaded = onlyOurErrors(() => timed(4_000, () => loadKubeConfig(settings.kubeconfig, settings.context, ENV)));
    if (loaded instanceof Error) errors.push(loaded as SettingsError);
    else expect(loaded.server).toMatch(/^https?:\/\//);
  }
  for (const err of errors) {
    expect(err).toBeInstanceOf(SettingsError);
    expect(['kubeconfig', 'context']).toContain(err.input);
  }
  return errors;
}

function expectNoSecret(errors: readonly SettingsError[], s: Secrets): void {
  for (const err of errors) {
    for (const value of Object.values(s)) {
      expect(err.message).not.toContain(value);
      expect(err.hint ?? '').not.toContain(value);
    }
  }
}

const encoded = (text: string, how: 'yaml' | 'base64' | 'base64-wrapped'): string => {
  if (how === 'yaml') return text;
  const b64 = Buffer.from(text).toString('base64');
  return how === 'base64' ? b64 : (b64.match(/.{1,76}/g) ?? []).join('\n');
};

describe('the kubeconfig input', () => {
  it('accepts or refuses any text with a SettingsError', () => {
    fc.assert(
      fc.property(hostileString(60, 20), fc.constantFrom(...CONTEXTS), (text, context) => {
        decodeAndLoad(text, context);
      }),
      params(200),
    );
  });

  it('accepts or refuses base64 of any bytes with a SettingsError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, wrap) => {
        const b64 = Buffer.from(bytes).toString(wrap ? 'base64url' : 'base64');
        decodeAndLoad(b64, '');
      }),
      params(200),
    );
  });

  it('loads the valid kubeconfigs, as YAML and as base64, with any of their contexts', () => {
    fc.assert(
      fc.property(secrets, fc.boolean(), fc.constantFrom('yaml', 'base64', 'base64-wrapped') as fc.Arbitrary<'yaml' | 'base64' | 'base64-wrapped'>, (s, flow, how) => {
        const errors = decodeAndLoad(encoded(kubeconfig(s, flow), how), flow ? 'y' : 'basic@sim');
        expect(errors).toEqual([]);
      }),
      params(30),
    );
  });

  it('refuses damaged kubeconfigs with a SettingsError that quotes none of their credentials', () => {
    const damaged = fc
      .tuple(secrets, fc.boolean())
      .chain(([s, flow]) => fc.tuple(fc.constant(s), mutatedText(kubeconfig(s, flow)), fc.constantFrom('yaml', 'base64') as fc.Arbitrary<'yaml' | 'base64'>, fc.constantFrom(...CONTEXTS)));
    fc.assert(
      fc.property(damaged, ([s, text, how, context]) => {
        expectNoSecret(decodeAndLoad(encoded(text, how), context), s);
      }),
      params(400),
    );
  });

  it('never quotes a password in the server URL, whatever the scheme', () => {
    fc.assert(
      fc.property(secrets, fc.constantFrom('https', 'http', 'ftp', 'htps', 'tcp', ''), anyString(6), (s, scheme, junk) => {
        const text = kubeconfig(s, true).replace('https://', `${scheme}${junk}://`);
        expectNoSecret(decodeAndLoad(text, ''), s);
      }),
      params(100),
    );
  });

  it('refuses any value of the context input that the kubeconfig does not define, naming the input', () => {
    fc.assert(
      fc.property(secrets, anyString(30), (s, context) => {
        const errors = decodeAndLoad(kubeconfig(s, false), context);
        const known = ['ci@sim', 'basic@sim', 'cert@sim'];
        if (context.trim() === '' || known.includes(context.trim())) expect(errors).toEqual([]);
        else expect(errors.map((e) => e.input)).toEqual(['context']);
      }),
      params(100),
    );
  });
});

describe('the kubeconfig as a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfc-prop-file-'));
  let n = 0;
  const asFile = (text: string): string => {
    const file = join(dir, `config-${n++}`);
    writeFileSync(file, text);
    return file;
  };
  /** The outcome, with the source named the same way for both forms. */
  const outcome = (load: () => { server: string; context: string }, source: string): string => {
    const result = onlyOurErrors(() => timed(4_000, load));
    if (!(result instanceof Error)) return `ok ${result.server} ${result.context}`;
    expect(result).toBeInstanceOf(SettingsError);
    return `${(result as SettingsError).input}: ${result.message.split(source).join('<source>')}`;
  };

  it('loads a damaged kubeconfig from a file exactly as from the input, quoting none of its credentials', () => {
    const damaged = fc.tuple(secrets, fc.boolean()).chain(([s, flow]) => fc.tuple(fc.constant(s), mutatedText(kubeconfig(s, flow)), fc.constantFrom(...CONTEXTS)));
    fc.assert(
      fc.property(damaged, ([s, text, context]) => {
        if (!isYamlMapping(text)) return;
        const file = asFile(text);
        const fromInput = outcome(() => loadKubeConfig(text, context, ENV), 'the kubeconfig input');
        const fromFile = outcome(() => loadKubeConfig({ file }, context, ENV), `the kubeconfig file ${file}`);
        expect(fromFile).toBe(fromInput);
        if (!fromFile.startsWith('ok ')) for (const value of Object.values(s)) expect(fromFile).not.toContain(value);
      }),
      params(200),
    );
  });

  it('takes any tokenFile value, loading or refusing it with a SettingsError that quotes no credential', () => {
    fc.assert(
      fc.property(secrets, fc.oneof(hostileString(30, 5), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })), fc.boolean(), (s, value, dashed) => {
        const text = [
          'apiVersion: v1',
          'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
          `users: [{name: u, user: {token: ${s.token}, ${dashed ? 'token-file' : 'tokenFile'}: ${JSON.stringify(value)}}}]`,
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
        ].join('\n');
        const result = onlyOurErrors(() => timed(4_000, () => loadKubeConfig({ file: asFile(text) }, '', ENV)));
        if (result instanceof Error) {
          expect(result).toBeInstanceOf(SettingsError);
          expect(result.message).not.toContain(s.token);
        }
      }),
      params(100),
    );
  });
});

describe('the proxy the environment names', () => {
  const host = fc.oneof(
    fc.constantFrom('localhost', '127.0.0.1', '[::1]', '10.0.0.5', '[2001:db8::1]', 'kube.example.com', 'api.k8s.local'),
    fc.ipV4(),
    fc.domain(),
  );
  const noProxy = fc.array(fc.oneof(fc.domain(), fc.ipV4(), fc.constantFrom('*', '.example.com', '10.0.0.0/8', '::1', '[2001:db8::1]:443', ':1', '', '  ', '*.k8s.local', '/', '[', 'a:b:c')), { maxLength: 5 }).map((l) => l.join(','));

  it('decides for any server and any NO_PROXY without throwing; loopback and `*` are never proxied; what it returns is the variable', () => {
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65535 }), noProxy, fc.constantFrom('http://proxy:3128', 'proxy:3128', 'socks5://s:1080', 'https://p'), (h, port, np, value) => {
        const chosen = environmentProxy(`https://${h}:${port}`, { HTTPS_PROXY: value, NO_PROXY: np });
        const bare = h.replace(/^\[|\]$/g, '');
        if (bare === 'localhost' || bare === '::1' || bare.startsWith('127.') || np.split(',').some((e) => e.trim() === '*')) expect(chosen).toBeUndefined();
        if (chosen) {
          expect(chosen.from).toBe('HTTPS_PROXY');
          expect(['http:', 'https:', 'socks5:']).toContain(chosen.url.protocol);
        }
      }),
      params(300),
    );
  });
});

function isYamlMapping(text: string): boolean {
  const doc = parseDocument(text);
  return doc.errors.length === 0 && isMap(doc.contents);
}
