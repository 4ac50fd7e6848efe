import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { KubeApiServer } from '../sim/kube/index.js';
import { KubeCluster } from '../src/cluster.js';
import { SettingsError } from '../src/errors.js';
import { loadKubeConfig } from '../src/kubeconfig.js';
import { environmentProxy } from '../src/proxy.js';
import { secrets } from '../src/secrets.js';
import { parseSettings } from '../src/settings.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

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

  it('reads YAML merge keys, as kubectl and client-node do', () => {
    const yaml = [
      'apiVersion: v1',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users:',
      '- name: base',
      `  user: &creds {token: ${TOKEN}}`,
      '- name: ci',
      '  user: {<<: *creds, as: viewer}',
      'contexts: [{name: x, context: {cluster: c, user: ci}}]',
      'current-context: x',
    ].join('\n');
    const { kc } = loadKubeConfig(yaml, '', env);
    expect(kc.getCurrentUser()).toMatchObject({ name: 'ci', token: TOKEN, impersonateUser: 'viewer' });
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

// ------------------------------------------------------------------------------------------------
// As kubectl reads them: token files, relative paths, merged $KUBECONFIG files, proxies.

const SIM_MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: taskflow }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: grafana-datasources, namespace: taskflow }
data: { datasources.yaml: "apiVersion: 1\\n" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: grafana, namespace: taskflow }
spec:
  selector: { matchLabels: { app: grafana } }
  template:
    metadata: { labels: { app: grafana } }
    spec:
      containers:
      - name: grafana
        image: grafana/grafana:11.5.0
        volumeMounts: [{ name: datasources, mountPath: /etc/grafana/provisioning/datasources, readOnly: true }]
      volumes: [{ name: datasources, configMap: { name: grafana-datasources } }]
