/**
 * Bad input fails at once, naming the input and the form it expects: through the CLI (exit code
 * 2, one line on stderr, no stack trace) and, for a representative subset, through the bundled
 * action as the runner runs it (exit 1, `::error::Input '<name>' is invalid: …`, no outputs).
 * Credentials given in a bad value never come back.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, EXIT, type CliIO } from '../src/cli.js';
import { runAction } from './helpers/run-action.js';

const TOKEN = 'bad-input-token-4f8e2a9c1d';
const URL_PASSWORD = 'url-pw-7b3d9e1f';
const SERVER_PASSWORD = 'server-pw-2c8a6f4e';

/** A kubeconfig whose API server refuses connections at once (should a bad input ever get through). */
function kubeconfig(o: { server?: string | null; user?: string; context?: string } = {}): string {
  const server = o.server === null ? '' : `server: "${o.server ?? 'https://127.0.0.1:1'}"`;
  return [
    'apiVersion: v1',
    `clusters: [{name: c, cluster: {${server}}}]`,
    `users: [{name: u, user: ${o.user ?? `{token: ${TOKEN}}`}}]`,
    'contexts: [{name: ci, context: {cluster: c, user: u}}, {name: other, context: {cluster: c, user: u}}]',
    `current-context: ${o.context ?? 'ci'}`,
    '',
  ].join('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'mfc-bad-input-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const GOOD_KUBECONFIG = file('good', kubeconfig());

interface Case {
  readonly title: string;
  /** Flags given on top of a readable kubeconfig, `wait: 0` and `request-timeout: 1s`. */
  readonly flags: Readonly<Record<string, string>>;
  readonly input: string;
  /** What the message must say about the expected form. */
  readonly expected: RegExp;
  /** Text that must not appear anywhere in the output. */
  readonly secret?: string;
}

const DURATION = /expected e\.g\. 90, 90s, 2m or 1m30s/;
const SERVICE = /expected name:port or namespace\/name:port, e\.g\. prometheus:9090/;
const SELECTOR = /expected comma-separated requirements such as app=prometheus/;
const URL_FORM = /expected (e\.g\. )?(an )?http/;
const DIRECT = { access: 'direct', 'prometheus-url': 'http://prometheus.example.com', 'grafana-url': 'http://grafana.example.com' };

const CASES: readonly Case[] = [
  // kubeconfig
  { title: 'a kubeconfig file that is not YAML', flags: { kubeconfig: file('notyaml', `clusters: [\n  token: ${TOKEN}\n  {{{`) }, input: 'kubeconfig', expected: /kubeconfig YAML|YAML syntax error/, secret: TOKEN },
  { title: 'base64 of garbage', flags: { kubeconfig: Buffer.from('\u0000\u00ff garbage, not a kubeconfig at all '.repeat(4)).toString('base64') }, input: 'kubeconfig', expected: /nor base64 of it/ },
  { title: 'a context that does not exist', flags: { context: 'prod' }, input: 'context', expected: /"prod" is not in .*it has: ci, other/ },
  { title: 'a cluster without a server', flags: { kubeconfig: file('noserver', kubeconfig({ server: null })) }, input: 'kubeconfig', expected: /server/, secret: TOKEN },
  {
    title: 'a server that is not an http(s) URL, with a password in it',
    flags: { kubeconfig: file('ftpserver', kubeconfig({ server: `ftp://admin:${SERVER_PASSWORD}@10.0.0.1` })) },
    input: 'kubeconfig',
    expected: /expected an https:\/\/ URL/,
    secret: SERVER_PASSWORD,
  },
  { title: 'a user without credentials', flags: { kubeconfig: file('nocreds', kubeconfig({ user: '{username: admin}' })) }, input: 'kubeconfig', expected: /has no credentials \(token, client certificate/ },
  { title: 'a kubeconfig file that does not exist', flags: { kubeconfig: join(dir, 'missing', 'config') }, input: 'kubeconfig', expected: /does not exist/ },
  { title: 'a tokenFile that cannot be read', flags: { kubeconfig: file('tokenfile', kubeconfig({ user: '{tokenFile: no/such/token}' })) }, input: 'kubeconfig', expected: /the tokenFile \/.*\/no\/such\/token of user "u" .* cannot be read \(ENOENT\)/ },
  {
    title: 'a proxy-url of another scheme, with a password in it',
    flags: { kubeconfig: file('proxyurl', kubeconfig().replace('server: "https://127.0.0.1:1"', `server: "https://127.0.0.1:1", proxy-url: "ftp://u:${SERVER_PASSWORD}@proxy:21"`)) },
    input: 'kubeconfig',
    expected: /has a proxy-url with scheme "ftp"; it must be http, https or socks5/,
    secret: SERVER_PASSWORD,
  },
  // path prefixes
  ...['https://example.com/prometheus', '/prom etheus', '/a/../b', '/a//b', '/x?y=1'].map(
    (value): Case => ({ title: `prometheus-path ${JSON.stringify(value)}`, flags: { 'prometheus-path': value }, input: 'prometheus-path', expected: /expected a path such as \/prometheus .*, or \/ for none/ }),
  ),
  { title: 'grafana-path "%2e%2e"', flags: { 'grafana-path': '/%2e%2e' }, input: 'grafana-path', expected: /expected a path such as \/grafana .*, or \/ for none/ },
  // durations
  ...['10x', '-5s', '1h30', '2d', '99999999999999999999s', '2h', '1.5s', ''].filter(Boolean).map(
    (value): Case => ({ title: `wait ${JSON.stringify(value)}`, flags: { wait: value }, input: 'wait', expected: DURATION }),
  ),
  { title: 'request-timeout 0', flags: { 'request-timeout': '0' }, input: 'request-timeout', expected: /expected a positive duration/ },
  { title: 'request-timeout 10x', flags: { 'request-timeout': '10x' }, input: 'request-timeout', expected: DURATION },
  // selectors
  ...['app===x', 'app in ()', 'app=a b', '=x', '!!app', 'app in (a', 'tier notin a', `app=${'x'.repeat(64)}`, 'Ünïcode=1', 'a/b/c=1'].map(
    (value): Case => ({ title: `prometheus-selector ${JSON.stringify(value)}`, flags: { 'prometheus-selector': value }, input: 'prometheus-selector', expected: SELECTOR }),
  ),
  { title: 'grafana-selector ","', flags: { 'grafana-selector': ',' }, input: 'grafana-selector', expected: /selects every pod/ },
  // Service references
  ...['prometheus', 'prometheus:0', 'prometheus:99999', 'Prom_etheus:9090', ':9090', 'prometheus:', 'a:b:c', 'prometheus:http_metrics'].map(
    (value): Case => ({ title: `prometheus-service ${JSON.stringify(value)}`, flags: { 'prometheus-service': value }, input: 'prometheus-service', expected: SERVICE }),
  ),
  { title: 'grafana-service "grafana:65536"', flags: { 'grafana-service': 'grafana:65536' }, input: 'grafana-service', expected: SERVICE },
  // URLs with access direct
  { title: 'prometheus-url ftp://x', flags: { ...DIRECT, 'prometheus-url': 'ftp://x' }, input: 'prometheus-url', expected: URL_FORM },
  { title: 'prometheus-url "not a url"', flags: { ...DIRECT, 'prometheus-url': 'not a url' }, input: 'prometheus-url', expected: URL_FORM },
  { title: 'grafana-url with credentials', flags: { ...DIRECT, 'grafana-url': `http://admin:${URL_PASSWORD}@grafana` }, input: 'grafana-url', expected: /remove them from the URL/, secret: URL_PASSWORD },
  { title: 'prometheus-url with credentials that does not parse', flags: { ...DIRECT, 'prometheus-url': `http://admin:${URL_PASSWORD}@prom etheus` }, input: 'prometheus-url', expected: URL_FORM, secret: URL_PASSWORD },
  { title: 'prometheus-url with a query', flags: { ...DIRECT, 'prometheus-url': `http://p/?next=http://admin:${URL_PASSWORD}@x` }, input: 'prometheus-url', expected: /expected a base URL/, secret: URL_PASSWORD },
  { title: 'prometheus-url missing with access direct', flags: { access: 'direct', 'grafana-url': 'http://g' }, input: 'prometheus-url', expected: /required with access 'direct'/ },
  { title: 'grafana-url given without access direct', flags: { 'grafana-url': 'http://g' }, input: 'grafana-url', expected: /only used with access 'direct'/ },
  { title: 'datasource-url with credentials', flags: { 'datasource-url': `http://admin:${URL_PASSWORD}@prometheus:9090` }, input: 'datasource-url', expected: /remove them from the URL/, secret: URL_PASSWORD },
  { title: 'a URL with a password in a non-URL input', flags: { 'prometheus-service': `http://admin:${URL_PASSWORD}@prometheus:9090` }, input: 'prometheus-service', expected: SERVICE, secret: URL_PASSWORD },
  // lists, booleans, modes, names
  { title: 'an unknown id in skip-checks', flags: { 'skip-checks': 'grafana-query, grafana-qeury' }, input: 'skip-checks', expected: /unknown check id "grafana-qeury"; valid ids: cluster-access, / },
  ...['maybe', 'tru', 'on', '2'].map((value): Case => ({ title: `fail-on-warning ${value}`, flags: { 'fail-on-warning': value }, input: 'fail-on-warning', expected: /expected true or false/ })),
  ...['ssh', 'kubectl', 'port_forward'].map((value): Case => ({ title: `access ${value}`, flags: { access: value }, input: 'access', expected: /expected proxy, port-forward or direct/ })),
  { title: 'min-targets-up -1', flags: { 'min-targets-up': '-1' }, input: 'min-targets-up', expected: /expected 0, 1, 2/ },
  { title: 'namespace Task_Flow', flags: { namespace: 'Task_Flow' }, input: 'namespace', expected: /DNS-1123 label/ },
  { title: 'datasource-mount-path relative', flags: { 'datasource-mount-path': 'etc/grafana' }, input: 'datasource-mount-path', expected: /expected e\.g\. \/etc\/grafana/ },
  { title: 'expected-targets with a space', flags: { 'expected-targets': 'backend api' }, input: 'expected-targets', expected: /comma-separated list/ },
];

function fakeIO(): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    isTTY: false,
    env: {},
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
  };
  return io;
}

async function runCli(argv: readonly string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  const io = fakeIO();
  const started = Date.now();
  const code = await cli(argv, io);
  return { code, out: io.out, err: io.err, ms: Date.now() - started };
}

const argsOf = (flags: Readonly<Record<string, string>>): string[] =>
  Object.entries({ kubeconfig: GOOD_KUBECONFIG, wait: '0', 'request-timeout': '1s', ...flags }).map(([name, value]) => `--${name}=${value}`);

const STACK = /\n\s+at /;

describe('bad input through the CLI', () => {
  it.each(CASES.map((c) => [c.title, c] as const))('%s: exit 2 at once, naming the input and the expected form', async (_, c) => {
    const run = await runCli(argsOf(c.flags));
    expect(run.err).toMatch(new RegExp(`^metrics-flow-check: Input '${c.input}' is invalid: `));
    expect(run.err).toMatch(c.expected);
    expect(run.err).not.toMatch(STACK);
    expect(run.out).toBe('');
    expect(run.code).toBe(EXIT.badInput);
    expect(run.ms).toBeLessThan(2_000);
    if (c.secret) expect(run.err).not.toContain(c.secret);
  });

  it.each([
    ['an unknown flag', ['--namespce', 'taskflow'], /--namespce/],
    ['a flag without its value', ['--wait'], /--wait/],
    ['a positional argument', ['taskflow'], /taskflow|positional/i],
    ['--lang de', ['--lang', 'de'], /--lang must be en or fr, not "de"/],
  ])('%s: exit 2, naming the flag', async (_, argv, message) => {
    const run = await runCli([`--kubeconfig=${GOOD_KUBECONFIG}`, ...argv]);
    expect(run.err).toMatch(message);
    expect(run.err).toContain('metrics-flow-check: ');
    expect(run.err).not.toMatch(STACK);
    expect(run.code).toBe(EXIT.badInput);
  });
});

/** The subset run through dist/index.js: inputs the runner passes as INPUT_* variables. */
const ACTION_CASES: readonly Case[] = CASES.filter((c) =>
  [
    'a kubeconfig file that is not YAML',
    'base64 of garbage',
    'a context that does not exist',
    'a server that is not an http(s) URL, with a password in it',
    'a user without credentials',
    'wait "1h30"',
    'prometheus-selector "app in ()"',
    'prometheus-service "Prom_etheus:9090"',
    'grafana-url with credentials',
    'an unknown id in skip-checks',
    'fail-on-warning maybe',
    'access ssh',
  ].includes(c.title),
);

/** The action takes the kubeconfig's content, not a path. */
const KUBECONFIG_CONTENT: Record<string, string> = {
  'a kubeconfig file that is not YAML': `clusters: [\n  token: ${TOKEN}\n  {{{`,
  'a server that is not an http(s) URL, with a password in it': kubeconfig({ server: `ftp://admin:${SERVER_PASSWORD}@10.0.0.1` }),
  'a user without credentials': Buffer.from(kubeconfig({ user: '{username: admin}' })).toString('base64'),
};

describe('bad input through the action (dist/index.js)', () => {
  it('covers a representative subset', () => {
    expect(ACTION_CASES).toHaveLength(12);
  });

  it.each(ACTION_CASES.map((c) => [c.title, c] as const))('%s: fails at once with ::error::, naming the input; no outputs', async (_, c) => {
    const inputs = { kubeconfig: kubeconfig(), wait: '0', 'request-timeout': '1s', ...c.flags };
    inputs.kubeconfig = KUBECONFIG_CONTENT[c.title] ?? inputs.kubeconfig;
    const run = await runAction(inputs);
    expect(run.exitCode).toBe(1);
    const error = run.annotations.find((a) => a.level === 'error');
    expect(error?.message).toMatch(new RegExp(`^Input '${c.input}' is invalid: `));
    expect(error?.message).toMatch(c.expected);
    expect(run.outputs).toEqual({});
    expect(run.visibleStdout + run.stderr).not.toMatch(STACK);
    expect(run.ms).toBeLessThan(5_000);
    for (const secret of [TOKEN, URL_PASSWORD, SERVER_PASSWORD]) expect(run.visibleStdout + run.stderr).not.toContain(secret);
  });
});
