/**
 * The bundle (dist/) as it is released: self-contained (the runner runs it straight from the
 * repository, with no node_modules), small, loading only what a run needs, and with the licence
 * of every package it holds.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { actionDefaults, runAction } from './helpers/run-action.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]));
}

const unreachable = [
  'apiVersion: v1',
  'clusters: [{name: c, cluster: {server: "https://127.0.0.1:59997"}}]',
  'users: [{name: u, user: {token: bundle-test-token-3f9a}}]',
  'contexts: [{name: x, context: {cluster: c, user: u}}]',
  'current-context: x',
].join('\n');

/** Records every file Node loads, printed on stderr as the process exits. */
const LOAD_HOOK = `data:text/javascript,${encodeURIComponent(
  "import{registerHooks}from'node:module';const s=new Set();registerHooks({load(u,c,n){s.add(u);return n(u,c)}});process.on('exit',()=>process.stderr.write('loaded='+JSON.stringify([...s])+'\\n'))",
)}`;

/** Runs the action at `entry` as the runner does (every INPUT_*), returning the bundle files it loaded. */
function loadedBy(entry: string, inputs: Record<string, string>, cwd: string): { status: number | null; stdout: string; loaded: string[] } {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: cwd, RUNNER_TEMP: cwd };
  for (const [name, value] of Object.entries({ ...actionDefaults(), ...inputs })) env[`INPUT_${name.toUpperCase()}`] = value;
  const run = spawnSync(process.execPath, ['--import', LOAD_HOOK, entry], { env, cwd, encoding: 'utf8', timeout: 20_000 });
  const urls = JSON.parse(/^loaded=(.*)$/m.exec(run.stderr)?.[1] ?? '[]') as string[];
  const dist = dirname(entry);
  const loaded = urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u)).filter((f) => f.startsWith(`${dist}/`));
  return { status: run.status, stdout: run.stdout, loaded };
}