`;

/** A kubeconfig document for the simulated API server, as YAML. */
function simKubeconfig(o: { server: string; cluster?: Record<string, unknown>; user: Record<string, unknown>; name?: string; current?: boolean }): string {
  const name = o.name ?? 'sim';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: o.server, ...o.cluster } }],
    users: [{ name, user: o.user }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'taskflow' } }],
    ...(o.current === false ? {} : { 'current-context': name }),
  });
}

/**
 * A small HTTP CONNECT proxy, as squid or tinyproxy tunnel HTTPS: every tunnel leads to the
 * simulated API server whatever host:port was asked, so a host that does not resolve is reached
 * only through it. It records what each CONNECT asked, and may require Basic credentials.
 */
async function connectProxy(upstreamPort: () => number, requiredAuth?: string): Promise<{ url: string; tunnels: { target: string; auth?: string }[]; close(): Promise<void> }> {
  const tunnels: { target: string; auth?: string }[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket): Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  };
  const server = createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const [method, target = ''] = (lines[0] ?? '').split(' ');
      const auth = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:\s*/, '');
      tunnels.push({ target, ...(auth ? { auth } : {}) });
      if (method !== 'CONNECT') return void client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
      if (requiredAuth && auth !== requiredAuth) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\n\r\n');
      const upstream = track(
        connect(upstreamPort(), '127.0.0.1', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          const rest = head.subarray(end + 4);
          if (rest.length) upstream.write(rest);
          client.pipe(upstream);
          upstream.pipe(client);
        }),
      );
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('kubeconfig as kubectl reads it', () => {
  let api: KubeApiServer;
  let token: string;
  let base: string;
  let port: number;
  const home: NodeJS.ProcessEnv = { HOME: mkdtempSync(join(tmpdir(), 'mfc-home-')) };

  beforeAll(async () => {
    api = new KubeApiServer({ manifests: SIM_MANIFESTS });
    await api.start();
    token = api.issueToken('admin', ['system:masters']);
    port = Number(new URL(api.url).port);
    base = mkdtempSync(join(tmpdir(), 'mfc-kc-files-'));
  });
  afterAll(async () => {
    await api.stop();
    rmSync(base, { recursive: true, force: true });
  });

  /** Writes `files` under a fresh directory; returns its path. */
  const layout = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(base, 'kc-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };

  /** Runs `fn` with the current directory elsewhere, so that relative paths resolved against it would miss. */
  const elsewhere = async <T>(fn: () => Promise<T> | T): Promise<T> => {
    const cwd = process.cwd();
    process.chdir(mkdtempSync(join(base, 'cwd-')));
    try {
      return await fn();
    } finally {
      process.chdir(cwd);
    }
  };

  const clusterOf = async (loaded: { kc: KubeConfig }): Promise<string> => {
    const cluster = new KubeCluster(loaded.kc, 5_000);
    try {
      return await cluster.version();
    } finally {
      await cluster.close?.();
    }
  };

  it.each(['tokenFile', 'token-file'])('reads the %s and the certificate-authority relative to the file, from another directory', async (key) => {
    const dir = layout({ 'kube/config': simKubeconfig({ server: api.url, cluster: { 'certificate-authority': 'pki/ca.crt' }, user: { [key]: '../secrets/token' } }), 'kube/pki/ca.crt': api.caPem, 'secrets/token': `${token}\n` });
    const loaded = await elsewhere(() => loadKubeConfig({ file: relative(process.cwd(), join(dir, 'kube/config')) }, '', home));
    expect(loaded.source).toBe(`the kubeconfig file ${join(dir, 'kube/config')}`);
    expect(loaded.kc.getCurrentCluster()?.caFile).toBe(join(dir, 'kube/pki/ca.crt'));
    expect(await elsewhere(() => clusterOf(loaded))).toMatch(/^v1\./);
    expect(secrets.redact(`Bearer ${token}`)).toBe('Bearer ***');
  });

  it("prefers the file's token to a static one, and falls back to the static token while the file cannot be read", async () => {
    const wrong = layout({ config: simKubeconfig({ server: api.url, cluster: { 'certificate-authority-data': b64(api.caPem) }, user: { token: 'stale-token-0000', tokenFile: 'token' } }), token });
    expect(await clusterOf(loadKubeConfig({ file: join(wrong, 'config') }, '', home))).toMatch(/^v1\./);
    const missing = layout({ config: simKubeconfig({ server: api.url, cluster: { 'certificate-authority-data': b64(api.caPem) }, user: { token, tokenFile: 'gone' } }) });
    expect(await clusterOf(loadKubeConfig({ file: join(missing, 'config') }, '', home))).toMatch(/^v1\./);
  });

  it('refuses a token file that cannot be read when there is no static token, naming the file', () => {
    const dir = layout({ config: simKubeconfig({ server: api.url, user: { tokenFile: 'nope/token' } }) });
    const err = failure(() => loadKubeConfig({ file: join(dir, 'config') }, '', home));
    expect(err.input).toBe('kubeconfig');
    expect(err.message).toContain(`the tokenFile ${join(dir, 'nope/token')} of user "sim"`);
    expect(err.message).toContain('(ENOENT)');
  });

  it('re-reads the token file after a minute, as client-go does, and masks each token it reads', async () => {
    const dir = layout({ config: simKubeconfig({ server: api.url, user: { tokenFile: 'token' } }), token: 'first-token-5a7c\n' });
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      const { kc } = loadKubeConfig({ file: join(dir, 'config') }, '', home);
      const header = async (): Promise<unknown> => {
        const opts: { headers?: Record<string, unknown> } = {};
        await kc.applyToHTTPSOptions(opts as never);
        return opts.headers?.Authorization;
      };
      expect(await header()).toBe('Bearer first-token-5a7c');
      writeFileSync(join(dir, 'token'), 'second-token-9e1b');
      jest.setSystemTime(Date.now() + 30_000);
      expect(await header()).toBe('Bearer first-token-5a7c');
      jest.setSystemTime(Date.now() + 31_000);
      expect(await header()).toBe('Bearer second-token-9e1b');
      expect(secrets.redact('second-token-9e1b')).toBe('***');
    } finally {
      jest.useRealTimers();
    }
  });

  it('resolves a client certificate and key relative to the file, and masks the key', async () => {
    const pair = await api.issueClientCert('admin', ['system:masters']);
    const dir = layout({
      'a/config': simKubeconfig({ server: api.url, cluster: { 'certificate-authority': 'ca.crt' }, user: { 'client-certificate': 'certs/admin.crt', 'client-key': 'certs/admin.key' } }),
      'a/ca.crt': api.caPem,
      'a/certs/admin.crt': pair.certPem,
      'a/certs/admin.key': pair.keyPem,
    });
    const loaded = await elsewhere(() => loadKubeConfig({ file: join(dir, 'a/config') }, '', home));
    expect(await elsewhere(() => clusterOf(loaded))).toMatch(/^v1\./);
    const keyLine = pair.keyPem.split('\n').find((l) => l.length > 40 && !l.startsWith('-----')) as string;
    expect(secrets.redact(keyLine)).toBe('***');
  });

  it('resolves an exec command with a path separator, and leaves a command looked up in $PATH alone', () => {
    const dir = layout({ config: simKubeconfig({ server: api.url, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'bin/get-token', args: ['x'] } } }) });
    expect(loadKubeConfig({ file: join(dir, 'config') }, '', home).kc.getCurrentUser()?.exec.command).toBe(join(dir, 'bin/get-token'));
    const onPath = layout({ config: simKubeconfig({ server: api.url, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } } }) });
    expect(loadKubeConfig({ file: join(onPath, 'config') }, '', home).kc.getCurrentUser()?.exec.command).toBe('aws');
  });

  it('merges $KUBECONFIG files as kubectl does: the first to name an entry or set current-context wins, each with its own directory', async () => {
    const first = layout({ config: simKubeconfig({ server: api.url, cluster: { 'certificate-authority': 'ca.crt' }, user: { tokenFile: 'token' }, current: false }), 'ca.crt': api.caPem, token });
    const second = layout({
      config: simKubeconfig({ server: 'https://second.invalid:6443', user: { token: 'second-user-token' } }),
      'extra.yaml': simKubeconfig({ server: 'https://other.invalid', user: { token: 'other-token' }, name: 'other' }),
    });
    const list = [join(first, 'config'), join(base, 'missing'), join(second, 'config'), join(second, 'extra.yaml')].join(delimiter);
    const loaded = await elsewhere(() => loadKubeConfig('', '', { ...home, KUBECONFIG: list }));
    expect(loaded.context).toBe('sim');
    expect(loaded.server).toBe(api.url);
    expect(loaded.kc.getContexts().map((c) => c.name)).toEqual(['sim', 'other']);
    expect(await elsewhere(() => clusterOf(loaded))).toMatch(/^v1\./);
  });

  describe('proxies', () => {
    let proxy: Awaited<ReturnType<typeof connectProxy>>;
    beforeAll(async () => {
      proxy = await connectProxy(() => port);
    });
    afterAll(() => proxy.close());

    /** A kubeconfig whose server name does not resolve: only a proxy can reach it. */
    const unresolvable = (cluster: Record<string, unknown> = {}): string =>
      simKubeconfig({ server: `https://kube-api.mfc.test:${port}`, cluster: { 'certificate-authority-data': b64(api.caPem), 'tls-server-name': 'localhost', ...cluster }, user: { token } });

    it('sends the API requests and the exec WebSocket through HTTPS_PROXY', async () => {
      proxy.tunnels.length = 0;
      const loaded = loadKubeConfig(unresolvable(), '', { ...home, HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,10.0.0.0/8,.svc' });
      expect(loaded.proxy).toBe(`${proxy.url}/ (HTTPS_PROXY)`);
      const cluster = new KubeCluster(loaded.kc, 5_000);
      try {
        expect(await cluster.version()).toMatch(/^v1\./);
        const pods = await cluster.listPods('taskflow', 'app=grafana');
        expect(pods).toHaveLength(1);
        const tunnelsBefore = proxy.tunnels.length;
        const result = await cluster.exec('taskflow', pods[0]!.metadata!.name!, 'grafana', ['ls', '-1', '/etc/grafana/provisioning/datasources']);
        expect(result.stdout).toContain('datasources.yaml');
        expect(proxy.tunnels.length).toBeGreaterThan(tunnelsBefore);
      } finally {
        await cluster.close?.();
      }
      expect(new Set(proxy.tunnels.map((t) => t.target))).toEqual(new Set([`kube-api.mfc.test:${port}`]));
    });

    it('goes direct for what NO_PROXY names (domains, hosts with ports, CIDRs, *) and for loopback servers', () => {
      for (const noProxy of ['.mfc.test', 'mfc.test', `kube-api.mfc.test:${port}`, '*', 'example.com, *.mfc.test']) {
        const loaded = loadKubeConfig(unresolvable(), '', { ...home, https_proxy: proxy.url, no_proxy: noProxy });
        expect({ noProxy, proxy: loaded.proxy, proxyUrl: loaded.kc.getCurrentCluster()?.proxyUrl }).toEqual({ noProxy, proxy: undefined, proxyUrl: undefined });
      }
      expect(loadKubeConfig(unresolvable(), '', { ...home, HTTPS_PROXY: proxy.url, NO_PROXY: 'kube-api.mfc.test:1' }).proxy).toBeDefined();
      expect(loadKubeConfig(simKubeconfig({ server: api.url, user: { token } }), '', { ...home, HTTPS_PROXY: proxy.url }).proxy).toBeUndefined();
      expect(loadKubeConfig(simKubeconfig({ server: 'https://10.1.2.3:6443', user: { token } }), '', { ...home, HTTPS_PROXY: proxy.url, NO_PROXY: '10.0.0.0/8' }).proxy).toBeUndefined();
      // An https server never takes HTTP_PROXY.
      expect(loadKubeConfig(unresolvable(), '', { ...home, HTTP_PROXY: proxy.url }).proxy).toBeUndefined();
    });

    it("uses the cluster's proxy-url over the environment, even for a loopback server, with its credentials masked", async () => {
      const authed = await connectProxy(() => port, `Basic ${b64('ci:proxy-pass-7d2e')}`);
      try {
        const proxyUrl = authed.url.replace('http://', 'http://ci:proxy-pass-7d2e@');
        const yaml = simKubeconfig({ server: api.url, cluster: { 'certificate-authority-data': b64(api.caPem), 'proxy-url': proxyUrl }, user: { token } });
        const loaded = loadKubeConfig(yaml, '', { ...home, HTTPS_PROXY: proxy.url });
        expect(loaded.proxy).toBe(`http://***@${authed.url.slice('http://'.length)}/ (proxy-url)`);
        expect(secrets.redact(`through ${proxyUrl}`)).not.toContain('proxy-pass-7d2e');
        proxy.tunnels.length = 0;
        expect(await clusterOf(loaded)).toMatch(/^v1\./);
        expect(authed.tunnels.map((t) => t.target)).toContain(`127.0.0.1:${port}`);
        expect(proxy.tunnels).toEqual([]);
      } finally {
        await authed.close();
      }
    });

    it('refuses a proxy-url of another scheme, as client-go does, without quoting it', () => {
      const err = failure(() => loadKubeConfig(unresolvable({ 'proxy-url': 'ftp://u:ftp-secret-99@proxy:21' }), '', home));
      expect(err.message).toContain('has a proxy-url with scheme "ftp"; it must be http, https or socks5');
      expect(err.message).not.toContain('ftp-secret-99');
    });
  });
});

