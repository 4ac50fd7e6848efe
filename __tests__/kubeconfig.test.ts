import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettingsError } from '../src/errors.js';
import { loadKubeConfig } from '../src/kubeconfig.js';
import { secrets } from '../src/secrets.js';
import { parseSettings } from '../src/settings.js';

const TOKEN = 'kc-token-6f1d2e9a8b7c';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKc0ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleQ==\n-----END EC PRIVATE KEY-----\n';

function kubeconfig(user: Record<string, unknown> = { token: TOKEN }, extra = ''): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sim',
    '  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ""}',
    'users:',
    `- name: ci`,
    `  user: ${JSON.stringify(user)}`,
    'contexts:',
    '- name: ci@sim',
    '  context: {cluster: sim, user: ci, namespace: taskflow}',
    '- name: other',
    '  context: {cluster: sim, user: ci}',
    'current-context: ci@sim',
    extra,
  ].join('\n');
}

const failure = (fn: () => unknown): SettingsError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error('expected a SettingsError');
};

describe('kubeconfig loading', () => {
  const env: NodeJS.ProcessEnv = { HOME: mkdtempSync(join(tmpdir(), 'mfc-home-')) };

  afterEach(() => undefined);

  it('reads the input as YAML and as base64 (the settings decode base64), using its current context', () => {
    const yaml = kubeconfig();
    const fromYaml = loadKubeConfig(parseSettings((n) => (n === 'kubeconfig' ? yaml : undefined)).kubeconfig, '', env);
    const b64 = Buffer.from(yaml).toString('base64');
    const fromB64 = loadKubeConfig(parseSettings((n) => (n === 'kubeconfig' ? b64 : undefined)).kubeconfig, '', env);
    for (const loaded of [fromYaml, fromB64]) {
      expect(loaded.server).toBe('https://127.0.0.1:6443');
      expect(loaded.context).toBe('ci@sim');
      expect(loaded.source).toBe('the kubeconfig input');
    }
  });

  it('selects the context input, and names the known contexts when it does not exist', () => {
    expect(loadKubeConfig(kubeconfig(), 'other', env).context).toBe('other');
    const err = failure(() => loadKubeConfig(kubeconfig(), 'prod', env));
    expect(err.input).toBe('context');
    expect(err.message).toContain('"prod"');
    expect(err.message).toContain('ci@sim, other');
  });

  it('registers every credential as a secret: token, client key (base64 and decoded), password', () => {
    loadKubeConfig(kubeconfig({ 'client-certificate-data': 'Y2VydA==', 'client-key-data': Buffer.from(KEY).toString('base64') }), '', env);
    expect(secrets.redact(`key ${Buffer.from(KEY).toString('base64')}`)).toBe('key ***');
    expect(secrets.redact(KEY)).not.toContain('MHcCAQEEIKc0ZmFr');
    loadKubeConfig(kubeconfig(), '', env);
    expect(secrets.redact(`Bearer ${TOKEN}`)).toBe('Bearer ***');
  });

  it('refuses a user without credentials, a cluster without server, and YAML that is not a kubeconfig, without quoting it', () => {
    expect(failure(() => loadKubeConfig(kubeconfig({}), '', env)).message).toMatch(/user "ci" .* has no credentials/);
    const noServer = kubeconfig().replace('server: "https://127.0.0.1:6443", ', '');
    expect(failure(() => loadKubeConfig(noServer, '', env)).message).toMatch(/server/);
    const broken = `apiVersion: v1\nclusters: [\n  token: ${TOKEN}\n`;
    const err = failure(() => loadKubeConfig(broken, '', env));
    expect(err.input).toBe('kubeconfig');
    expect(err.message).not.toContain(TOKEN);
  });

  it('falls back to $KUBECONFIG, then ~/.kube/config, and explains when there is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfc-kc-'));
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfig());
    expect(loadKubeConfig('', '', { ...env, KUBECONFIG: file }).source).toContain(file);
    const missing = failure(() => loadKubeConfig('', '', { ...env, KUBECONFIG: join(dir, 'nope') }));
    expect(missing.message).toContain('does not exist');
    const none = failure(() => loadKubeConfig('', '', { HOME: dir }));
    expect(none.message).toContain('no kubeconfig');
  });
});