describe('the bundle (dist/)', () => {
  let copy: string;
  beforeAll(() => {
    // A copy far from the repository: no node_modules in any directory above it.
    copy = join(mkdtempSync(join(tmpdir(), 'mfc-bundle-')), 'dist');
    cpSync(DIST, copy, { recursive: true });
    for (let dir = dirname(copy); dir !== dirname(dir); dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  });
  afterAll(() => rmSync(dirname(copy), { recursive: true, force: true }));

  it('runs from a copy with no node_modules: a bad input is reported', async () => {
    const run = await runAction({ wait: 'banana' }, {}, { dist: copy });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/::error::Input 'wait' is invalid: "banana" is not a duration/);
  });

  it('runs from a copy with no node_modules: a failed run is checked, diagnosed and reported', async () => {
    const run = await runAction({ kubeconfig: unreachable, wait: '0', 'request-timeout': '2s', manifests: 'k8s/**/*.yaml' }, {}, { dist: copy, timeoutMs: 20_000 });
    expect(run.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ result: 'failed', 'failed-checks': 'cluster-access' });
    expect(run.report).toMatchObject({ rootCause: { checkId: 'cluster-access' } });
  });

  it('every file of the copy loads with no node_modules (the exec and port-forward streams too)', () => {
    // The chunks, and the sidecars (CommonJS files a chunk requires on first use: client-node's per-kubeconfig packages, llhttp).
    const modules = filesUnder(copy).filter((f) => /\.c?js$/.test(f) && !f.endsWith(join('cli', 'index.js')) && f !== join(copy, 'index.js'));
    expect(modules.filter((f) => f.endsWith('.cjs')).map((f) => relative(copy, f))).toEqual(expect.arrayContaining(['chunks/lazy-js-yaml.cjs', 'chunks/undici-llhttp-simd-wasm.cjs']));
    expect(modules.length).toBeGreaterThan(0);
    const script = `for (const f of ${JSON.stringify(modules)}) await import(f);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dirname(copy), encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('the CLI runs from the copy and exits 2 on a bad flag value', () => {
    const run = spawnSync(process.execPath, [join(copy, 'cli', 'index.js'), '--wait', 'banana'], { cwd: dirname(copy), encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '' } });
    expect(run.stderr).toMatch(/metrics-flow-check: Input 'wait' is invalid: "banana" is not a duration/);
    expect(run.status).toBe(2);
  });

  // client-node's packages for one kind of kubeconfig each are loaded on first use (scripts/bundle.ts):
  // from the copy, each still does its part, so the run fails only because nothing is there to answer.
  const server = 'server: "https://127.0.0.1:59997"';
  // [what, kubeconfig, what the failure says once the package did its part]
  const kinds: [string, string, RegExp][] = [
    // The SOCKS client dials the proxy, which is not there either.
    ['a socks5 proxy-url (socks)', unreachable.replace(server, `${server}, proxy-url: "socks5://127.0.0.1:59996"`), /127\.0\.0\.1:59996/],
    [
      'the oidc auth provider, its token expired (openid-client)',
      unreachable.replace(
        '{token: bundle-test-token-3f9a}',
        '{auth-provider: {name: oidc, config: {client-id: c, idp-issuer-url: "http://127.0.0.1:59995", refresh-token: bundle-test-refresh-77, id-token: "eyJhbGciOiJub25lIn0.eyJleHAiOjF9.x"}}}',
      ),
      // openid-client's own refusal of the issuer it is given (client-node 2.0 passes a string where its discovery takes a URL).
      /server/,
    ],
    [
      'the gcp auth provider running its command (jsonpath-plus)',
      unreachable.replace(
        '{token: bundle-test-token-3f9a}',
        `{auth-provider: {name: gcp, config: {cmd-path: "${process.execPath}", cmd-args: "-e 'console.log(JSON.stringify({t:\\"bundle-test-gcp-5d\\",e:\\"2999-01-01T00:00:00Z\\"}))'", token-key: "{.t}", expiry-key: "{.e}"}}}`,
      ),
      // The token was read from the command's output: the request went out, and nothing listens.
      /ECONNREFUSED/,
    ],
  ];
  it.each(kinds)('runs from the copy with %s: cluster-access fails on the unreachable server, nothing is missing', async (_, kubeconfig, says) => {
    const run = await runAction({ kubeconfig, wait: '0', 'request-timeout': '2s' }, {}, { dist: copy, timeoutMs: 20_000 });
    const access = (run.report?.checks as { id: string; summary: string }[] | undefined)?.find((c) => c.id === 'cluster-access');
    expect(run.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    expect(run.exitCode).toBe(1);
    expect(run.outputs['failed-checks']).toBe('cluster-access');
    expect(access?.summary).not.toMatch(/TypeError|is not a (function|constructor)|undefined/);
    expect(access?.summary).toMatch(says);
  });

  it('a bad input loads under 200 KB of the bundle: not the engine, the Kubernetes client or the HTTP stack', () => {
    const bad = loadedBy(join(copy, 'index.js'), { wait: 'banana' }, dirname(copy));
    expect(bad.stdout).toMatch(/::error::Input 'wait' is invalid/);
    const bytes = (files: string[]) => files.reduce((sum, f) => sum + statSync(f).size, 0);
    expect(bytes(bad.loaded)).toBeLessThan(200_000);
    // A run that gets past its inputs loads far more (what the bad input did not need).
    const failed = loadedBy(join(copy, 'index.js'), { kubeconfig: unreachable, wait: '0', 'request-timeout': '2s' }, dirname(copy));
    expect(failed.stdout).toContain('cluster-access');
    expect(bytes(failed.loaded)).toBeGreaterThan(bytes(bad.loaded) + 500_000);
    expect(bad.loaded.every((f) => failed.loaded.includes(f))).toBe(true);
  });

  it('stays under 1.5 MB of JavaScript in all', () => {
    const js = filesUnder(DIST).filter((f) => /\.c?js$/.test(f));
    expect(js.reduce((sum, f) => sum + statSync(f).size, 0)).toBeLessThan(1.5 * 1024 * 1024);
  });

  it('is ES modules with no source maps, and nothing of the machine that built it', () => {
    expect(JSON.parse(readFileSync(join(DIST, 'package.json'), 'utf8'))).toEqual({ type: 'module' });
    const files = filesUnder(DIST).map((f) => relative(DIST, f));
    expect(files.filter((f) => !/^(index\.js|cli\/index\.js|chunks\/[\w.-]+\.c?js|licenses\.txt|package\.json)$/.test(f))).toEqual([]);
    for (const f of files) expect(readFileSync(join(DIST, f), 'utf8')).not.toContain(ROOT);
  });
});

describe('dist/licenses.txt', () => {
  const text = readFileSync(join(DIST, 'licenses.txt'), 'utf8');
  /** Each entry: "name version", the licence id, then its text. */
  const entries = [...text.matchAll(/^(@?[\w.-]+(?:\/[\w.-]+)?) (\d+\.\d+\.\d+[\w.+-]*)\n([^\n]+)\n/gm)].map((m) => ({ name: m[1], version: m[2], license: m[3] }));

  it('names each bundled package with the version installed and its licence', () => {
    const names = entries.map((e) => e.name);
    for (const name of ['@actions/core', '@kubernetes/client-node', 'undici', 'yaml', 'ws', 'js-yaml', 'openid-client']) expect(names).toContain(name);
    for (const e of entries) {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', e.name, 'package.json'), 'utf8')) as { version: string; license: string };
      expect({ name: e.name, version: e.version, license: e.license }).toEqual({ name: e.name, version: pkg.version, license: pkg.license });
    }
    expect(entries.find((e) => e.name === '@kubernetes/client-node')?.license).toBe('Apache-2.0');
  });

  it('holds the licence text of each', () => {
    expect(text).toContain('Apache License');
    expect(text).toContain('Permission is hereby granted, free of charge');
    expect(text.split(/\n(?=@?[\w.-]+(?:\/[\w.-]+)? \d+\.\d+\.\d+[\w.+-]*\n)/).every((block) => block.split('\n').length > 3)).toBe(true);
  });

  it('lists only what is bundled: not @actions/http-client, which only getIDToken (never called) uses', () => {
    expect(entries.map((e) => e.name)).not.toContain('@actions/http-client');
    expect(entries.map((e) => e.name)).not.toContain('@vercel/ncc');
  });
});