describe('the proxy the environment gives, as Go reads it', () => {
  const NO_PROXY =
    'foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64';
  it.each([
    ['localhost', false],
    ['127.0.0.1', false],
    ['127.0.0.2', false],
    ['[::1]', false],
    ['[::2]', true],
    ['192.168.1.1', false],
    ['192.168.1.2', true],
    ['192.168.1.3', false],
    ['192.168.1.4', true],
    ['10.0.0.2', false],
    ['10.0.0.4', true],
    ['[2001:db8::52:0:1]', false],
    ['[2001:db8::52:0:2]', true],
    ['[2001:db8::52:0:3]', false],
    ['[2002:db8:a::123]', false],
    ['[fe80::424b:c8be:1643:a1b6]', true],
    ['barbaz.net', true],
    ['www.barbaz.net', false],
    ['foobar.com', false],
    ['www.foobar.com', false],
    ['foofoobar.com', true],
    ['baz.com', true],
    ['localhost.net', true],
    ['local.localhost', true],
    ['wildcard.io', true],
    ['nested.wildcard.io', false],
    ['awildcard.io', true],
  ])('%s:80 is proxied: %s', (host, proxied) => {
    const chosen = environmentProxy(`https://${host}:80`, { HTTPS_PROXY: 'proxy.example.org:3128', NO_PROXY });
    expect(chosen !== undefined).toBe(proxied);
    if (chosen) expect(chosen.url.href).toBe('http://proxy.example.org:3128/');
  });

  it('reads HTTPS_PROXY before https_proxy, HTTP_PROXY only for http servers, NO_PROXY before no_proxy, * for all', () => {
    expect(environmentProxy('https://k8s.example.com', { HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2' })?.from).toBe('HTTPS_PROXY');
    expect(environmentProxy('https://k8s.example.com', { https_proxy: 'http://b:2' })?.url.host).toBe('b:2');
    expect(environmentProxy('http://k8s.example.com', { HTTP_PROXY: 'socks5://s:1080' })?.url.protocol).toBe('socks5:');
    expect(environmentProxy('https://k8s.example.com', { HTTPS_PROXY: 'http://a:1', NO_PROXY: 'other.com', no_proxy: 'example.com' })).toBeDefined();
    expect(environmentProxy('https://k8s.example.com', { HTTPS_PROXY: 'http://a:1', no_proxy: 'example.com' })).toBeUndefined();
    expect(environmentProxy('https://10.9.8.7', { HTTPS_PROXY: 'http://a:1', NO_PROXY: '*' })).toBeUndefined();
    expect(environmentProxy('https://k8s.example.com', { HTTPS_PROXY: 'http://a:1', NO_PROXY: ':1,,  ' })).toBeDefined();
    expect(environmentProxy('https://k8s.example.com:6443', { HTTPS_PROXY: 'http://a:1', NO_PROXY: 'k8s.example.com:443' })).toBeDefined();
    expect(environmentProxy('https://k8s.example.com', { HTTPS_PROXY: 'http://a:1', NO_PROXY: 'k8s.example.com:443' })).toBeUndefined();
    expect(() => environmentProxy('https://k8s.example.com', { HTTPS_PROXY: 'ftp://a:1' })).toThrow(/scheme "ftp"/);
  });
});
